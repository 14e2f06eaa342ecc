/**
 * Every storage backend the pool supports, each started for real: memory, filesystem, Redis,
 * PostgreSQL through the Neon driver (behind websockify), Upstash's REST API (the local stand-in
 * over a real redis-server) and Cloudflare KV from miniflare.
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import { Miniflare } from "miniflare";
import { createStorage, type Storage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import ws from "ws";
import { kvStorage } from "../../adapters/cloudflare.ts";
import { neonStorage } from "../../adapters/neon.ts";
import { fsStorage } from "../../adapters/node.ts";
import { redisStorage } from "../../adapters/redis.ts";
import { upstashStorage } from "../../adapters/upstash.ts";
import { type Need, skipUnless } from "./requires.ts";
import { type PostgresServer, type RedisServer, startPostgres, startRedis } from "./services.ts";
import { startUpstashRest, type UpstashRest } from "./upstash_rest.ts";

/** A started backend: make as many `Storage` handles on it as instances need. */
export interface Backend {
  name: string;
  /** A new handle on the same data (a new connection where there are connections). */
  connect(): Storage;
  /** Whether increments from several instances are exact. */
  atomic: boolean;
  stop(): Promise<void>;
}

export type BackendFactory = () => Promise<Backend>;

const globalWS = (globalThis as { WebSocket?: unknown }).WebSocket ?? ws;

/** Disposes every handle made, then stops the server. */
function tracked(name: string, atomic: boolean, make: () => Storage, stopServer: () => Promise<void>): Backend {
  const handles: Storage[] = [];
  return {
    name,
    atomic,
    connect() {
      const s = make();
      handles.push(s);
      return s;
    },
    async stop() {
      await Promise.all(handles.map((h) => h.dispose().catch(() => {})));
      await stopServer();
    },
  };
}

export const memoryBackend: BackendFactory = () => {
  const shared = createStorage({ driver: memoryDriver() });
  return Promise.resolve({ name: "memory", atomic: false, connect: () => shared, stop: () => Promise.resolve() });
};

export const fsBackend: BackendFactory = () => {
  const dir = mkdtempSync(join(tmpdir(), "pool-fs-"));
  return Promise.resolve(
    tracked(
      "filesystem",
      false,
      () => fsStorage(dir),
      () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
    ),
  );
};

/** Redis; the server is exposed for outage tests. */
export async function redisBackend(): Promise<Backend & { server: RedisServer }> {
  const server = await startRedis();
  return { ...tracked("redis", true, () => redisStorage(server.url), () => server.stop()), server };
}

export async function postgresBackend(): Promise<Backend & { server: PostgresServer }> {
  const server = await startPostgres();
  const make = () =>
    neonStorage({
      connectionString: server.url,
      wsProxy: server.wsProxy,
      secureWebSocket: false,
      webSocket: globalWS,
      max: 4,
    });
  return { ...tracked("postgres (neon)", true, make, () => server.stop()), server };
}

/** Upstash over REST: the local stand-in in front of a real Redis (both exposed for tests). */
export async function upstashBackend(): Promise<Backend & { server: RedisServer; rest: UpstashRest }> {
  const server = await startRedis();
  const rest = await startUpstashRest(server.port);
  const stop = async () => {
    await rest.close();
    await server.stop();
  };
  return {
    ...tracked("upstash (REST)", true, () => upstashStorage({ url: rest.url, token: rest.token }), stop),
    server,
    rest,
  };
}

export async function kvBackend(): Promise<Backend> {
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch: () => new Response('') }",
    kvNamespaces: ["KV"],
  });
  const kv = await mf.getKVNamespace("KV");
  return tracked("cloudflare kv (miniflare)", false, () => kvStorage(kv), () => mf.dispose());
}

export const ALL_BACKENDS: BackendFactory[] = [
  memoryBackend,
  fsBackend,
  redisBackend,
  postgresBackend,
  upstashBackend,
  kvBackend,
];

/** What a backend's suites need beyond npm packages, for `skipUnless` (miniflare runs workerd). */
const NEEDS = new Map<BackendFactory, Need[]>([
  [redisBackend, ["redis-server"]],
  [postgresBackend, ["postgresql", "websockify"]],
  [upstashBackend, ["redis-server"]], // the local REST server fronts a real redis-server
  [kvBackend, ["processes"]],
]);

export function needsOf(factory: BackendFactory): Need[] {
  return NEEDS.get(factory) ?? [];
}

/**
 * One suite per backend of `factories`, named `<title>: <backend>`, skipped (and said so) where
 * the backend's services are missing; the backend is started before the suite and stopped after
 * it, and `body` reaches it through `current()`.
 */
export function eachBackend(title: string, factories: BackendFactory[], body: (current: () => Backend) => void): void {
  for (const factory of factories) {
    const suite = `${title}: ${factory.name.replace(/Backend$/, "")}`;
    describe(suite, skipUnless(suite, ...needsOf(factory)), () => {
      let backend: Backend;
      before(async () => {
        backend = await factory();
      });
      after(() => backend.stop());
      body(() => backend);
    });
  }
}
