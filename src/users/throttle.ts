/**
 * Fixed-window attempt counters in the store, for the user system's throttles (codes sent per
 * address and day, logins per address and per IP). Each hit is counted first and then read back
 * through the pool's counter sink, which is atomic on Redis and Postgres, so parallel requests
 * cannot all slip under a limit; on plain key/value storage one instance serializes its own hits.
 * Unlike the proxy's rate limits these are rare, so a storage round trip per hit is fine.
 * @module
 */
import type { CounterSink } from "../store/counters.ts";
import { serialized } from "./serial.ts";

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

/** A throttle named `name` (its records are `userlimits:<name>:<window>`). */
export function createThrottle(name: string, windowMs: number, sink: CounterSink, now: () => number): Throttle {
  const serial = serialized();
  return {
    hit(key, limit) {
      return serial(key, async () => {
        const t = now();
        const window = Math.floor(t / windowMs);
        const record = `userlimits:${name}:${window}`;
        await sink.apply(new Map([[record, { add: { [key]: 1 }, max: {} }]]));
        const [counts] = await sink.read([record]);
        // Two windows back is over for every instance: its record can go.
        sink.remove([`userlimits:${name}:${window - 2}`]).catch(() => {});
        return { allowed: (counts[key] ?? 0) <= limit, retryMs: (window + 1) * windowMs - t };
      });
    },
  };
}
