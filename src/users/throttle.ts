/**
 * Fixed-window attempt counters in the store, for the user system's throttles (codes sent per
 * address and day, logins per address and per IP) and the dashboard login. Each hit is counted first and then read back
 * through the pool's counter sink, which is atomic on Redis and Postgres, so parallel requests
 * cannot all slip under a limit; on plain key/value storage one instance serializes its own hits.
 * Unlike the proxy's rate limits these are rare, so a storage round trip per hit is fine.
 * @module
 */
import type { CounterSink } from "../store/counters.ts";
import { serialized } from "./serial.ts";
import { limitKeys } from "../store/key_names.ts";

/** The outcome of one hit. */
export interface ThrottleResult {
  allowed: boolean;
  /** Milliseconds until the window ends (for `Retry-After`). */
  retryMs: number;
}

/** Counts hits per (name, key) in windows of `windowMs`. */
export interface Throttle {
  /** Counts one hit for `key`; not allowed once more than `limit` hits fell in this window. */
  hit(key: string, limit: number): Promise<ThrottleResult>;
}

/**
 * Records this instance writes per window, remembered so old windows can be deleted (no store
 * keeps counters with an expiry). Keys past it in a window (a client rotating addresses) share
 * one record, {@link OVERFLOW_KEY}: still throttled, and the store holds at most this many
 * records per window and throttle (~60 bytes each remembered here).
 */
export const MAX_TRACKED_PER_WINDOW = 50_000;
/** The shared key of a window's keys past {@link MAX_TRACKED_PER_WINDOW}. */
const OVERFLOW_KEY = "(overflow)";

/**
 * A throttle named `name`. Each key has its own record per window
 * (`userlimits:<name>:<window>:<key>`): hits on different keys never write the same record, so
 * a read-modify-write store cannot lose one key's count to another's, and a hit costs O(1)
 * whatever the number of keys.
 */
export function createThrottle(name: string, windowMs: number, sink: CounterSink, now: () => number): Throttle {
  const serial = serialized();
  const written = new Map<number, Set<string>>();
  const sweep = (window: number): void => {
    for (const [w, records] of written) {
      if (w >= window - 1) continue;
      written.delete(w);
      sink.remove([...records]).catch(() => {}); // best effort: a leftover only wastes space
    }
  };
  return {
    hit(key, limit) {
      const t = now();
      const window = Math.floor(t / windowMs);
      let list = written.get(window);
      if (!list) written.set(window, list = new Set());
      let record = limitKeys.throttle(name, window, key);
      if (!list.has(record) && list.size >= MAX_TRACKED_PER_WINDOW) {
        record = limitKeys.throttle(name, window, OVERFLOW_KEY);
      }
      list.add(record); // before the write: a record is always known to the sweep
      return serial(record, async () => {
        sweep(window);
        await sink.apply(new Map([[record, { add: { n: 1 }, max: {} }]]));
        const [counts] = await sink.read([record]);
        // This key's record two windows back is over for every instance.
        sink.remove([limitKeys.throttle(name, window - 2, key)]).catch(() => {});
        return { allowed: (counts.n ?? 0) <= limit, retryMs: (window + 1) * windowMs - t };
      });
    },
  };
}
