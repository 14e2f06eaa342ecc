/**
 * Redis storage: unstorage's redis driver on ioredis. Counters use HINCRBY on the same
 * connection, so several pool instances on one Redis count exactly.
 * @example
 * import { redisStorage } from "ollama-api-pool/redis";
 * createPool({ providers: [ollama()], storage: redisStorage("redis://127.0.0.1:6379") });
 * @module
 */
import { createStorage, type Storage } from "unstorage";
import redisDriver from "unstorage/drivers/redis";

/** Options of {@link redisStorage}. */
export interface RedisStorageOptions {
  /**
   * Prefix of every key the pool writes.
   * @default "pool"
   */
  base?: string;
  /**
   * Deadline of one command.
   * @default 10000
   */
  timeoutMs?: number;
}

/** A `Storage` on Redis at `url` (`redis://` or `rediss://`). */
export function redisStorage(url: string, options: RedisStorageOptions = {}): Storage {
  const driver = redisDriver({
    url,
    base: options.base ?? "pool",
    // Fail fast while Redis is down instead of queueing commands forever: the pool keeps
    // serving from memory and retries its writes on the next flush.
    maxRetriesPerRequest: 1,
    // Keys per SCAN page when listing (Redis's own default is 10: listing a database of 2,000
    // items took some 200 round trips).
    scanCount: 1000,
    // ioredis has no deadline of its own: against a Redis that accepts and never answers (a
    // network that drops packets) every storage call waited for good and the outage was never
    // reported. Past it the call fails like any outage.
    commandTimeout: options.timeoutMs ?? 10_000,
  });
  // Connection errors surface as failed commands, which the pool reports once and retries;
  // without a listener ioredis would print every reconnect attempt as an unhandled error.
  driver.getInstance?.().on("error", () => {});
  return createStorage({ driver });
}
