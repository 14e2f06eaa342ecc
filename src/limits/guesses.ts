/**
 * Credential guessing: failed admin-bearer and client-token checks are counted per client
 * address in the store (the same per-key, per-window records as the dashboard login throttle,
 * so instances share the count), and an address past the limit is answered 429 until the window
 * ends. For the admin bearer that holds for every credential presented, right or wrong (an admin
 * token may be chosen by a person, so a correct guess must look like a wrong one). For client
 * tokens the proxy asks only after a token failed to verify: client tokens are 48 random
 * characters, beyond guessing, and refusing a correct one would let anybody lock out every
 * client sharing their address. A successful check costs no storage access: only failures are
 * counted, and an address is refused from a map in memory once this instance has seen it go over
 * the limit.
 * @module
 */
import { PoolError } from "../errors.ts";
import type { CounterSink } from "../store/counters.ts";
import { createThrottle, type Throttle } from "../users/throttle.ts";

/** Failed admin-token checks (`/admin/*`, `/metrics`) allowed per client address and window. */
export const ADMIN_GUESSES_PER_WINDOW = 20;
/** Failed client-token checks on the proxy routes allowed per client address and window. */
export const TOKEN_GUESSES_PER_WINDOW = 50;
/** The window of both. */
export const GUESS_WINDOW_MS = 15 * 60_000;

/**
 * Most refused addresses remembered in memory (about 100 bytes each). Past it the oldest is
 * forgotten; its next wrong guess is counted in the store again and refused again.
 */
const MAX_REFUSED = 10_000;

/** Counts failed credential checks of one kind per client address. */
export class GuessThrottle {
  #throttle: Throttle;
  #limit: number;
  #what: string;
  #now: () => number;
  /** Address → when its refusal ends (epoch ms). */
  #refused = new Map<string, number>();

  constructor(name: string, what: string, limit: number, windowMs: number, sink: CounterSink, now: () => number) {
    this.#throttle = createThrottle(name, windowMs, sink, now);
    this.#limit = limit;
    this.#what = what;
    this.#now = now;
  }

  /** Throws 429 if this address already went over the limit; memory only. */
  check(ip: string | undefined): void {
    if (ip === undefined || this.#refused.size === 0) return;
    const until = this.#refused.get(ip);
    if (until === undefined) return;
    const left = until - this.#now();
    if (left > 0) throw this.#tooMany(left);
    this.#refused.delete(ip);
  }

  /**
   * Counts a failed check from `ip` (nothing without an address: one shared bucket for unknown
   * addresses would let anyone lock everybody out). Resolves to the 429 to answer instead of the
   * 401 once the address is past the limit.
   */
  async failed(ip: string | undefined): Promise<PoolError | undefined> {
    if (ip === undefined) return undefined;
    // Storage down: the 401 still goes out; the guess is just not counted.
    const r = await this.#throttle.hit(ip, this.#limit).catch(() => undefined);
    if (!r || r.allowed) return undefined;
    if (this.#refused.size >= MAX_REFUSED) this.#refused.delete(this.#refused.keys().next().value!);
    this.#refused.set(ip, this.#now() + r.retryMs);
    return this.#tooMany(r.retryMs);
  }

  #tooMany(retryMs: number): PoolError {
    const seconds = Math.max(1, Math.ceil(retryMs / 1000));
    return new PoolError(
      429,
      "too_many_failed_credentials",
      `too many wrong ${this.#what} from this address; retry in ${seconds} s`,
      {
        headers: { "retry-after": String(seconds) },
      },
    );
  }
}

/** The pool's two guess throttles. */
export interface GuessThrottles {
  admin: GuessThrottle;
  token: GuessThrottle;
}

export function createGuessThrottles(sink: CounterSink, now: () => number): GuessThrottles {
  return {
    admin: new GuessThrottle("admin-bearer", "admin tokens", ADMIN_GUESSES_PER_WINDOW, GUESS_WINDOW_MS, sink, now),
    token: new GuessThrottle("client-token", "client tokens", TOKEN_GUESSES_PER_WINDOW, GUESS_WINDOW_MS, sink, now),
  };
}
