/**
 * How often an instance syncs with the shared store. Each sync costs at least one store command,
 * and some stores bill per command (Upstash), so an instance that nobody uses slows down: after
 * a minute without a request that presents credentials and without a change in the feed, it
 * polls every 30 s instead of every `syncIntervalMs`. Its view may then be up to 30 s old, so the
 * first such request after the quiet spell first catches up (one sync, waited for at most 1 s),
 * and the instance is brisk again. Requests without credentials (health probes, public pages)
 * neither wake it nor wait: they use no key or token.
 * @module
 */

/** Without a request or a change for this long, an instance is quiet. */
export const QUIET_AFTER_MS = 60_000;
/** A quiet instance's sync interval (or `syncIntervalMs`, if that is longer). */
export const QUIET_SYNC_MS = 30_000;
/** The longest a request waits for a quiet instance to catch up; then it is served from memory. */
export const CATCH_UP_WAIT_MS = 1_000;

/** Whether a request presents something the pool checks against keys, tokens or sessions. */
export function presentsCredentials(headers: Headers): boolean {
  return headers.has("authorization") || headers.has("x-api-key") || headers.has("cookie");
}

/** The sync schedule of one instance. */
export class SyncPace {
  #syncIntervalMs: number;
  #now: () => number;
  /** When the shared view last changed (the change feed's `movedAt`). */
  #changedAt: () => number;
  /** Whether local changes wait to be written (they keep the instance brisk until written). */
  #pending: () => boolean;
  #lastRequest: number;

  constructor(syncIntervalMs: number, now: () => number, changedAt: () => number, pending: () => boolean) {
    this.#syncIntervalMs = syncIntervalMs;
    this.#now = now;
    this.#changedAt = changedAt;
    this.#pending = pending;
    this.#lastRequest = now(); // brisk for the first minute after start
  }

  quiet(now = this.#now()): boolean {
    return !this.#pending() && now - Math.max(this.#lastRequest, this.#changedAt()) > QUIET_AFTER_MS;
  }

  /** Milliseconds between syncs right now. */
  interval(now = this.#now()): number {
    return this.quiet(now) ? Math.max(this.#syncIntervalMs, QUIET_SYNC_MS) : this.#syncIntervalMs;
  }

  /**
   * Notes a request that presents credentials; true when the instance was quiet and its last
   * sync started more than `syncIntervalMs` ago, so the request should wait for a catch-up.
   */
  request(lastSync: number): boolean {
    const now = this.#now();
    const wasQuiet = this.quiet(now);
    this.#lastRequest = now;
    return wasQuiet && now - lastSync > this.#syncIntervalMs;
  }
}

/** `work`, or nothing after `ms`, whichever comes first; `work`'s failure is left to its owner. */
export async function waitAtMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work.then(() => {}, () => {}), timeUp]);
  } finally {
    clearTimeout(timer);
  }
}
