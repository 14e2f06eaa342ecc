/** Priority tiers and weights through the admin API and the proxy, against the mock upstream. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { chat, setupPool, type TestPool } from "./helpers/setup.ts";

interface View {
  id: string;
  username: string | null;
  priority: number;
  weight: number;
}

describe("key priority and weight", () => {
  let t: TestPool;
  const list = async (): Promise<View[]> => (await (await t.admin("GET", "/admin/api-keys")).json()).api_keys;
  const byLabel = async (label: string): Promise<View> => (await list()).find((k) => k.username === label)!;
  const send = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await (await t.call("/v1/chat/completions", chat())).arrayBuffer();
  };
  before(async () => {
    t = await setupPool();
  });
  after(() => t.close());

  it("takes them on POST and import, shows them in the listing, defaults 0 and 1", async () => {
    assert.equal(
      (await t.admin("POST", "/admin/api-keys", { api_key: "main-key-0001", username: "main", priority: 1, weight: 3 }))
        .status,
      201,
    );
    const imported = await (await t.admin("POST", "/admin/api-keys/import", {
      keys: [{ key: "side-key-0002", username: "side", priority: 1 }, { key: "backup-key-0003", username: "backup" }, {
        key: "x-bad-0004",
        weight: 0,
      }],
    })).json();
    assert.equal(imported.added, 2);
    assert.deepEqual(imported.invalid, [{ line: 3, reason: "'weight' must be an integer from 1 to 1000" }]);
    const main = await byLabel("main");
    assert.equal(main.priority, 1);
    assert.equal(main.weight, 3);
    assert.deepEqual([(await byLabel("side")).priority, (await byLabel("side")).weight], [1, 1]);
    assert.deepEqual([(await byLabel("backup")).priority, (await byLabel("backup")).weight], [0, 1]);
  });

  it("sends the better tier everything, shared by weight", async () => {
    t.mock.reset();
    await send(40);
    assert.equal(t.mock.hits.get("main-key-0001"), 30);
    assert.equal(t.mock.hits.get("side-key-0002"), 10);
    assert.equal(t.mock.hits.get("backup-key-0003"), undefined);
  });

  it("falls to the lower tier while the better one rests", async () => {
    t.pool.state.keys.pool("ollama").disable((await byLabel("main")).id, 60_000, "test");
    t.pool.state.keys.pool("ollama").disable((await byLabel("side")).id, 60_000, "test");
    t.mock.reset();
    await send(3);
    assert.equal(t.mock.hits.get("backup-key-0003"), 3);
    for (const label of ["main", "side"]) t.pool.state.keys.pool("ollama").enable((await byLabel(label)).id);
  });

  it("changes them by PATCH (by id or by the key itself), and persists the change", async () => {
    const backup = await byLabel("backup");
    const res = await t.admin("PATCH", "/admin/api-keys", { id: backup.id, priority: 5, weight: 2 });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.key.priority, 5);
    assert.equal(body.key.weight, 2);
    assert.equal(body.key.api_key.includes("backup-key-0003"), false, "masked");
    t.mock.reset();
    await send(3);
    assert.equal(t.mock.hits.get("backup-key-0003"), 3);
    const stored = await t.pool.state.store.getKey("ollama", backup.id);
    assert.equal(stored?.priority, 5);
    assert.equal(stored?.weight, 2);
    assert.equal(
      (await t.admin("PATCH", "/admin/api-keys", { apiKey: "backup-key-0003", priority: 0, weight: 1 })).status,
      200,
    );
    assert.equal(
      (await t.pool.state.store.getKey("ollama", backup.id))?.priority,
      undefined,
      "defaults are not stored",
    );
  });

  it("re-tiers keys already present when an import names their priority", async () => {
    const r =
      await (await t.admin("POST", "/admin/api-keys/import", { keys: [{ key: "backup-key-0003", priority: 9 }] }))
        .json();
    assert.equal(r.existing, 1);
    assert.equal((await byLabel("backup")).priority, 9);
  });

  it("refuses bad values with 400 naming the field, and unknown keys with 404", async () => {
    const id = (await byLabel("main")).id;
    for (
      const [body, field] of [
        [{ id, priority: 1.5 }, "priority"],
        [{ id, priority: 1001 }, "priority"],
        [{ id, weight: 0 }, "weight"],
        [{ id, weight: "2" }, "weight"],
      ] as const
    ) {
      const res = await t.admin("PATCH", "/admin/api-keys", body);
      assert.equal(res.status, 400);
      assert.match((await res.json()).error.message, new RegExp(`'${field}'`));
    }
    assert.equal((await t.admin("PATCH", "/admin/api-keys", { id })).status, 400);
    assert.equal((await t.admin("PATCH", "/admin/api-keys", { id: "nope-nope", weight: 2 })).status, 404);
    assert.equal((await t.admin("POST", "/admin/api-keys", { api_key: "another-key-05", weight: -1 })).status, 400);
  });
});
