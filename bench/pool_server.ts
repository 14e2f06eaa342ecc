/**
 * The pool as bench/streams.ts runs it: what adapters/cli.ts builds (same providers, defaults,
 * undici transport, node:http server), on memory storage, but with the upstream connection cap
 * as a flag. The CLI keeps `undiciFetch()`'s default of 256 connections per upstream origin, so
 * of 1,000 concurrent streams to one upstream 744 would wait for a free connection; a library
 * user sets `undiciFetch({ connections })`, which is what this does.
 *
 * `node --import tsx bench/pool_server.ts --port N --connections N` with ADMIN_TOKEN and
 * OLLAMA_BASE_URL / OPENROUTER_BASE_URL set; prints "listening on <url>" when ready.
 * @module
 */
import { parseArgs } from "node:util";
import { createStorage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { nodeClientIp, serve } from "../adapters/node.ts";
import { undiciFetch } from "../adapters/node_fetch.ts";
import { createPool, ollama, openrouter } from "../mod.ts";

const { values } = parseArgs({ options: { port: { type: "string" }, connections: { type: "string" } } });
const connections = Number(values.connections ?? 256);
const env = process.env;
const pool = createPool({
  providers: [
    ollama({ baseURL: env.OLLAMA_BASE_URL || undefined }),
    openrouter({ baseURL: env.OPENROUTER_BASE_URL || undefined }),
  ],
  storage: createStorage({ driver: memoryDriver() }),
  auth: { adminToken: env.ADMIN_TOKEN || undefined },
  fetch: undiciFetch({ connections }),
  clientIp: nodeClientIp(false),
});
await serve(pool, {
  port: Number(values.port ?? 0),
  hostname: "127.0.0.1",
  onListen: (info) =>
    console.log(`pool (upstream connections ${connections}) listening on http://${info.address}:${info.port}`),
});
