/**
 * The Workers example on this machine: `npm run start:workers` (no Cloudflare account, no
 * internet). It serves http://127.0.0.1:8787 from workerd, the runtime Cloudflare runs, with KV
 * kept in `.data/workers-kv`.
 *
 * Environment: `PORT` (default 8787; 0 picks a free one), `HOST` (default 127.0.0.1),
 * `ADMIN_TOKEN` (unset: one is generated and logged once), `OLLAMA_BASE_URL`,
 * `OPENROUTER_BASE_URL`, `FLUSH_INTERVAL_MS`, `KV_DIR` (default `.data/workers-kv`).
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { startLocalWorker } from "./local.ts";

const env = process.env;
const outDir = await mkdtemp(join(tmpdir(), "pool-worker-"));
const kvDir = env.KV_DIR || ".data/workers-kv";
const mf = await startLocalWorker({
  outDir,
  kvDir,
  port: Number(env.PORT ?? 8787),
  host: env.HOST || "127.0.0.1",
  bindings: {
    ADMIN_TOKEN: env.ADMIN_TOKEN,
    OLLAMA_BASE_URL: env.OLLAMA_BASE_URL,
    OPENROUTER_BASE_URL: env.OPENROUTER_BASE_URL,
    FLUSH_INTERVAL_MS: env.FLUSH_INTERVAL_MS,
  },
});
const url = (await mf.ready).toString().replace(/\/$/, "");
console.log(`ollama-api-pool (workers, local workerd) listening on ${url} (KV in ${kvDir})`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await mf.dispose(); // stops workerd
  await rm(outDir, { recursive: true, force: true });
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
