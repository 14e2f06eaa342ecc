import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { undiciFetch } from "../adapters/node_fetch.ts";
import type { FetchLike } from "../mod.ts";
import { within } from "./helpers/poll.ts";
import { chat, setupPool, type TestPool } from "./helpers/setup.ts";

const keyStats = async (t: TestPool) => {
  const body = await (await t.admin("GET", "/admin/api-keys?pageSize=200")).json();
  return new Map<string, { status: string; failures: number; until: number | null; reason: string | null }>(
    body.api_keys.map((k: { username: string }) => [k.username, k]),
  );
};

/** The same rules hold with the runtime's fetch and with the Node adapter's undici transport. */
const transports: Array<[string, () => FetchLike | undefined]> = [["global fetch", () => undefined], [
  "undiciFetch",
  () => undiciFetch(),
]];

for (const [transport, makeFetch] of transports) {
  describe(`failover across keys (${transport})`, () => {
    let t: TestPool;
    const clock = { t: Date.now() };
    before(async () => {
      t = await setupPool({
        fetch: makeFetch(),
        now: () => clock.t,
        failover: { firstByteTimeoutMs: 300, errorCooldownMs: 5_000 },
        mockOptions: { slowMs: 1500 },
      });
    });
    after(() => t.close());

    /** Imports keys with their secrets as labels, so tests can find them by name. */
    async function keys(...secrets: string[]) {
      await t.setKeys([]);
      await t.admin("POST", "/admin/api-keys/import", { keys: secrets.map((s) => ({ key: s, username: s })) });
      t.mock.reset();
    }
    beforeEach(() => {
      clock.t += 24 * 3_600_000; // every test starts with all earlier rests over
    });

    it("a 401 key is skipped without the client noticing; 3 in a row disable it for an hour", async () => {
      await keys("bad-key-0000001", "good-key-000001");
      for (let i = 0; i < 6; i++) {
        const res = await t.call("/v1/chat/completions", chat());
        assert.equal(res.status, 200);
        await res.text();
      }
      assert.equal(t.mock.hits.get("bad-key-0000001"), 3, "tried until disabled, then never again");
      const s = (await keyStats(t)).get("bad-key-0000001")!;
      assert.equal(s.status, "disabled");
      assert.equal(s.until, clock.t + 3_600_000);
      assert.match(s.reason!, /401/);
      clock.t += 3_600_000;
      await (await t.call("/v1/chat/completions", chat())).text();
      await (await t.call("/v1/chat/completions", chat())).text();
      assert.equal(t.mock.hits.get("bad-key-0000001"), 4, "re-tried once after the hour");
    });

    it("a 429 key cools down for Retry-After, then comes back", async () => {
      await keys("limited-key-0001", "good-key-000002");
      for (let i = 0; i < 4; i++) await (await t.call("/v1/chat/completions", chat())).text();
      assert.equal(t.mock.hits.get("limited-key-0001"), 1);
      const s = (await keyStats(t)).get("limited-key-0001")!;
      assert.equal(s.status, "cooling");
      assert.equal(s.until, clock.t + 2000);
      clock.t += 2000;
      for (let i = 0; i < 2; i++) await (await t.call("/v1/chat/completions", chat())).text();
      assert.equal(t.mock.hits.get("limited-key-0001"), 2);
    });

    it("retry-after-ms is honoured", async () => {
      await keys("limitedms-key-01", "good-key-000003");
      for (let i = 0; i < 2; i++) await (await t.call("/v1/chat/completions", chat())).text();
      assert.equal((await keyStats(t)).get("limitedms-key-01")!.until, clock.t + 1500);
    });

    it("5xx, connection resets and first-byte timeouts move to the next key and cool the key briefly", async () => {
      // Fewer broken keys than the 3 attempts, whatever order the rotation takes.
      for (const broken of [["err-key-00000001", "reset-key-000001"], ["slow-key-0000001"]]) {
        await keys(...broken, "good-key-000004");
        for (let i = 0; i < 4; i++) {
          const res = await t.call("/v1/chat/completions", chat());
          assert.equal(res.status, 200);
          await res.text();
        }
        const s = await keyStats(t);
        for (const k of broken) {
          assert.equal(s.get(k)!.status, "cooling", k);
          assert.equal(s.get(k)!.until, clock.t + 5000, k);
          assert.equal(s.get(k)!.failures, 0, `${k}: a cooldown is not a key failure`);
        }
        if (broken[0].startsWith("slow-")) assert.match(s.get("slow-key-0000001")!.reason!, /timed out/);
      }
    });

    it("never tries the same key twice and stops after maxAttempts; all failing gives 503 with the last reason", async () => {
      // At most one 5xx among any three: a second 5xx would end the request early (next test).
      await keys("bad-key-0000002", "bad-key-0000003", "bad-key-0000004", "err-key-00000002");
      const res = await t.call("/v1/chat/completions", chat());
      assert.equal(res.status, 503);
      const body = await res.json();
      assert.equal(body.error.code, "upstream_unavailable");
      assert.match(body.error.message, /all 3 upstream attempts failed; last: upstream answered (401|500)/);
      assert.equal([...t.mock.hits.values()].reduce((a, b) => a + b, 0), 3);
      assert.ok([...t.mock.hits.values()].every((n) => n === 1));
    });

    for (const status of [500, 502]) {
      it(`a ${status} from a second key is the request's fault: 502 at once, and no healthy key rests`, async () => {
        await keys("good-key-000101", "good-key-000102", "good-key-000103", "good-key-000104");
        // A model the upstream fails on whatever the key, asked for again and again.
        for (let i = 0; i < 6; i++) {
          const res = await t.call("/v1/chat/completions", chat(`fails-${status}`));
          assert.equal(res.status, 502);
          const body = await res.json();
          assert.equal(body.error.code, "upstream_request_failed");
          assert.match(body.error.message, new RegExp(`answered ${status} and then ${status}`));
        }
        assert.equal([...t.mock.hits.values()].reduce((a, b) => a + b, 0), 12, "two keys per request, no third");
        const s = await keyStats(t);
        assert.ok(
          [...s.values()].every((k) => k.status === "active" && k.failures === 0),
          JSON.stringify([...s.values()]),
        );
        // The honest request right after is served.
        const honest = await t.call("/v1/chat/completions", chat());
        assert.equal(honest.status, 200);
        await honest.text();
        const perKey = (await (await t.admin("GET", "/admin/keys/stats")).json()).stats as Array<
          { failureCount: number }
        >;
        assert.ok(perKey.every((k) => k.failureCount === 0), "no key is counted a failure for the request's fault");
      });
    }

    it("a 5xx followed by another key's success still rests the first key", async () => {
      await keys("err-key-00000011", "good-key-000111");
      for (let i = 0; i < 2; i++) {
        const res = await t.call("/v1/chat/completions", chat());
        assert.equal(res.status, 200);
        await res.text();
      }
      const s = await keyStats(t);
      assert.equal(s.get("err-key-00000011")!.status, "cooling");
      assert.equal(s.get("err-key-00000011")!.until, clock.t + 5000);
      assert.equal(s.get("good-key-000111")!.status, "active");
    });

    it("a pool-wide 429 answers 429 with Retry-After and disables nobody", async () => {
      await keys("limited-key-0002", "limited-key-0003");
      const res = await t.call("/v1/chat/completions", chat());
      assert.equal(res.status, 429);
      assert.equal(res.headers.get("retry-after"), "2");
      assert.equal((await res.json()).error.type, "rate_limit_error");
      const s = await keyStats(t);
      assert.ok([...s.values()].every((k) => k.status === "cooling" && k.failures === 0));
      // While all rest, the pool answers 429 itself, without calling upstream.
      t.mock.reset();
      const again = await t.call("/v1/chat/completions", chat());
      assert.equal(again.status, 429);
      assert.equal(again.headers.get("retry-after"), "2");
      assert.equal(t.mock.hits.size, 0);
    });

    it("a pool-wide 429 without Retry-After cools the keys only briefly", async () => {
      await keys("limited0-key-001", "limited0-key-002");
      const res = await t.call("/v1/chat/completions", chat());
      assert.equal(res.status, 429);
      assert.equal(res.headers.get("retry-after"), "5");
      const s = await keyStats(t);
      assert.ok([...s.values()].every((k) => k.status === "cooling" && k.until === clock.t + 5000));
    });

    it("a lone 429 without Retry-After, with healthy keys left, rests that key for the default minute", async () => {
      await keys("limited0-key-003", "good-key-000008");
      for (let i = 0; i < 2; i++) assert.equal((await t.call("/v1/chat/completions", chat())).status, 200);
      assert.equal((await keyStats(t)).get("limited0-key-003")!.until, clock.t + 60_000);
    });

    it("503 when no keys are configured, or all are disabled", async () => {
      await keys();
      let res = await t.call("/v1/chat/completions", chat());
      assert.equal(res.status, 503);
      assert.equal((await res.json()).error.code, "no_keys");
      await keys("good-key-000005");
      const id = (await (await t.admin("GET", "/admin/api-keys")).json()).api_keys[0].id;
      await t.admin("POST", "/admin/keys/disable", { id, duration: 0 });
      res = await t.call("/v1/chat/completions", chat());
      assert.equal(res.status, 503);
      assert.equal((await res.json()).error.code, "no_active_keys");
    });

    it("a stream that dies mid-way ends with an in-band error event, and the key cools down", async () => {
      await keys("die-key-00000001");
      const res = await t.call("/v1/chat/completions", chat("llama3.2", { stream: true }));
      assert.equal(res.status, 200);
      const text = await res.text();
      const events = text.split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => e.slice(6));
      assert.match(events[0], /tok0/);
      const last = JSON.parse(events.at(-1)!);
      assert.equal(last.error.code, "stream_interrupted");
      assert.equal((await keyStats(t)).get("die-key-00000001")!.status, "cooling");
      const stats = await (await t.admin("GET", "/admin/stats")).json();
      assert.ok(stats.failure_count >= 1);
    });

    it("an NDJSON stream that dies ends with an Ollama error line", async () => {
      await keys("die-key-00000002");
      const res = await t.call("/api/chat", chat());
      const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
      assert.match(lines[0].message.content, /tok0/);
      assert.match(lines.at(-1).error, /incomplete/);
    });

    it("a non-stream body that breaks after the headers fails over", async () => {
      await keys("die-key-00000003", "good-key-000006");
      for (let i = 0; i < 2; i++) {
        const res = await t.call("/v1/chat/completions", chat());
        assert.equal(res.status, 200);
        assert.equal((await res.json()).object, "chat.completion");
      }
    });

    it("the client's disconnect aborts the upstream request and blames no key", async () => {
      await t.close();
      t = await setupPool({ fetch: makeFetch(), now: () => clock.t, mockOptions: { chunks: 50, chunkDelayMs: 50 } });
      await keys("good-key-000007");
      const ac = new AbortController();
      const res = await t.call("/v1/chat/completions", { ...chat("llama3.2", { stream: true }), signal: ac.signal });
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel();
      ac.abort();
      await within(1000, () => t.mock.closedEarly > 0, "the upstream request closed early", 20);
      assert.equal(t.mock.closedEarly, 1);
      assert.equal((await keyStats(t)).get("good-key-000007")!.status, "active");
    });
  });
}
