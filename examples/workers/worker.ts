/**
 * The pool as a Cloudflare Worker, on Workers KV. Locally: `npm run start:workers` (dev.ts, in
 * workerd). Deploy: `npx wrangler deploy` in this folder
 * (`wrangler.toml` names the KV binding; `wrangler secret put ADMIN_TOKEN`). In your own project
 * import from `ollama-api-pool` and `ollama-api-pool/cloudflare` instead of the relative paths.
 * @module
 */
import { createPool, ollama, openrouter, type Pool } from "../../mod.ts";
import { kvStorage } from "../../adapters/cloudflare.ts";

/** The part of Workers' `ExecutionContext` the pool uses (no @cloudflare/workers-types needed). */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** The bindings `wrangler.toml` (and the dashboard's secrets) provide. */
export interface Env {
  /** The KV namespace every record of the pool lives in. */
  KV: unknown;
  ADMIN_TOKEN?: string;
  OLLAMA_BASE_URL?: string;
  OPENROUTER_BASE_URL?: string;
  /** Browser origins allowed on the proxy routes, comma-separated. @default "*" */
  CORS_ORIGINS?: string;
  /** Statistics are written at most this often (ms); each write is a KV write. @default 5000 */
  FLUSH_INTERVAL_MS?: string;
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
    storage: kvStorage(env.KV),
    auth: { adminToken: env.ADMIN_TOKEN || undefined },
    corsOrigins: env.CORS_ORIGINS || undefined,
    flushIntervalMs: env.FLUSH_INTERVAL_MS ? Number(env.FLUSH_INTERVAL_MS) : undefined,
  });
}

export default {
  // The pool hands its statistics flush to ctx.waitUntil, so KV writes outlive the response.
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    pool ??= build(env);
    return pool.fetch(request, env, ctx);
  },
};
