/**
 * Usage caps and 429 back-off through the whole pool, against the mock upstream answering Ollama
 * Cloud's cap bodies (429 without Retry-After), on both transports; and per-key statistics of
 * answers whose body breaks after a 200.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { createStorage } from "unstorage";
import { undiciFetch } from "../adapters/node_fetch.ts";
import { createPool, type FetchLike, ollama } from "../mod.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";
import { adminRequest, chat, setupPool, type TestPool } from "./helpers/setup.ts";

interface KeyView {
  id: string;
  username: string;
  status: string;
  until: number | null;
  reason: string | null;
  usage_limit: string | null;
}

const transports: Array<[string, () => FetchLike | undefined]> = [["global fetch", () => undefined], [
  "undiciFetch",
  () => undiciFetch(),
]];

for (const [transport, makeFetch] of transports) {
  describe(`usage caps and 429 back-off (${transport})`, () => {
    let t: TestPool;
    const clock = { t: 0 };
    before(async () => {
      t = await setupPool({ fetch: makeFetch(), now: () => clock.t });
    });
    after(() => t.close());
    beforeEach(() => {
      clock.t = Date.parse("2026-11-27T17:49:00Z"); // a Friday
    });

    async function keys(...secrets: string[]) {
      await t.setKeys([]);
      await t.admin("POST", "/admin/api-keys/import", { keys: secrets.map((s) => ({ key: s, username: s })) });
      t.mock.reset();
    }
    const view = async (name: string): Promise<KeyView> =>
      (await (await t.admin("GET", "/admin/api-keys?pageSize=200")).json()).api_keys.find((k: KeyView) =>
        k.username === name
      );
    const ok = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const res = await t.call("/v1/chat/completions", chat());
        assert.equal(res.status, 200);
        await res.text();
      }
    };

    it("a weekly cap rests the key until Monday 00:00 UTC: no traffic until then, then one half-open try", async () => {
      await keys("capped-weekly-key-01", "good-key-cap-0001");
      await ok(4);
      assert.equal(t.mock.hits.get("capped-weekly-key-01"), 1);
      const monday = Date.parse("2026-11-30T00:00:00Z");
      const v = await view("capped-weekly-key-01");
      assert.equal(v.status, "cooling");
      assert.equal(v.reason, "weekly usage limit until Mon 00:00 UTC");
      assert.equal(v.usage_limit, "weekly");
      assert.equal(v.until, monday + 60_000);
      clock.t = monday - 1; // Sunday night: still nothing
      await ok(6);
      assert.equal(t.mock.hits.get("capped-weekly-key-01"), 1);
      clock.t = monday + 60_000;
      await ok(6);
      assert.equal(t.mock.hits.get("capped-weekly-key-01"), 2, "one half-open try after the reset");
      assert.equal(
        (await view("capped-weekly-key-01")).until,
        Date.parse("2026-12-07T00:01:00Z"),
        "still capped: until the next Monday",
      );
    });

    it("a health check finds a capped key valid but leaves its rest until the reset", async () => {
      await keys("capped-weekly-key-04", "good-key-cap-0005");
      await ok(2);
      const until = (await view("capped-weekly-key-04")).until;
      const check = await (await t.admin("POST", "/admin/keys/health-check?wait=true", {})).json();
      assert.ok(
        check.results.every((r: { healthy: boolean }) => r.healthy),
        "the model list answers for a capped account too",
      );
      const v = await view("capped-weekly-key-04");
      assert.deepEqual([v.status, v.until, v.usage_limit], ["cooling", until, "weekly"]);
    });

    it("a health check whose probe meets the cap rests the key until the reset too", async () => {
      await keys("cappedall-session-key-1", "good-key-cap-0006");
      const check = await (await t.admin("POST", "/admin/keys/health-check?wait=true", {})).json();
      const capped = check.results.find((r: { healthy: boolean }) => !r.healthy);
      assert.equal(capped.error, "session usage limit until 19:00 UTC");
      const v = await view("cappedall-session-key-1");
      assert.deepEqual([v.status, v.until, v.usage_limit], ["cooling", Date.parse("2026-11-27T19:01:00Z"), "session"]);
    });

    it("every key capped: 429 upstream_usage_limited until the first reset, and no key re-cooled briefly", async () => {
      await keys("capped-session-key-1", "capped-hourly-key-01");
      const res = await t.call("/api/chat", chat("llama3.2", { stream: false }));
      assert.equal(res.status, 429);
      const body = await res.json();
      assert.equal(body.error.code, "upstream_usage_limited");
      assert.equal(res.headers.get("retry-after"), String(11 * 60 + 60)); // 18:00 UTC plus the minute of margin
      assert.equal((await view("capped-session-key-1")).until, Date.parse("2026-11-27T19:01:00Z"));
      assert.equal((await view("capped-hourly-key-01")).until, Date.parse("2026-11-27T18:01:00Z"));
      t.mock.reset();
      const again = await t.call("/v1/chat/completions", chat());
      assert.equal(again.status, 429);
      assert.equal((await again.json()).error.code, "keys_cooling_down");
      assert.equal(t.mock.hits.size, 0);
    });

    it("a cap next to a plain 429: the plain one joins the pool-wide rest, the capped one keeps its own", async () => {
      await keys("capped-weekly-key-02", "limited0-key-cap-1");
      const res = await t.call("/v1/chat/completions", chat());
      assert.equal(res.status, 429);
      assert.equal((await res.json()).error.code, "upstream_rate_limited");
      assert.equal((await view("limited0-key-cap-1")).until, clock.t + 5_000);
      assert.equal((await view("capped-weekly-key-02")).until, Date.parse("2026-11-30T00:01:00Z"));
    });

    it("a key answering 429 without Retry-After again and again rests 60 s, 2 min, 4 min; a success resets it", async () => {
      await keys("limited0-key-cap-2", "good-key-cap-0002");
      const rests: number[] = [];
      for (let round = 0; round < 3; round++) {
        const before = t.mock.hits.get("limited0-key-cap-2") ?? 0;
        for (let i = 0; i < 3 && (t.mock.hits.get("limited0-key-cap-2") ?? 0) === before; i++) await ok(1);
        const v = await view("limited0-key-cap-2");
        rests.push(v.until! - clock.t);
        clock.t = v.until!;
      }
      assert.deepEqual(rests, [60_000, 120_000, 240_000]);
    });
  });
}

describe("usage-cap and back-off state is shared through storage", () => {
  it("another instance sees the cap and the streak after a sync", async () => {
    const mock = await startMockUpstream();
    const storage = createStorage();
    const clock = { t: Date.parse("2026-11-27T17:49:00Z") };
    const make = () =>
      createPool({
        providers: [ollama({ baseURL: mock.url })],
        storage,
        now: () => clock.t,
        auth: { adminToken: "caps-admin-token-0000" },
        logger: { info() {}, warn() {}, error() {} },
      });
    const [a, b] = [make(), make()];
    try {
      const admin = (p: typeof a, method: string, path: string, body?: unknown) =>
        p.fetch(adminRequest("caps-admin-token-0000", method, path, body));
      await admin(a, "POST", "/admin/api-keys/import", {
        keys: [{ key: "capped-weekly-key-03", username: "c" }, { key: "limited0-key-cap-3", username: "l" }, {
          key: "good-key-cap-0003",
          username: "g",
        }],
      });
      const { token } = await (await admin(a, "POST", "/admin/tokens", { name: "t" })).json();
      await b.ready();
      for (let i = 0; i < 6; i++) {
        const res = await a.fetch(
          new Request("http://pool/v1/chat/completions", {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            ...chat(),
          }),
        );
        await res.text();
      }
      await a.flush();
      await b.flush();
      const seen = (await (await admin(b, "GET", "/admin/api-keys")).json()).api_keys as KeyView[];
      const capped = seen.find((k) => k.username === "c")!;
      assert.equal(capped.usage_limit, "weekly");
      assert.equal(capped.until, Date.parse("2026-11-30T00:01:00Z"));
      assert.equal(seen.find((k) => k.username === "l")!.status, "cooling");
      const stored = await storage.getItem<{ rateLimitStreak?: number }>(
        `keys:ollama:${seen.find((k) => k.username === "l")!.id}`,
      );
      assert.equal(stored?.rateLimitStreak, 1);
    } finally {
      await a.close();
      await b.close();
      await mock.close();
    }
  });
});

describe("per-key statistics of answers whose body breaks after a 200", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({});
  });
  after(() => t.close());

  it("count as the key's failure, never its success", async () => {
    await t.admin("POST", "/admin/api-keys/import", {
      keys: [{ key: "die-key-cap-00001", username: "die" }, { key: "good-key-cap-0004", username: "good" }],
    });
    for (let i = 0; i < 2; i++) await (await t.call("/v1/chat/completions", chat())).text(); // non-stream: fails over
    const stats = (await (await t.admin("GET", "/admin/keys/stats")).json()).stats;
    const die = stats.find((s: { username: string }) => s.username === "die");
    assert.equal(die.successCount, 0);
    assert.equal(die.failureCount, 1);
    assert.equal(die.totalRequests, 1);
    const good = stats.find((s: { username: string }) => s.username === "good");
    assert.equal(good.successCount, 2);
  });

  it("a stream that breaks mid-way is the key's failure too", async () => {
    await t.setKeys([]);
    await t.admin("POST", "/admin/api-keys/import", { keys: [{ key: "die-key-cap-00002", username: "die2" }] });
    await (await t.call("/v1/chat/completions", chat("llama3.2", { stream: true }))).text();
    const stats = (await (await t.admin("GET", "/admin/keys/stats")).json()).stats;
    const die = stats.find((s: { username: string }) => s.username === "die2");
    assert.deepEqual([die.successCount, die.failureCount], [0, 1]);
  });
});
