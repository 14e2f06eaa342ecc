/**
 * Postgres storage through the Neon serverless driver (`@neondatabase/serverless`): an unstorage
 * driver over one key/value table with TTL, created on first use, plus exact counters with
 * `INSERT … ON CONFLICT … DO UPDATE SET value = value + excluded.value`.
 *
 * The driver speaks Postgres over WebSockets. Against Neon it works as it is; against your own
 * Postgres put a WebSocket-to-TCP proxy in front (e.g. `websockify 127.0.0.1:6543 127.0.0.1:5432`)
 * and pass `wsProxy: "127.0.0.1:6543/"`, `secureWebSocket: false` (docs/OPERATIONS.md). On Node < 22 pass
 * `webSocket` (the `ws` package); Deno, Bun and Workers have a global WebSocket.
 * @example
 * import { neonStorage } from "ollama-api-pool/neon";
 * createPool({ providers: [ollama()], storage: neonStorage({ connectionString: process.env.DATABASE_URL }) });
 * @module
 */
import { Client, neonConfig, Pool } from "@neondatabase/serverless";
import { createStorage, defineDriver, type Driver, type Storage } from "unstorage";
import type { CounterBatch, Counters, CounterSink } from "../src/store/counters.ts";

/** Options of {@link neonDriver}. */
export interface NeonDriverOptions {
  /** `postgres://user:password@host:port/db`. */
  connectionString: string;
  /**
   * Table of the key/value items; counters go to `<table>_counters`.
   * @default "ollama_pool_kv"
   */
  table?: string;
  /** A WebSocket-to-TCP proxy for a self-hosted Postgres, e.g. `"127.0.0.1:6543/"`. */
  wsProxy?: string;
  /**
   * Use `wss:`; false for a local proxy without TLS.
   * @default true
   */
  secureWebSocket?: boolean;
  /** WebSocket constructor where there is no global one (Node 20: the `ws` package). */
  webSocket?: unknown;
  /**
   * Connections in the pool.
   * @default 10
   */
  max?: number;
  /**
   * Open a connection for each query and close it after, instead of keeping a pool. For Cloudflare
   * Workers: a connection's WebSocket belongs to the request that opened it, and another request
   * that uses it hangs until the runtime cancels it. Costs a connect (and password check) per query;
   * the pool queries only in its background flush and sync, never per proxied request.
   * @default false
   */
  connectionPerQuery?: boolean;
  /**
   * Deadline of a connect and of a query. The driver has none: against a Postgres (or WebSocket
   * proxy) that accepts and never answers, every storage call waited for good and the outage was
   * never reported. Past it the call fails like any outage.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * How often a write with a TTL also deletes the rows whose TTL is over. Reads skip such rows
   * anyway; without the delete they would stay in the table for good.
   * @default 60000
   */
  purgeEveryMs?: number;
}

