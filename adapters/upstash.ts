/**
 * Upstash Redis over its REST API: unstorage's `upstash` driver on `@upstash/redis`, plus exact
 * counters (HINCRBY and the maxima script in one `/pipeline` request per flush), so several
 * instances, isolates or Deploy regions on one database count exactly. Everything goes over
 * `fetch`, so it runs on Node, Deno, Bun, Workers and Deno Deploy alike.
 * @example
 * import { upstashStorage } from "ollama-api-pool/upstash";
 * createPool({ providers: [ollama()], storage: upstashStorage({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN }) });
 * @module
 */
import type { Redis } from "@upstash/redis";
import { createStorage, type Driver, type Storage } from "unstorage";
import upstashDriverBase from "unstorage/drivers/upstash";
import type { CounterBatch, Counters, CounterSink } from "../src/store/counters.ts";
import { MAX_SCRIPT } from "../src/store/redis_counters.ts";

/** Options of {@link upstashStorage}. */
export interface UpstashStorageOptions {
  /** The database's REST URL (`UPSTASH_REDIS_REST_URL`), e.g. `https://…upstash.io`. */
  url: string;
  /** Its REST token (`UPSTASH_REDIS_REST_TOKEN`). */
  token: string;
  /**
   * Prefix of every key the pool writes.
   * @default "pool"
   */
  base?: string;
  /**
   * Attempts after a network error, per request (the client's own default is 5 over ~4 s; the
   * pool retries a failed flush itself, so one is enough).
   * @default 1
   */
  retries?: number;
  /**
   * Deadline of one request, body included. `@upstash/redis` has none: against an endpoint that
   * accepts and never answers, every storage call (admin writes, flushes) waited for good and the
   * outage was never reported. Past it the call fails like any outage.
   * @default 10000
   */
  timeoutMs?: number;
}

/**
 * Records per `/pipeline` request. A normal flush touches far fewer (one request per flush); after
 * a long outage up to 20,000 records wait, and one request for all of them (~120,000 commands,
 * ~10 MB) could pass Upstash's request size limit and fail on every retry.
 */
const RECORDS_PER_REQUEST = 1000;
/** Keys per SCAN page for `getKeys` (the driver's default would leave it to Redis: 10). */
const SCAN_COUNT = 1000;

/**
 * `@upstash/redis` puts the whole command into its error messages ("…, command was: [\"set\",
 * \"pool:keys:…\", <the record>]"), and storage errors reach the log and /health: cut it off, so
 * that no stored secret can show.
 */
function withoutCommand(err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`[upstash] ${message.replace(/,? ?command was:[\s\S]*$/, "")}`);
}

function guard<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw withoutCommand(err);
    }
  };
}

/** Exact counters on one hash per record, like the Redis backend, over `/pipeline`. */
function upstashCounterSink(client: () => Redis, prefix: string): CounterSink {
  const key = (record: string): string => (prefix ? `${prefix}:${record}` : record);
  return {
    apply: guard(async (batch: CounterBatch) => {
      const entries = [...batch];
      for (let i = 0; i < entries.length; i += RECORDS_PER_REQUEST) {
        const part = entries.slice(i, i + RECORDS_PER_REQUEST);
        const p = client().pipeline();
        for (const [record, d] of part) {
          for (const f in d.add) p.hincrby(key(record), f, d.add[f]);
          const max = Object.entries(d.max).flat().map(String);
          if (max.length) p.eval(MAX_SCRIPT, [key(record)], max);
        }
        if (p.length() > 0) await p.exec();
        // Written: if a later request fails, the pool puts back only what is still in the batch,
        // so these are not counted twice.
        for (const [record] of part) batch.delete(record);
      }
    }),
    remove: guard(async (records: string[]) => {
      for (let i = 0; i < records.length; i += RECORDS_PER_REQUEST) {
        await client().unlink(...records.slice(i, i + RECORDS_PER_REQUEST).map(key));
      }
    }),
    read: guard(async (records: string[]) => {
      const out: Counters[] = [];
      for (let i = 0; i < records.length; i += RECORDS_PER_REQUEST) {
        const p = client().pipeline();
        for (const r of records.slice(i, i + RECORDS_PER_REQUEST)) p.hgetall(key(r));
        const rows = p.length() > 0 ? await p.exec<Array<Record<string, unknown> | null>>() : [];
        for (const row of rows) {
          const c: Counters = {};
          for (const [f, v] of Object.entries(row ?? {})) c[f] = Number(v);
          out.push(c);
        }
      }
      return out;
    }),
  };
}

/** The unstorage `upstash` driver with sanitized errors and an exact counter sink. */
export function upstashDriver(options: UpstashStorageOptions): Driver {
  const base = options.base ?? "pool";
  const driver = upstashDriverBase({
    url: options.url,
    token: options.token,
    base,
    scanCount: SCAN_COUNT,
    retry: { retries: options.retries ?? 1 },
    // A new signal per request (the client calls the function each time).
    signal: () => AbortSignal.timeout(options.timeoutMs ?? 10_000),
    // No SDK/runtime headers on every request.
    enableTelemetry: false,
  });
  const client = driver.getInstance as () => Redis;
  const wrapped: Record<string, unknown> = { ...driver, counterSink: () => upstashCounterSink(client, base) };
  for (const [name, value] of Object.entries(driver)) {
    if (typeof value === "function" && name !== "getInstance") {
      wrapped[name] = guard(value as (...a: unknown[]) => Promise<unknown>);
    }
  }
  return wrapped as unknown as Driver;
}

/** A `Storage` on an Upstash Redis database, over HTTPS. */
export function upstashStorage(options: UpstashStorageOptions): Storage {
  if (!options.url || !options.token) {
    throw new TypeError(
      "[ollama-api-pool] [upstash] url and token are required (UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN)",
    );
  }
  return createStorage({ driver: upstashDriver(options) });
}
