/**
 * The pool as a Cloudflare Worker. Locally: `npm run start:workers` (dev.ts, in workerd, on KV).
 * Deploy: `npx wrangler deploy` in this folder
 * (`wrangler.toml`; `wrangler secret put ADMIN_TOKEN`). In your own project import from
 * `ollama-api-pool`, `ollama-api-pool/upstash`, `ollama-api-pool/neon` and
 * `ollama-api-pool/cloudflare` instead of the relative paths.
 *
 * Storage, the first that is configured:
 * - Upstash Redis (`UPSTASH_REDIS_REST_URL` var + `UPSTASH_REDIS_REST_TOKEN` secret): exact counters
 *   across isolates and locations, over HTTPS;
 * - Postgres through the Neon driver (`DATABASE_URL` secret): exact counters, over WebSockets;
 * - the `KV` namespace: counters merged by read-modify-write, which can lose increments between
 *   isolates.
 * @module
 */
import type { Storage } from "unstorage";
import { createPool, type Pool, poolOptionsFrom, Settings } from "../../mod.ts";
import { kvStorage } from "../../adapters/cloudflare.ts";
import { neonStorage } from "../../adapters/neon.ts";
import { upstashStorage } from "../../adapters/upstash.ts";

/** The part of Workers' `ExecutionContext` the pool uses (no @cloudflare/workers-types needed). */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * The bindings `wrangler.toml` (and the dashboard's secrets) provide: storage below, and any
 * setting of README's configuration table that is not about Node (`ADMIN_TOKEN`,
 * `OLLAMA_BASE_URL`, `FLUSH_INTERVAL_MS`, `MAX_ATTEMPTS`, `CORS_ORIGINS`, …), read by the same
 * rules as the Node server.
 */
export interface Env {
  [setting: string]: unknown;
  /** The KV namespace, used when neither Upstash nor Postgres is configured. */
  KV?: unknown;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  /** `postgres://…` of a Neon database (or your own Postgres behind a WebSocket proxy). */
  DATABASE_URL?: string;
  /** For your own Postgres: the WebSocket-to-TCP proxy, e.g. `pg-ws.example.com/`. */
  NEON_WS_PROXY?: string;
  /** "false" when that proxy speaks plain `ws:`. */
  NEON_SECURE_WEBSOCKET?: string;
}

function storageFor(env: Env): Storage {
  if (env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN) {
    return upstashStorage({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
  }
  if (env.DATABASE_URL) {
    return neonStorage({
      connectionString: env.DATABASE_URL,
      wsProxy: env.NEON_WS_PROXY || undefined,
      secureWebSocket: new Settings(env).bool("NEON_SECURE_WEBSOCKET"),
      // A pooled connection would belong to the request that opened it; another request using it hangs.
      connectionPerQuery: true,
    });
  }
  if (env.KV) return kvStorage(env.KV);
  throw new Error(
    "[ollama-api-pool] no storage: set UPSTASH_REDIS_REST_URL + UPSTASH_REDIS_REST_TOKEN, DATABASE_URL, or bind a KV namespace as KV",
  );
}

// Bindings exist only inside a request on Workers, so the pool is built on the first one and
// then reused for the isolate's lifetime (its keys, tokens and counters live in memory).
let pool: Pool | undefined;

function build(env: Env): Pool {
  return createPool({ ...poolOptionsFrom(new Settings(env)), storage: storageFor(env) });
}

export default {
  // The pool hands its statistics flush to ctx.waitUntil, so storage writes outlive the response.
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    pool ??= build(env);
    return pool.fetch(request, env, ctx);
  },
};
