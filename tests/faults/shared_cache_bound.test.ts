/**
 * A client with a valid token against a pool whose response cache is shared (`cache.shared`) on a
 * store that does not expire items (files, memory: the default server's storage): every distinct
 * request body left a `cache:` record in the store for good, past its TTL and past `maxEntries`,
 * so the disk grew with whatever clients sent. An entry leaving the instance's cache (evicted or
 * expired) now leaves the store too: the store holds at most `maxEntries` per instance.
 * @module
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fsStorage } from "../../adapters/node.ts";
import { createPool, ollama, type Pool } from "../../mod.ts";
import { type MockUpstream, startMockUpstream } from "../helpers/mock_upstream.ts";
import { within } from "../helpers/poll.ts";

const ADMIN = "shared-cache-admin-token-01";
const MAX_ENTRIES = 10;

describe("a shared response cache on a store without expiry", () => {
  let dir: string;
  let mock: MockUpstream;
  let pool: Pool;
  let token: string;
  let now = 1_800_000_000_000;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pool-shared-cache-"));
    mock = await startMockUpstream();
    pool = createPool({
      providers: [ollama({ baseURL: mock.url })],
      storage: fsStorage(dir),
      cache: { enabled: true, shared: true, maxEntries: MAX_ENTRIES, ttlMs: 60_000 },
      auth: { adminToken: ADMIN },
      now: () => now,
      logger: { info() {}, warn() {}, error() {} },
    });
    const admin = (path: string, body: unknown) =>
      pool.fetch(
        new Request(`http://pool${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
    await admin("/admin/api-keys/import", { keys: ["cache-key-000001"] });
    token = (await (await admin("/admin/tokens", { name: "c" })).json()).token;
  });
  after(async () => {
    await pool.close();
    await mock.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ask = async (i: number) => {
    const res = await pool.fetch(
      new Request("http://pool/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: `question ${i}` }] }),
      }),
    );
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  };
  const stored = async () => (await readdir(join(dir, "cache")).catch(() => [])).filter((f) => !f.endsWith("~"));

  it("keeps at most maxEntries records in the store, however many distinct requests came", async () => {
    for (let i = 0; i < 4 * MAX_ENTRIES; i++) await ask(i);
    await within(2000, async () => (await stored()).length <= MAX_ENTRIES, `at most ${MAX_ENTRIES} cache records`);
  });

  it("removes an expired record when it is met", async () => {
    now += 120_000; // every entry is past its TTL
    await ask(0); // a miss: the old entry of this body expired; the new answer is stored
    for (let i = 1; i < 2 * MAX_ENTRIES; i++) await ask(1000 + i);
    await within(2000, async () => (await stored()).length <= MAX_ENTRIES, `at most ${MAX_ENTRIES} cache records`);
  });
});
