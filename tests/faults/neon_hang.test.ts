/**
 * A Postgres (or its WebSocket proxy) that accepts connections and never answers: the Neon
 * driver sets no deadline, so every storage call waited for good, admin writes hung and the
 * outage was never reported. Connects and queries now have a deadline (`timeoutMs`) and fail as
 * an outage does, the password in no message. Both connection modes: pooled, and one per query
 * (Workers).
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import ws from "ws";
import { neonStorage } from "../../adapters/neon.ts";

describe("a Postgres endpoint that never answers", { timeout: 30_000 }, () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let proxy: string;
  before(async () => {
    server = createServer((s) => {
      sockets.add(s);
      s.on("error", () => {});
      s.on("data", () => {}); // read the upgrade request, answer nothing
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    proxy = `127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  for (const connectionPerQuery of [false, true]) {
    it(`fails a storage call after the deadline (${connectionPerQuery ? "a connection per query" : "pooled"})`, async () => {
      const storage = neonStorage({
        connectionString: "postgres://pool:SECRETpw@127.0.0.1:5432/pool",
        wsProxy: proxy,
        secureWebSocket: false,
        webSocket: (globalThis as { WebSocket?: unknown }).WebSocket ?? ws,
        connectionPerQuery,
        timeoutMs: 300,
      });
      const t0 = Date.now();
      await assert.rejects(storage.getItem("keys:x"), (err: Error) => !/SECRETpw/.test(err.message));
      assert.ok(Date.now() - t0 < 5000, `failed after ${Date.now() - t0} ms`);
    });
  }
});
