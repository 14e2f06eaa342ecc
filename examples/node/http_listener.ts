/**
 * The pool inside a plain `node:http` server you already have: `getRequestListener` from
 * `@hono/node-server` turns the pool's fetch handler into a `(req, res)` listener, and the app
 * keeps its own routes beside it. Run: `npx tsx examples/node/http_listener.ts`.
 *
 * Environment: `PORT` (default 8787; 0 picks a free one), `HOST` (default 0.0.0.0),
 * `ADMIN_TOKEN`, `OLLAMA_BASE_URL`, `DATA_DIR` (filesystem storage; unset: memory).
 * @module
 */
import { getRequestListener } from "@hono/node-server";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createPool, ollama } from "../../mod.ts";
import { fsStorage, nodeClientIp, undiciFetch } from "../../adapters/node.ts";

const dataDir = process.env.DATA_DIR;
const pool = createPool({
  providers: [ollama({ baseURL: process.env.OLLAMA_BASE_URL || undefined })],
  storage: dataDir ? fsStorage(dataDir) : undefined,
  auth: { adminToken: process.env.ADMIN_TOKEN || undefined },
  fetch: undiciFetch(), // Node's global fetch is ~3× slower as the upstream client
  clientIp: nodeClientIp(), // the listener passes { incoming } as env: the socket's address
});
await pool.ready();
const poolListener = getRequestListener(pool.fetch);

const server = createServer((req, res) => {
  // The app's own routes come first; everything else is the pool's (its 404s are OpenAI-shaped).
  if (req.method === "GET" && req.url === "/hello") {
    res.writeHead(200, { "content-type": "text/plain" }).end("hello from the host app");
    return;
  }
  void poolListener(req, res);
});

// What `serve()` from adapters/node.ts does for you: a tick so statistics are written without
// traffic, and a last flush on shutdown.
const timer = setInterval(() => pool.tick(), 1000);
timer.unref();
const shutdown = (): void => {
  server.close(() => pool.close().then(() => process.exit(0), () => process.exit(1)));
  server.closeIdleConnections();
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);

server.listen(Number(process.env.PORT ?? 8787), process.env.HOST ?? "0.0.0.0", () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(
    `ollama-api-pool (node:http) listening on http://${address === "0.0.0.0" ? "127.0.0.1" : address}:${port}`,
  );
});
