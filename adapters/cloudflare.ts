/**
 * Cloudflare KV storage for Workers: pass the binding from `env` explicitly.
 * KV has no atomic increment: each isolate batches its counters and merges them with
 * read-modify-write, so concurrent flushes from several isolates can overwrite each other's
 * increments (bounded by what one flush carries). Where counts must be exact on Workers, use
 * Upstash (`ollama-api-pool/upstash`) or Postgres through the Neon driver.
 * @example
 * import { kvStorage } from "ollama-api-pool/cloudflare";
 * export default { fetch: (req, env, ctx) => (pool ??= createPool({ providers: [ollama()], storage: kvStorage(env.KV) })).fetch(req, env, ctx) };
 * @module
 */
import { createStorage, type Storage } from "unstorage";
import cloudflareKVBindingDriver from "unstorage/drivers/cloudflare-kv-binding";

/** A `Storage` on a KV namespace binding. */
export function kvStorage(binding: unknown): Storage {
  // deno-lint-ignore no-explicit-any
  return createStorage({ driver: cloudflareKVBindingDriver({ binding: binding as any }) });
}
