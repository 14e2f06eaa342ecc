/**
 * Exact counters on Redis: one hash per record, HINCRBY for sums and a small script for
 * maxima, all in one pipeline per flush. Takes the ioredis client the unstorage redis driver
 * already holds (no import of ioredis here: src/ stays runtime-free).
 * @module
 */
import type { CounterBatch, Counters, CounterSink } from "./counters.ts";

/** The part of an ioredis client this sink uses. */
export interface RedisLike {
  pipeline(): {
    hincrby(key: string, field: string, n: number): unknown;
    eval(script: string, numKeys: number, ...args: Array<string | number>): unknown;
    hgetall(key: string): unknown;
    unlink(key: string): unknown;
    exec(): Promise<Array<[Error | null, unknown]> | null>;
  };
}

// Raises each field to at least the given value (lastUsed timestamps). Shared with the Upstash sink.
export const MAX_SCRIPT = `for i = 1, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '-1')
  if tonumber(ARGV[i + 1]) > cur then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1`;

async function run(p: ReturnType<RedisLike["pipeline"]>): Promise<unknown[]> {
  const results = (await p.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0];
  return results.map(([, v]) => v);
}

/** Counter sink over a Redis client; `prefix` is the unstorage driver's `base` (may be ""). */
export function redisCounterSink(client: RedisLike, prefix = ""): CounterSink {
  const key = (record: string): string => (prefix ? `${prefix}:${record}` : record);
  return {
    async apply(batch: CounterBatch) {
      const p = client.pipeline();
      for (const [record, d] of batch) {
        for (const f in d.add) p.hincrby(key(record), f, d.add[f]);
        const max = Object.entries(d.max).flat();
        if (max.length) p.eval(MAX_SCRIPT, 1, key(record), ...max);
      }
      await run(p);
    },
    async remove(records: string[]) {
      if (records.length === 0) return;
      const p = client.pipeline();
      for (const r of records) p.unlink(key(r));
      await run(p);
    },
    async read(records: string[]) {
      if (records.length === 0) return [];
      const p = client.pipeline();
      for (const r of records) p.hgetall(key(r));
      const rows = await run(p);
      return rows.map((row) => {
        const out: Counters = {};
        for (const [f, v] of Object.entries((row ?? {}) as Record<string, string>)) out[f] = Number(v);
        return out;
      });
    },
  };
}
