/**
 * A whole-body deadline for buffered answers (UPSTREAM_BODY_TIMEOUT_MS): an upstream that
 * trickles a non-stream body, 16 bytes every 40 ms, keeps every gap far under the idle timeout
 * and used to hold the request until the body ended (or MAX_RESPONSE_BYTES). Past the deadline
 * the body is given up on and the next key tried; alone, the request ends in a 503 naming the
 * reason. Both transports, in-process; and the stand-alone server reading it from its
 * environment. Node, Deno and Bun.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { undiciFetch } from "../../adapters/node_fetch.ts";
import type { FetchLike } from "../../mod.ts";
import { startMockUpstream } from "../helpers/mock_upstream.ts";
import { chat, setupPool, type TestPool } from "../helpers/setup.ts";
import { skipUnless } from "../helpers/requires.ts";
import { serverArgs, spawnServer } from "../helpers/spawn.ts";

const transports: Array<[string, () => FetchLike | undefined]> = [["global fetch", () => undefined], [
  "undiciFetch",
  () => undiciFetch(),
]];
const DEADLINE = 400;
const IDLE = 2_000; // far above the trickle's 40 ms gaps: only the deadline can end it

for (const [transport, makeFetch] of transports) {
  describe(`the whole-body deadline (${transport})`, () => {
    let t: TestPool;
    before(async () => {
      t = await setupPool({
        fetch: makeFetch(),
        mockOptions: { raw: true },
        streamIdleTimeoutMs: IDLE,
        upstreamBodyTimeoutMs: DEADLINE,
      });
    });
    after(() => t.close());

    it(
      "a trickling non-stream body is given up on at the deadline and the next key answers",
      { timeout: 8_000 },
      async () => {
        await t.setKeys(["odd.200.trickle.identity.1", "odd.200.cl.identity.2"]);
        const started = Date.now();
        const res = await t.call("/v1/chat/completions", chat());
        assert.equal(res.status, 200);
        assert.equal((await res.json()).object, "chat.completion");
        const ms = Date.now() - started;
        assert.ok(ms >= DEADLINE - 50 && ms < DEADLINE + 1_500, `${ms} ms`);
        assert.equal(t.mock.hits.get("odd.200.trickle.identity.1"), 1, "the trickling key was tried first");
        assert.equal(t.mock.hits.get("odd.200.cl.identity.2"), 1, "the next key answered");
        const again = await t.call("/v1/chat/completions", chat());
        assert.equal(again.status, 200);
        await again.text();
        assert.equal(t.mock.hits.get("odd.200.cl.identity.2"), 2);
        assert.equal(t.mock.hits.get("odd.200.trickle.identity.1"), 1, "then it rests");
      },
    );

    it(
      "alone, it ends in a 503 that says why; an error body that trickles is bounded too",
      { timeout: 8_000 },
      async () => {
        for (const key of ["odd.200.trickle.identity.3", "odd.400.trickle.identity.big1.4"]) {
          await t.setKeys([key]);
          const started = Date.now();
          const res = await t.call("/v1/chat/completions", chat());
          const body = await res.json();
          assert.equal(res.status, 503, JSON.stringify(body));
          assert.match(body.error.message, /took longer than 400 ms to send the body/);
          assert.ok(Date.now() - started < DEADLINE + 1_500, `${Date.now() - started} ms`);
        }
      },
    );

    it("a stream is not bounded by it: a slow stream passes through whole", { timeout: 20_000 }, async () => {
      await t.setKeys(["odd.200.trickle.identity.5"]);
      const res = await t.call("/v1/chat/completions", chat("llama3.2", { stream: true }));
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.ok(text.endsWith("data: [DONE]\n\n"), text.slice(-200));
    });
  });
}

describe("UPSTREAM_BODY_TIMEOUT_MS", skipUnless("UPSTREAM_BODY_TIMEOUT_MS", "processes"), () => {
  it("is read from the stand-alone server's environment", { timeout: 30_000 }, async () => {
    const mock = await startMockUpstream({ raw: true });
    const admin = "deadline-admin-token-0123456789";
    const server = await spawnServer(
      "node",
      serverArgs("--storage", "memory:"),
      {
        env: { ADMIN_TOKEN: admin, OLLAMA_BASE_URL: mock.url, UPSTREAM_BODY_TIMEOUT_MS: "300" },
      },
    );
    try {
      const call = (path: string, body: unknown, token = admin) =>
        fetch(`${server.url}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      await (await call("/admin/api-keys/import", { keys: ["odd.200.trickle.identity.6"] })).text();
      const { token } = await (await call("/admin/tokens", { name: "deadline" })).json();
      const started = Date.now();
      const res = await call("/v1/chat/completions", { model: "llama3.2", messages: [] }, token);
      const body = await res.text();
      assert.equal(res.status, 503, body);
      assert.match(body, /took longer than 300 ms/);
      assert.ok(Date.now() - started < 3_000, `${Date.now() - started} ms`);
    } finally {
      await server.stop();
      await mock.close();
    }
  });
});
