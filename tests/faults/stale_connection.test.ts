/**
 * An upstream that closes an idle keep-alive connection just as the pool reuses it (what load
 * balancers do after their idle timeout). The request never reached the upstream's logic, so the
 * pool tries once more on a new connection: the client gets its answer and the key is not rested.
 * Seen for real: under load, the mock's 5 s keep-alive timeout raced the pool's reuse and a
 * single-key pool answered 503 for a healthy key.
 * @module
 */
import assert from "node:assert/strict";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { createPool, ollama, type Pool } from "../../mod.ts";
import { TRANSPORTS } from "../helpers/upstream_faults.ts";

const ADMIN = "stale-conn-admin-token-01";
const ANSWER = JSON.stringify({
  id: "x",
  object: "chat.completion",
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

/**
 * A raw HTTP/1.1 upstream: each connection answers its first request (keep-alive) and closes
 * when a second request arrives on it, without answering — every idle connection is stale, as
 * after a load balancer's idle timeout (the pool's background model probe leaves one more idle
 * connection, so a single retry would not do). `resets` counts those closes.
 */
async function closingUpstream(): Promise<{ url: string; resets: () => number; close(): Promise<void> }> {
  let resets = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffered = "";
    let served = 0;
    socket.on("data", (chunk) => {
      buffered += chunk.toString("latin1");
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/content-length:\s*(\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        if (served++ > 0) {
          resets++;
          return void socket.destroy();
        }
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${ANSWER.length}\r\n` +
            `connection: keep-alive\r\nkeep-alive: timeout=60\r\n\r\n${ANSWER}`,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    resets: () => resets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

for (const [name, transport] of TRANSPORTS) {
  describe(`a keep-alive connection closed as it is reused (${name})`, () => {
    let upstream: Awaited<ReturnType<typeof closingUpstream>>;
    let pool: Pool;
    let token: string;
    before(async () => {
      upstream = await closingUpstream();
      const fetch = transport();
      pool = createPool({
        providers: [ollama({ baseURL: upstream.url })],
        auth: { adminToken: ADMIN },
        logger: { info() {}, warn() {}, error() {} },
        ...(fetch ? { fetch } : {}),
      });
      const admin = (method: string, path: string, body: unknown) =>
        pool.fetch(
          new Request(`http://pool${path}`, {
            method,
            headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
            body: JSON.stringify(body),
          }),
        );
      await admin("POST", "/admin/api-keys/import", { keys: ["only-key-0000001"] });
      token = (await (await admin("POST", "/admin/tokens", { name: "t" })).json()).token;
    });
    after(async () => {
      await pool.close();
      await upstream.close();
    });

    it("answers every request through the only key, which never rests", async () => {
      for (let i = 0; i < 4; i++) {
        const res = await pool.fetch(
          new Request("http://pool/v1/chat/completions", {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
          }),
        );
        const body = await res.text();
        assert.equal(res.status, 200, `request ${i + 1}: ${body}`);
      }
      // Runtimes that open a new connection per request never meet the race; the others did.
      if (name === "undiciFetch") assert.ok(upstream.resets() > 0, "the race was played");
      const keys = await (await pool.fetch(
        new Request("http://pool/admin/api-keys", { headers: { authorization: `Bearer ${ADMIN}` } }),
      )).json();
      const key = keys.api_keys[0];
      assert.equal(key.status ?? "active", "active", JSON.stringify(key));
      assert.equal(key.failure_count ?? 0, 0, JSON.stringify(key));
    });
  });
}
