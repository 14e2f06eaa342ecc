/**
 * The Workers example run locally, in workerd through miniflare: the worker is bundled the way
 * wrangler bundles a modules worker, and wrangler.toml's compatibility date applies. Used by
 * `npm run start:workers` (dev.ts) and by tests/workers.test.ts, so the test runs what you run.
 * @module
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, stop as stopEsbuild } from "esbuild";
import { Miniflare } from "miniflare";

const HERE = fileURLToPath(new URL(".", import.meta.url));

/**
 * Bundles worker.ts into `outDir/worker.js` with wrangler's settings for a modules worker: ESM,
 * the workerd/worker/browser export conditions and no Node built-ins (nodejs_compat is off), so
 * a stray node:* import in the pool fails here as it would on Cloudflare.
 */
export async function bundleWorker(outDir: string): Promise<string> {
  const script = join(outDir, "worker.js");
  await build({
    entryPoints: [join(HERE, "worker.ts")],
    outfile: script,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    logLevel: "silent",
  });
  await stopEsbuild(); // ends esbuild's service process now rather than at exit
  return script;
}

/** The compatibility_date wrangler.toml sets (what Cloudflare would run the worker with). */
export async function compatibilityDate(): Promise<string> {
  const toml = await readFile(join(HERE, "wrangler.toml"), "utf8");
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  if (!date) throw new Error("examples/workers/wrangler.toml names no compatibility_date");
  return date;
}

/** Options of {@link startLocalWorker}. */
export interface LocalWorkerOptions {
  /** Folder for the bundle. */
  outDir: string;
  /** The worker's bindings besides KV (ADMIN_TOKEN, OLLAMA_BASE_URL, …); empty values are left out. */
  bindings: Record<string, string | undefined>;
  /** Serve HTTP on this port (0: a free one); without it, reach the worker with `dispatchFetch`. */
  port?: number;
  host?: string;
  /** Keep KV in this folder across restarts; without it KV lives in memory. */
  kvDir?: string;
}

/** Bundles and starts the worker; `await mf.ready` gives its URL when a port was asked for. */
export async function startLocalWorker(o: LocalWorkerOptions): Promise<Miniflare> {
  const script = await bundleWorker(o.outDir);
  const bindings = Object.fromEntries(Object.entries(o.bindings).filter((e): e is [string, string] => Boolean(e[1])));
  const mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: o.outDir, // module paths must stay inside it
    compatibilityDate: await compatibilityDate(),
    cf: false, // otherwise miniflare downloads the Request.cf placeholder from the internet
    kvNamespaces: ["KV"],
    ...(o.kvDir ? { kvPersist: o.kvDir } : {}),
    ...(o.port === undefined ? {} : { port: o.port, host: o.host ?? "127.0.0.1" }),
    bindings,
  });
  await mf.ready; // a runtime that fails to start rejects here
  return mf;
}
