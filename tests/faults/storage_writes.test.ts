/**
 * Fault suite, storage: while Redis is down, admin and user writes answer 503
 * `storage_unavailable` with Retry-After (not an anonymous 500), change nothing, and work again
 * once Redis is back; the proxy keeps serving from memory meanwhile.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPool, ollama } from "../../mod.ts";
import { redisBackend } from "../helpers/backends.ts";
import { startMockUpstream } from "../helpers/mock_upstream.ts";
import { within } from "../helpers/poll.ts";
import { skipUnless } from "../helpers/requires.ts";
import { adminRequest } from "../helpers/setup.ts";

const ADMIN = "outage-writes-admin";
const SUITE = "fault suite: admin writes during a storage outage";

describe(SUITE, skipUnless(SUITE, "redis-server"), () => {
  it(
    "answers 503 storage_unavailable, keeps memory and storage in step, and recovers",
    { timeout: 60_000 },
    async () => {
      const backend = await redisBackend();
      const mock = await startMockUpstream({ quiet: true });
      const errors: string[] = [];
      const pool = createPool({
        providers: [ollama({ baseURL: mock.url })],
        storage: backend.connect(),
        auth: { adminToken: ADMIN },
        logger: { info() {}, warn() {}, error: (m: string) => errors.push(m) },
      });
      const admin = (method: string, path: string, body?: unknown) =>
        pool.fetch(adminRequest(ADMIN, method, path, body));
      try {
        assert.equal((await admin("POST", "/admin/api-keys/import", { keys: ["good-writes-key-01"] })).status, 200);
        const { token } = await (await admin("POST", "/admin/tokens", { name: "before" })).json();
        const chat = () =>
          pool.fetch(
            new Request("http://pool/v1/chat/completions", {
              method: "POST",
              headers: { authorization: `Bearer ${token}` },
              body: JSON.stringify({ model: "m", messages: [] }),
            }),
          );

        await backend.server.stop();
        const writes: Array<[string, string, unknown]> = [
          ["POST", "/admin/tokens", { name: "during" }],
          ["POST", "/admin/api-keys/import", { keys: ["good-writes-key-02"] }],
        ];
        for (const [method, path, body] of writes) {
          const res = await admin(method, path, body);
          const text = await res.text();
          assert.equal(res.status, 503, `${method} ${path}: ${text}`);
          assert.equal(JSON.parse(text).error.code, "storage_unavailable");
          assert.equal(JSON.parse(text).error.type, "server_error");
          assert.equal(res.headers.get("retry-after"), "5");
          assert.doesNotMatch(text, /ECONNREFUSED|127\.0\.0\.1|redis/i, "the backend's own error stays in the log");
        }
        assert.ok(errors.some((e) => /POST \/admin\/tokens: storage unavailable/.test(e)), "the cause is logged");
        const listed = await (await admin("GET", "/admin/api-keys")).json();
        assert.equal(listed.total, 1, "the key that was not stored is not in the pool");
        const proxied = await chat();
        assert.equal(proxied.status, 200, "the proxy serves from memory during the outage");
        await proxied.text();

        await backend.server.restart();
        // The Redis client reconnects on its own schedule; the first write after that succeeds.
        let status = 0;
        await within(
          10_000,
          async () => {
            const res = await admin("POST", "/admin/tokens", { name: "after" });
            await res.text();
            return (status = res.status) !== 503;
          },
          "a token write after Redis came back",
          100,
        );
        assert.equal(status, 201);
      } finally {
        await pool.close().catch(() => {});
        await mock.close();
        await backend.stop();
      }
    },
  );
});
