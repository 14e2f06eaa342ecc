/**
 * A Redis that accepts connections and never answers (a network that drops packets): ioredis sets
 * no deadline on a command, so every storage call waited for good (still waiting after 25 s in
 * the first try), admin writes hung and the outage was never reported. Commands now have a
 * deadline (`timeoutMs`) and fail as an outage does, the password in no message.
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { redisStorage } from "../../adapters/redis.ts";

describe("a Redis that never answers", { timeout: 30_000 }, () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let port: number;
  before(async () => {
    server = createServer((s) => {
      sockets.add(s);
      s.on("error", () => {});
      s.on("data", () => {}); // read the commands, answer nothing
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it("fails a storage call after the deadline", async () => {
    const storage = redisStorage(`redis://:SECRETpw@127.0.0.1:${port}`, { timeoutMs: 300 });
    const t0 = Date.now();
    await assert.rejects(storage.getItem("keys:x"), (err: Error) => !/SECRETpw/.test(err.message));
    assert.ok(Date.now() - t0 < 5000, `failed after ${Date.now() - t0} ms`);
    await storage.dispose().catch(() => {});
  });
});
