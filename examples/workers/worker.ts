/**
 * The pool as a Cloudflare Worker, on Workers KV. Deploy: `npx wrangler deploy` in this folder
 * (`wrangler.toml` names the KV binding; `wrangler secret put ADMIN_TOKEN`). In your own project
 * import from `ollama-api-pool` and `ollama-api-pool/cloudflare` instead of the relative paths.
 * @module
 */
import { createPool, type Pool, poolOptionsFrom, Settings } from "../../mod.ts";
import { kvStorage } from "../../adapters/cloudflare.ts";

/** The part of Workers' `ExecutionContext` the pool uses (no @cloudflare/workers-types needed). */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * The bindings `wrangler.toml` (and the dashboard's secrets) provide: `KV`, and any setting of
 * README's configuration table that is not about Node (`ADMIN_TOKEN`, `OLLAMA_BASE_URL`,
 * `FLUSH_INTERVAL_MS` — each statistics write is a KV write —, `MAX_ATTEMPTS`, …), read by the
 * same rules as the Node server.
 */
export interface Env {
  /** The KV namespace every record of the pool lives in. */
  KV: unknown;
  [setting: string]: unknown;
}

// Bindings exist only inside a request on Workers, so the pool is built on the first one and
// then reused for the isolate's lifetime (its keys, tokens and counters live in memory).
let pool: Pool | undefined;

function build(env: Env): Pool {
  return createPool({ ...poolOptionsFrom(new Settings(env)), storage: kvStorage(env.KV) });
}

export default {
  // The pool hands its statistics flush to ctx.waitUntil, so KV writes outlive the response.
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    pool ??= build(env);
    return pool.fetch(request, env, ctx);
  },
};
