/** One conformance suite, run against every storage backend (memory, fs, Redis, Postgres, Upstash, KV). */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KeyRecord } from "../src/keys/types.ts";
import { StatsRecorder } from "../src/stats/recorder.ts";
import { ChangeFeed } from "../src/store/feed.ts";
import { createStore, type PoolStore } from "../src/store/store.ts";
import { ALL_BACKENDS, type Backend, needsOf } from "./helpers/backends.ts";
import { skipUnless } from "./helpers/requires.ts";

const key = (i: number, provider = "ollama"): KeyRecord => ({
  id: `id${String(i).padStart(6, "0")}`,
  provider,
  secret: `secret-${i}-xxxxxxxx`,
  state: "active",
  failures: 0,
  createdAt: i,
});

for (const factory of ALL_BACKENDS) {
  const suite = `store conformance: ${factory.name.replace(/Backend$/, "")}`;
  describe(suite, skipUnless(suite, ...needsOf(factory)), () => {
    let backend: Backend;
    let store: PoolStore;
    before(async () => {
      backend = await factory();
      store = createStore(backend.connect());
    });
    after(() => backend.stop());

    it("keeps key records per provider, in batches larger than one read", async () => {
      const many = Array.from({ length: 1050 }, (_, i) => key(i));
      await store.putKeys([...many, key(1, "openrouter")]);
      const listed = await store.listKeys("ollama");
      assert.equal(listed.length, 1050);
      assert.deepEqual(listed.find((k) => k.id === "id000007"), many[7]);
      assert.equal((await store.listKeys("openrouter")).length, 1);
      assert.deepEqual(await store.getKey("ollama", "id000003"), many[3]);
      await store.removeKeys("ollama", many.slice(0, 200).map((k) => k.id));
      assert.equal((await store.listKeys("ollama")).length, 850);
      assert.equal(await store.getKey("ollama", "id000003"), null);
    });

    it("keeps tokens and metadata", async () => {
      await store.putToken({ id: "t1", name: "n", hash: "h", hint: "sk-…", createdAt: 1 });
      assert.equal((await store.getToken("t1"))?.name, "n");
      assert.equal((await store.listTokens()).length, 1);
      await store.removeToken("t1");
      assert.equal(await store.getToken("t1"), null);
      await store.setMeta("admin", { hash: "x" });
      assert.deepEqual(await store.getMeta("admin"), { hash: "x" });
    });

    it("counts exactly through batched flushes, from one instance or (atomic backends) from many", async () => {
      const writers = backend.atomic ? 5 : 1;
      const recorders = Array.from({ length: writers }, () => {
        const s = createStore(backend.connect());
        return new StatsRecorder(s.counters, () => 1_800_000_000_000);
      });
      const rounds = 20;
      await Promise.all(recorders.map(async (rec) => {
        for (let r = 0; r < rounds; r++) {
          rec.request({
            provider: "p",
            model: "m:1",
            tokenId: "t",
            keyId: "k",
            outcome: "success",
            promptTokens: 2,
            completionTokens: 3,
          });
          rec.attempt("p", "k", "success");
          await rec.flush();
        }
      }));
      const [g, m, t, k] = await recorders[0].read([
        "stats:global:p",
        "stats:model:p",
        "stats:token:t",
        "stats:key:p:k",
      ]);
      const n = writers * rounds;
      assert.deepEqual(
        {
          requests: g.requests,
          success: g.success,
          promptTokens: g.promptTokens,
          completionTokens: g.completionTokens,
          lastUsed: g.lastUsed,
        },
        { requests: n, success: n, promptTokens: 2 * n, completionTokens: 3 * n, lastUsed: 1_800_000_000_000 },
      );
      assert.equal(m["requests|m:1"], n);
      assert.equal(t.requests, n);
      assert.deepEqual([k.requests, k.success, k.promptTokens], [n, n, 2 * n]);
    });

    it("carries change events from one instance to another, once each", async () => {
      const clock = { t: 1_800_000_000_000 };
      const a = new ChangeFeed(backend.connect(), () => clock.t, "a");
      const b = new ChangeFeed(backend.connect(), () => clock.t, "b");
      await b.poll(); // earlier tests' leftovers are not ours
      await a.publish({ kind: "keys", provider: "ollama", ids: ["x", "y"] });
      await a.publish({ kind: "tokens", ids: ["t"] });
      assert.deepEqual(await a.poll(), [], "own events are not returned");
      assert.deepEqual(await b.poll(), [{ kind: "keys", provider: "ollama", ids: ["x", "y"] }, {
        kind: "tokens",
        provider: undefined,
        ids: ["t"],
      }]);
      assert.deepEqual(await b.poll(), []);
      clock.t += 10 * 60_000;
      // The next listing (after the next change) removes events past the window, also where the
      // backend has no TTL; until then a still feed is polled by reading its version alone.
      await a.publish({ kind: "tokens", ids: ["u"] });
      assert.deepEqual(await b.poll(), [{ kind: "tokens", provider: undefined, ids: ["u"] }]);
      const left = (await backend.connect().getKeys("events")).sort();
      assert.equal(left.length, 2, `the version and the last event are left: ${left}`);
      assert.equal(left[1], "events:version");
    });
  });
}
