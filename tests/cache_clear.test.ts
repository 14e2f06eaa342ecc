/**
 * Clearing the response cache, shared through the store, on real backends (memory, filesystem,
 * Redis): every entry the filter names is gone from this instance, from the store and, after
 * their next sync, from the other instances' memory; the admin route's `removed` counts them.
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createStorage } from "unstorage";
import { ResponseCache } from "../src/cache/response_cache.ts";
import { PREFIX } from "../src/store/key_names.ts";
import { eachBackend, fsBackend, memoryBackend, redisBackend } from "./helpers/backends.ts";
import { setupPool } from "./helpers/setup.ts";

const answer = (text: string) => ({
  status: 200,
  headers: new Headers({ "content-type": "application/json" }),
  body: new TextEncoder().encode(text),
});

eachBackend("shared response cache cleared", [memoryBackend, fsBackend, redisBackend], (backend) => {
  it("removes the filtered entries from memory and the store, and counts each once", async () => {
    const options = { enabled: true, shared: true };
    const writer = new ResponseCache(options, backend().connect(), Date.now);
    const clearer = new ResponseCache(options, backend().connect(), Date.now);
    const llama = writer.key("ollama", "/v1/chat/completions", '{"model":"llama3.2"}');
    const qwen = writer.key("openrouter", "/v1/chat/completions", '{"model":"qwen3"}');
    const other = writer.key("ollama", "/v1/chat/completions", '{"model":"qwen3"}');
    await writer.set(llama, answer("a"), "ollama", "llama3.2");
    await writer.set(qwen, answer("b"), "openrouter", "qwen3");
    await writer.set(other, answer("c"), "ollama", "qwen3");
    assert.ok(await clearer.get(other), "read through the store, now also in the clearer's memory");

    assert.equal(await clearer.clear({ provider: "ollama", model: "llama" }), 1, "only in the store");
    assert.equal(await new ResponseCache(options, backend().connect(), Date.now).get(llama), undefined);
    assert.equal(await clearer.clear({ provider: "openrouter" }), 1);
    assert.equal(await clearer.get(qwen), undefined);

    assert.equal(await clearer.clear(), 1, "the one left, in memory and store alike, counted once");
    const fresh = new ResponseCache(options, backend().connect(), Date.now);
    assert.equal(await fresh.get(other), undefined);
    assert.deepEqual(await backend().connect().getKeys(PREFIX.cache), [], "nothing left in the store");
  });
});

eachBackend("shared response cache swept", [memoryBackend, fsBackend, redisBackend], (backend) => {
  it("stored answers whose time is over are removed, on backends without TTLs too", async () => {
    const clock = { t: Date.now() };
    const storage = backend().connect();
    const cache = new ResponseCache({ enabled: true, shared: true, ttlMs: 1000 }, storage, () => clock.t);
    const old = cache.key("ollama", "/v1/embeddings", '{"input":"old"}');
    await cache.set(old, answer("old"), "ollama");
    await cache.sweepIfDue(); // the first sweep: nothing is over yet
    clock.t += 60_000;
    const fresh = cache.key("ollama", "/v1/embeddings", '{"input":"fresh"}');
    await cache.set(fresh, answer("fresh"), "ollama");
    const sweep = cache.sweepIfDue();
    assert.ok(sweep, "due a minute later");
    await sweep;
    const left = (await storage.getKeys(PREFIX.cache)).map((n) => n.split(":").pop());
    assert.deepEqual(left, [fresh]);
  });
});

describe("the admin's cache clear across instances", () => {
  it("says how many answers it removed and other instances stop answering from theirs", async () => {
    const storage = createStorage();
    const cache = { enabled: true, shared: true };
    const a = await setupPool({ storage, keys: ["good-cache-clear-1"], cache });
    const b = await setupPool({ storage, cache });
    try {
      await b.pool.flush();
      const ask = () => a.call("/v1/embeddings", { method: "POST", body: JSON.stringify({ model: "e", input: "x" }) });
      assert.equal((await ask()).headers.get("x-cache"), "MISS");
      assert.equal((await ask()).headers.get("x-cache"), "HIT");
      const cleared = await (await b.admin("POST", "/admin/cache/clear", {})).json();
      assert.equal(cleared.removed, 1, JSON.stringify(cleared));
      await a.pool.flush(); // a reads b's change, as it does every sync interval
      assert.equal((await ask()).headers.get("x-cache"), "MISS", "a's own copy is gone too");
    } finally {
      await a.close();
      await b.close();
    }
  });
});
