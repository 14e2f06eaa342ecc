/**
 * An Upstash endpoint that accepts requests and never answers (a firewall dropping packets, an
 * overloaded proxy): `@upstash/redis` sets no deadline, so every storage call waited for good on
 * Deno and Bun (5 min on Node, undici's own limit). Admin writes hung instead of answering 503,
 * flushes never ended and `/health` kept saying "ok" while nothing was written. Each call now
 * has a deadline and fails as an outage does: 503 `storage_unavailable`, no token in any message.
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { upstashStorage } from "../../adapters/upstash.ts";
import { createPool, ollama } from "../../mod.ts";

const TOKEN = "upstash-SECRET-token-000001";
const ADMIN = "upstash-hang-admin-token-01";

describe("an Upstash endpoint that never answers", { timeout: 30_000 }, () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let url: string;
  before(async () => {
    server = createServer((s) => {
      sockets.add(s);
      s.on("error", () => {});
      s.on("data", () => {}); // read the request, answer nothing
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it("fails a storage call after the deadline, without the token in the error", async () => {
    const storage = upstashStorage({ url, token: TOKEN, timeoutMs: 300 });
    const t0 = Date.now();
    await assert.rejects(storage.setItem("keys:x", { secret: "k" }), (err: Error) => {
      assert.doesNotMatch(err.message, /SECRET/);
      return true;
    });
    assert.ok(Date.now() - t0 < 5000, `failed after ${Date.now() - t0} ms`);
  });

  it("makes an admin write answer 503 storage_unavailable instead of hanging", async () => {
    const pool = createPool({
      providers: [ollama({ baseURL: "http://127.0.0.1:9" })],
      storage: upstashStorage({ url, token: TOKEN, timeoutMs: 300 }),
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
    });
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 10_000);
    try {
      const res = await pool.fetch(
        new Request("http://pool/admin/tokens", {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
          body: JSON.stringify({ name: "x" }),
          signal: ac.signal,
        }),
      );
      assert.equal(res.status, 503);
      assert.equal((await res.json()).error.code, "storage_unavailable");
    } finally {
      clearTimeout(timer);
    }
  });
});