type Row = Record<string, unknown>;
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** The Neon/Postgres unstorage driver. (Typed explicitly: JSR rejects inferred public types.) */
export const neonDriver: (
  opts: NeonDriverOptions,
) => Driver<NeonDriverOptions, { query(sql: string, params?: unknown[]): Promise<Row[]> }> = defineDriver(
  (opts: NeonDriverOptions) => {
    const table = opts.table ?? "ollama_pool_kv";
    if (!IDENT.test(table)) {
      throw new TypeError(`[ollama-api-pool] [neon] table name "${table}" must be a plain lowercase identifier`);
    }
    const counters = `${table}_counters`;
    const deadlines = { connectionTimeoutMillis: opts.timeoutMs ?? 10_000, query_timeout: opts.timeoutMs ?? 10_000 };
    let pool: Pool | undefined;
    let ready: Promise<unknown> | undefined;

    let configured = false;
    const configure = (): void => {
      if (configured) return;
      configured = true;
      if (opts.webSocket) neonConfig.webSocketConstructor = opts.webSocket as typeof WebSocket;
      if (opts.wsProxy) {
        const proxy = opts.wsProxy;
        neonConfig.wsProxy = () => proxy;
        neonConfig.pipelineConnect = false;
        neonConfig.pipelineTLS = false;
      }
      if (opts.secureWebSocket === false) neonConfig.useSecureWebSocket = false;
    };
    const getPool = (): Pool => {
      if (pool) return pool;
      configure();
      pool = new Pool({ connectionString: opts.connectionString, max: opts.max ?? 10, ...deadlines });
      // An idle client's error (server restart) must not crash the process: the next query reconnects.
      pool.on("error", () => {});
      return pool;
    };
    const run = async (sql: string, params: unknown[]): Promise<Row[]> => {
      if (!opts.connectionPerQuery) return (await getPool().query(sql, params)).rows as Row[];
      configure();
      const client = new Client({ connectionString: opts.connectionString, ...deadlines });
      client.on("error", () => {}); // as for the pool: a dropped connection must not crash the isolate
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as Row[];
      } finally {
        client.end().catch(() => {});
      }
    };
    const query = async (sql: string, params: unknown[] = []): Promise<Row[]> => {
      // Concurrent CREATE TABLE IF NOT EXISTS from several instances can still collide in
      // Postgres's catalog; an advisory lock makes the first start of many instances safe.
      ready ??= run(
        `BEGIN;
       SELECT pg_advisory_xact_lock(7311996);
       CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at BIGINT);
       CREATE TABLE IF NOT EXISTS ${counters} (record TEXT NOT NULL, field TEXT NOT NULL, value BIGINT NOT NULL, PRIMARY KEY (record, field));
       COMMIT;`,
        [],
      ).catch((err) => {
        ready = undefined;
        throw err;
      });
      await ready;
      return await run(sql, params);
    };
    const live = "(expires_at IS NULL OR expires_at > $2)";
    const like = (base: string): string => `${base.replace(/[\\%_]/g, "\\$&")}%`;
    const ttlAt = (ttl?: number): number | null => (ttl ? Date.now() + ttl * 1000 : null);
    let lastPurge = -Infinity;
    /** Deletes expired rows when due; in the background: a write never waits for it. */
    const purgeIfDue = (): void => {
      const now = Date.now();
      if (now - lastPurge < (opts.purgeEveryMs ?? 60_000)) return;
      lastPurge = now;
      query(`DELETE FROM ${table} WHERE expires_at IS NOT NULL AND expires_at <= $1`, [now]).catch(() => {
        lastPurge = -Infinity; // try again at the next write
      });
    };

    const sink: CounterSink = {
      async apply(batch: CounterBatch) {
        const add: [string[], string[], number[]] = [[], [], []];
        const max: [string[], string[], number[]] = [[], [], []];
        for (const [record, d] of batch) {
          for (const f in d.add) add[0].push(record), add[1].push(f), add[2].push(d.add[f]);
          for (const f in d.max) max[0].push(record), max[1].push(f), max[2].push(d.max[f]);
        }
        // Rows are upserted in (record, field) order, so that instances flushing at once lock them
        // in the same order and cannot deadlock; a deadlock reported anyway is retried.
        const upsert = (op: string) =>
          `INSERT INTO ${counters} (record, field, value)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(record, field, value) ORDER BY record, field
         ON CONFLICT (record, field) DO UPDATE SET value = ${op}`;
        const run = async (sql: string, params: unknown[]) => {
          for (let attempt = 1;; attempt++) {
            try {
              return await query(sql, params);
            } catch (err) {
              if ((err as { code?: string }).code !== "40P01" || attempt >= 3) throw err;
            }
          }
        };
        if (add[0].length) await run(upsert(`${counters}.value + excluded.value`), add);
        if (max[0].length) await run(upsert(`GREATEST(${counters}.value, excluded.value)`), max);
      },
      async remove(records: string[]) {
        if (records.length) await query(`DELETE FROM ${counters} WHERE record = ANY($1::text[])`, [records]);
      },
      async list(prefix: string) {
        const rows = await query(`SELECT DISTINCT record FROM ${counters} WHERE record LIKE $1`, [like(prefix)]);
        return rows.map((r) => r.record as string);
      },
      async read(records: string[]) {
        if (records.length === 0) return [];
        const rows = await query(`SELECT record, field, value FROM ${counters} WHERE record = ANY($1::text[])`, [
          records,
        ]);
        const by = new Map<string, Counters>(records.map((r) => [r, {}]));
        for (const row of rows) by.get(row.record as string)![row.field as string] = Number(row.value);
        return records.map((r) => by.get(r)!);
      },
    };

    return {
      name: "neon",
      options: opts,
      flags: { ttl: true },
      getInstance: () => ({ query }),
      counterSink: () => sink,
      async hasItem(key: string) {
        return (await query(`SELECT 1 FROM ${table} WHERE key = $1 AND ${live}`, [key, Date.now()])).length > 0;
      },
      async getItem(key: string) {
        const rows = await query(`SELECT value FROM ${table} WHERE key = $1 AND ${live}`, [key, Date.now()]);
        return (rows[0]?.value as string | undefined) ?? null;
      },
      async getItems(items: Array<{ key: string }>) {
        const keys = items.map((i) => i.key);
        const rows = await query(`SELECT key, value FROM ${table} WHERE key = ANY($1::text[]) AND ${live}`, [
          keys,
          Date.now(),
        ]);
        const by = new Map(rows.map((r) => [r.key as string, r.value as string]));
        return keys.map((key) => ({ key, value: by.get(key) ?? null }));
      },
      async setItem(key: string, value: string, o: { ttl?: number } = {}) {
        await query(
          `INSERT INTO ${table} (key, value, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
          [key, value, ttlAt(o.ttl)],
        );
        if (o.ttl) purgeIfDue();
      },
      async setItems(
        items: Array<{ key: string; value: string; options?: { ttl?: number } }>,
        common: { ttl?: number } = {},
      ) {
        if (items.length === 0) return;
        await query(
          `INSERT INTO ${table} (key, value, expires_at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
          [items.map((i) => i.key), items.map((i) => i.value), items.map((i) => ttlAt(i.options?.ttl ?? common.ttl))],
        );
        if (common.ttl || items.some((i) => i.options?.ttl)) purgeIfDue();
      },
      async removeItem(key: string) {
        await query(`DELETE FROM ${table} WHERE key = $1`, [key]);
      },
      async getKeys(base: string) {
        const rows = await query(`SELECT key FROM ${table} WHERE key LIKE $1 AND ${live}`, [like(base), Date.now()]);
        return rows.map((r) => r.key as string);
      },
      async clear(base: string) {
        await query(`DELETE FROM ${table} WHERE key LIKE $1`, [like(base)]);
        await query(`DELETE FROM ${counters} WHERE record LIKE $1`, [like(base)]);
      },
      async dispose() {
        await pool?.end();
        pool = undefined;
        ready = undefined;
      },
    };
  },
);

/** A `Storage` on Postgres through the Neon driver. */
export function neonStorage(options: NeonDriverOptions): Storage {
  return createStorage({ driver: neonDriver(options) });
}
