/**
 * The pool on Bun: `Bun.serve` with the pool's standard fetch handler.
 * Run: `npm run start:bun` (Bun comes with `npm ci`; with Bun on your PATH, `bun examples/bun/server.ts`).
 *
 * Environment: the settings of README's configuration table that are not about Node (`PORT`,
 * default 8787, 0 picks a free one; `HOST`; `ADMIN_TOKEN`; `OLLAMA_BASE_URL`; `TRUST_PROXY`; …),
 * read by the same rules as the Node server, and `DATA_DIR`: a folder for
 * filesystem storage (unset: memory, nothing kept). Redis (`ollama-api-pool/redis`) and Postgres
 * (`ollama-api-pool/neon`) storage work on Bun as well.
 * @module
 */
import { createStorage } from "unstorage";
import { atomicFsDriver } from "../../adapters/fs_atomic.ts";
import { createPool, poolOptionsFrom, Settings } from "../../mod.ts";

// The Bun API used here, typed locally: the project's tsc checks every example with Node's types.
interface BunServer {
  port: number;
  hostname: string;
  requestIP(request: Request): { address: string } | null;
  stop(closeActive?: boolean): Promise<void>;
}
interface BunApi {
  serve(options: {
    port: number;
    hostname: string;
    idleTimeout: number;
    fetch(request: Request, server: BunServer): Promise<Response>;
  }): BunServer;
}
const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;
const settings = new Settings(process.env);

// Only when set: without it the pool keeps nothing (the table's ./.data default is the Node server's).
const dataDir = settings.raw("DATA_DIR");
const pool = createPool({
  ...poolOptionsFrom(settings),
  // Atomic, fsync'ed writes (unstorage's own fs driver writes in place: a crash can tear a record).
  storage: dataDir ? createStorage({ driver: atomicFsDriver({ base: dataDir }) }) : undefined,
  // Bun passes its server to the handler, which the pool receives as `env`.
  clientIp: (request, server) => (server as BunServer).requestIP(request)?.address,
});
await pool.ready(); // storage errors surface at start, not on the first request

const server = Bun.serve({
  port: settings.port("PORT")!,
  hostname: settings.str("HOST")!,
  // Bun closes a connection after 10 s without bytes by default, which cuts streams from models
  // that think before their first token; 255 s is Bun's maximum (the pool's own first-byte
  // timeout, 30 s, ends a silent upstream long before).
  idleTimeout: 255,
  fetch: pool.fetch,
});
console.log(
  `ollama-api-pool (bun) listening on http://${
    server.hostname === "0.0.0.0" ? "127.0.0.1" : server.hostname
  }:${server.port}`,
);

// Statistics are written by the pool's tick; without traffic nothing would call it.
const timer = setInterval(() => pool.tick(), 1000);
const shutdown = async (): Promise<void> => {
  clearInterval(timer);
  await server.stop();
  await pool.close(); // the last statistics
  process.exit(0);
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
