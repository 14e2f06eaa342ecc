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
import { createPool, ollama, openrouter, type Pool } from "../../mod.ts";
import { kvStorage } from "../../adapters/cloudflare.ts";
import { neonStorage } from "../../adapters/neon.ts";
import { upstashStorage } from "../../adapters/upstash.ts";

/** The part of Workers' `ExecutionContext` the pool uses (no @cloudflare/workers-types needed). */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** The bindings `wrangler.toml` (and the dashboard's secrets) provide. */
export interface Env {
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
  ADMIN_TOKEN?: string;
  OLLAMA_BASE_URL?: string;
  OPENROUTER_BASE_URL?: string;
  /** Browser origins allowed on the proxy routes, comma-separated. @default "*" */
  CORS_ORIGINS?: string;
  /** Statistics are written at most this often (ms). @default 5000 */
  FLUSH_INTERVAL_MS?: string;
}

function storageFor(env: Env): Storage {
  if (env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN) {
    return upstashStorage({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
  }
  if (env.DATABASE_URL) {
    return neonStorage({
      connectionString: env.DATABASE_URL,
      wsProxy: env.NEON_WS_PROXY || undefined,
      secureWebSocket: env.NEON_SECURE_WEBSOCKET !== "false",
      // A pooled connection would belong to the request that opened it; another request using it hangs.
      connectionPerQuery: true,
    });
  }
  if (env.KV) return kvStorage(env.KV);
  throw new Error("[ollama-api-pool] no storage: set UPSTASH_REDIS_REST_URL + UPSTASH_REDIS_REST_TOKEN, DATABASE_URL, or bind a KV namespace as KV");
}

// Bindings exist only inside a request on Workers, so the pool is built on the first one and
// then reused for the isolate's lifetime (its keys, tokens and counters live in memory).
let pool: Pool | undefined;

function build(env: Env): Pool {
  return createPool({
    providers: [
      ollama({ baseURL: env.OLLAMA_BASE_URL || undefined }),
      openrouter({ baseURL: env.OPENROUTER_BASE_URL || undefined }),
    ],
    storage: storageFor(env),
    auth: { adminToken: env.ADMIN_TOKEN || undefined },
    corsOrigins: env.CORS_ORIGINS || undefined,
    flushIntervalMs: env.FLUSH_INTERVAL_MS ? Number(env.FLUSH_INTERVAL_MS) : undefined,
  });
}

export default {
  // The pool hands its statistics flush to ctx.waitUntil, so storage writes outlive the response.
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    pool ??= build(env);
    return pool.fetch(request, env, ctx);
  },
};
