/**
 * Picks the counter sink for a storage: atomic where the backend can be atomic, read-modify-write
 * otherwise.
 * @module
 */
import type { Storage } from "unstorage";
import { type CounterSink, kvCounterSink } from "./counters.ts";
import type { Quarantine } from "./quarantine.ts";
import { redisCounterSink, type RedisLike } from "./redis_counters.ts";
import { PREFIX } from "./key_names.ts";

/** A driver may offer exact counters itself (the Neon driver does). */
export interface CounterCapableDriver {
  counterSink?: () => CounterSink;
}

/** Atomic counters for Redis and counter-capable drivers; plain KV gets read-modify-write (unreadable records to `quarantine`). */
export function counterSinkFor(storage: Storage, quarantine?: Quarantine): CounterSink {
  const { driver } = storage.getMount(`${PREFIX.stats}:`);
  const own = (driver as CounterCapableDriver).counterSink;
  if (typeof own === "function") return own();
  if (driver.name === "redis" && typeof driver.getInstance === "function") {
    const base = ((driver.options as { base?: string } | undefined)?.base ?? "").replace(/:$/, "");
    return redisCounterSink(driver.getInstance() as RedisLike, base);
  }
  return kvCounterSink(storage, 128, quarantine);
}

/** Whether the sink is exact across instances (for /health and the README's promises). */
export function isAtomic(storage: Storage): boolean {
  const { driver } = storage.getMount(`${PREFIX.stats}:`);
  return typeof (driver as CounterCapableDriver).counterSink === "function" || driver.name === "redis";
}
