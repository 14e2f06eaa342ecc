/**
 * A crafted (or hand-edited) export imported with the CLI, or a token record another program
 * wrote: a token whose `allowedModels` is a string made every request with that token a 500, and
 * a counter of 1e300 is no count the pool can add to (Redis refuses it; elsewhere it swallows
 * every increment). Such records are set aside at import, and token records again at load, like
 * key records: the log names them, `/health` counts them, the rest of the pool works.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createStorage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { createPool, ollama } from "../../mod.ts";
import { counterSinkFor } from "../../src/store/sinks.ts";
import { importLines } from "../../src/store/transfer.ts";
import { type MockUpstream, startMockUpstream } from "../helpers/mock_upstream.ts";
import { adminRequest } from "../helpers/setup.ts";

const ADMIN = "crafted-tokens-admin-token";
const quiet = { info() {}, warn() {}, error() {} };

const token = (id: string, extra: Record<string, unknown>) => ({
  item: `tokens:${id}`,
  value: { id, name: id, hash: "ab".repeat(32), hint: "sk-…", createdAt: 1, ...extra },
});

async function* linesOf(...lines: unknown[]): AsyncGenerator<string> {
  for (const l of lines) yield JSON.stringify(l);
}

describe("crafted token records and counters", () => {
  let mock: MockUpstream;
  before(async () => {
    mock = await startMockUpstream({ quiet: true });
  });
  after(() => mock.close());

  it("an import sets aside token records of wrong types and counters no count can be", async () => {
    const storage = createStorage({ driver: memoryDriver() });
    const sink = counterSinkFor(storage);
    const result = await importLines(
      storage,
      sink,
      linesOf(
        { format: "ollama-api-pool-export", version: 1, exportedAt: new Date().toISOString(), source: "crafted" },
        token("0000000000000001", { allowedModels: ["llama3*"], rpm: 60 }),
        token("0000000000000002", { allowedModels: "llama3*" }),
        token("0000000000000003", { rpm: "many" }),
        token("0000000000000004", { hash: 5 }),
        { counter: "stats:global:ollama", value: { requests: 1e300, success: 1 } },
        { counter: "stats:global:openrouter", value: { requests: 3, success: 3 } },
        { end: true, items: 4, counters: 2 },
      ),
    );
    assert.equal(result.complete, true);
    assert.equal(result.setAside, 4, JSON.stringify(result));
    assert.deepEqual(
      (await storage.getKeys("tokens")).sort(),
      ["tokens:0000000000000001"],
      "only the well-formed token is a token",
    );
    const aside = (await storage.getKeys("quarantine")).sort();
    assert.deepEqual(aside, [
      "quarantine:stats:global:ollama",
      "quarantine:tokens:0000000000000002",
      "quarantine:tokens:0000000000000003",
      "quarantine:tokens:0000000000000004",
    ]);
    const [ollamaCount, openrouterCount] = await sink.read(["stats:global:ollama", "stats:global:openrouter"]);
    assert.deepEqual(ollamaCount, {});
    assert.deepEqual(openrouterCount, { requests: 3, success: 3 });
  });

  it("a token record of wrong types written to the store is set aside at load: no 500", async () => {
    const storage = createStorage({ driver: memoryDriver() });
    const options = {
      providers: [ollama({ baseURL: mock.url })],
      storage,
      auth: { adminToken: ADMIN },
      logger: quiet,
    };
    const first = createPool(options);
    await first.fetch(adminRequest(ADMIN, "POST", "/admin/api-keys/import", { keys: ["good-crafted-tok-01"] }));
    const good = await (await first.fetch(adminRequest(ADMIN, "POST", "/admin/tokens", { name: "good" }))).json();
    const bad = await (await first.fetch(adminRequest(ADMIN, "POST", "/admin/tokens", { name: "bad" }))).json();
    await first.close();
    // Another program (or a hand edit) rewrites one record with a field of the wrong type.
    const name = `tokens:${bad.id}`;
    await storage.setItem(name, { ...(await storage.getItem<Record<string, unknown>>(name)), allowedModels: "llama" });

    const pool = createPool(options);
    const chat = (t: string) =>
      pool.fetch(
        new Request("http://pool/v1/chat/completions", {
          method: "POST",
          headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }),
        }),
      );
    const refused = await chat(bad.token);
    const text = await refused.text();
    assert.notEqual(refused.status, 500, text);
    assert.equal(refused.status, 401, text);
    const served = await chat(good.token);
    assert.equal(served.status, 200, await served.text());
    const health = await (await pool.fetch(new Request("http://pool/health"))).json();
    assert.equal(health.storage.quarantined, 1);
    assert.ok(await storage.hasItem(`quarantine:${name}`));
    await pool.close();
  });
});

describe("a crafted counter in the store", () => {
  it("is set aside at load (memory, files): its count is not shown, the pool counts afresh", async () => {
    const storage = createStorage({ driver: memoryDriver() });
    await storage.setItem("stats:global:ollama", { requests: 1e300, success: 1 });
    const pool = createPool({
      providers: [ollama({ baseURL: "http://127.0.0.1:9" })],
      storage,
      auth: { adminToken: ADMIN },
      logger: quiet,
    });
    const stats = await (await pool.fetch(adminRequest(ADMIN, "GET", "/admin/stats?provider=ollama"))).json();
    assert.equal(stats.total_requests, 0, "a count no whole number is not a count");
    const health = await (await pool.fetch(new Request("http://pool/health"))).json();
    assert.equal(health.storage.quarantined, 1);
    assert.ok(await storage.hasItem("quarantine:stats:global:ollama"));
    await pool.close();
  });
});
