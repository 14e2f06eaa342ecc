/**
 * The pool on Deno and Deno Deploy: `Deno.serve` with the pool's standard fetch handler.
 * Run: `npm run start:deno` (Deno comes with `npm ci`; with Deno on your PATH, `deno task start:deno`
 * or `deno run -A --unstable-kv --unstable-no-legacy-abort examples/deno/main.ts`).
 * `--unstable-no-legacy-abort`: by default Deno also aborts `request.signal` when an answer was
 * delivered in full (and warns about it), so the pool's client-gone listener ran on every request;
 * with it, the signal aborts only when the client leaves. Deno Deploy takes no flags: there the
 * old signal still works (the request is counted before it fires), it only costs that listener.
 *
 * Environment: the settings of README's configuration table that are not about Node (`PORT`,
 * default 8787, 0 picks a free one; `HOST`; `ADMIN_TOKEN`; `OLLAMA_BASE_URL`; `MAX_ATTEMPTS`; …),
 * read by the same rules as the Node server, and `STORAGE_URL`:
 * `memory:` (default, nothing kept), `denokv:` (Deno KV: the managed one on Deno Deploy, a local
 * SQLite file elsewhere), `denokv:./pool.sqlite`, or `upstash:` (Upstash Redis over HTTPS with
 * `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN`: exact counters across Deploy's regions).
 * @module
 */
import { createStorage, type Storage } from "unstorage";
import denoKvDriver from "unstorage/drivers/deno-kv";
import memoryDriver from "unstorage/drivers/memory";
import { createPool, poolOptionsFrom, Settings } from "../../mod.ts";
import { upstashStorage } from "../../adapters/upstash.ts";

// The few Deno APIs used here, typed locally: the project's tsc checks every example with Node's
// types only, and Deno itself type-checks against its real ones.
interface DenoApi {
  env: { get(name: string): string | undefined };
  serve(
    options: { port: number; hostname: string; onListen(addr: { hostname: string; port: number }): void },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Promise<Response>,
  ): { shutdown(): Promise<void> };
  addSignalListener(signal: "SIGTERM" | "SIGINT", handler: () => void): void;
  exit(code: number): never;
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
const settings = new Settings((name) => Deno.env.get(name));
const env = (name: string): string | undefined => Deno.env.get(name) || undefined;

function storageFrom(url = "memory:"): Storage {
  if (url === "memory:") return createStorage({ driver: memoryDriver() });
  // Deno KV: needs --unstable-kv outside Deno Deploy. No atomic increments through unstorage, so
  // counters merge by read-modify-write (exact with one instance, like Cloudflare KV otherwise).
  if (url.startsWith("denokv:")) return createStorage({ driver: denoKvDriver({ path: url.slice(7) || undefined }) });
  // Counters with HINCRBY: several Deploy instances on one database add up exactly.
  if (url === "upstash:") {
    return upstashStorage({ url: env("UPSTASH_REDIS_REST_URL") ?? "", token: env("UPSTASH_REDIS_REST_TOKEN") ?? "" });
  }
  throw new Error(`STORAGE_URL "${url}" is not supported here; use memory:, denokv:, denokv:./file or upstash:`);
}

const pool = createPool({
  ...poolOptionsFrom(settings),
  storage: storageFrom(settings.str("STORAGE_URL")),
  // Deno hands the connection info to the handler, which the pool receives as `env`.
  clientIp: (_request, info) => (info as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr?.hostname,
});
await pool.ready(); // storage errors surface at start, not on the first request

const server = Deno.serve({
  port: settings.port("PORT")!,
  hostname: settings.str("HOST")!,
  onListen: ({ hostname, port }) =>
    console.log(
      `ollama-api-pool (deno) listening on http://${hostname === "0.0.0.0" ? "127.0.0.1" : hostname}:${port}`,
    ),
}, pool.fetch);

// Statistics are written by the pool's tick; without traffic nothing would call it.
const timer = setInterval(() => pool.tick(), 1000);
const shutdown = async (): Promise<void> => {
  clearInterval(timer);
  await server.shutdown();
  await pool.close(); // the last statistics
  Deno.exit(0);
};
try {
  Deno.addSignalListener("SIGTERM", shutdown);
  Deno.addSignalListener("SIGINT", shutdown);
} catch {
  // Deno Deploy has no signal listeners: the tick above writes statistics every flushIntervalMs
  // (5 s), so an isolate that is stopped loses at most that much.
}
