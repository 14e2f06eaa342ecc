/**
 * A client (any token holder; with the user system, anyone who registers) learned the upstream's
 * internal address from the pool's 503: "upstream connection failed (connect ECONNREFUSED
 * 10.0.0.5:11434)" is the transport's own text, which names hosts and ports (and quoted a whole
 * URL, credentials included, before those were refused). The client's message now says what
 * happened in the pool's words; the transport's text stays in the request log and the key's
 * reason, for the admin. Real HTTP against `serve()`, the undici transport as on `npm start`.
 * @module
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type RunningServer, serve } from "../../adapters/node.ts";
import { undiciFetch } from "../../adapters/node_fetch.ts";
import { createPool, ollama, type Pool } from "../../mod.ts";

const ADMIN = "upstream-address-admin-01";

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("an upstream that refuses connections", () => {
  let pool: Pool;
  let server: RunningServer;
  let base: string;
  let port: number;
  const admin = async (method: string, path: string, body?: unknown) =>
    (await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    })).json();
  before(async () => {
    port = await closedPort();
    pool = createPool({
      providers: [ollama({ baseURL: `http://127.0.0.1:${port}` })],
      fetch: undiciFetch(),
      failover: { errorCooldownMs: 1 }, // the key is tried again at once by the next request
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
    });
    server = await serve(pool, { port: 0, hostname: "127.0.0.1", handleSignals: false });
    base = `http://127.0.0.1:${server.port}`;
    await admin("POST", "/admin/api-keys/import", { keys: ["refused-key-000001"] });
  });
  after(() => server.close());

  it("does not tell the client the upstream's address; the admin still reads the transport's words", async () => {
    const { token } = await admin("POST", "/admin/tokens", { name: "addr" });
    for (const path of ["/v1/chat/completions", "/v1/messages"]) {
      await new Promise((r) => setTimeout(r, 10));
      const res = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { "x-api-key": token, "content-type": "application/json", "x-request-id": `addr${path.length}` },
        body: JSON.stringify({ model: "llama3.2", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
      });
      const text = await res.text();
      assert.equal(res.status, 503, text);
      assert.match(text, /upstream connection failed/);
      assert.ok(!text.includes(String(port)) && !text.includes("ECONNREFUSED"), text);
    }
    const { records } = await admin("GET", "/admin/logs");
    assert.ok(
      records.some((r: { attempts: Array<{ reason?: string }> }) => r.attempts[0]?.reason?.includes("ECONNREFUSED")),
    );
  });
});
