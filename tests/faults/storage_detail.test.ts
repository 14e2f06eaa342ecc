/**
 * Fault suite, storage: what a storage failure shows, and to whom. The backend's own error text
 * names internal addresses (`connect ECONNREFUSED 10.0.0.5:6379`); the public `/health` says only
 * that storage is unavailable, the admin's `/admin/health` gives the detail.
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createStorage, type Driver } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { createPool, ollama } from "../../mod.ts";
import { adminRequest } from "../helpers/setup.ts";

const ADMIN = "storage-detail-admin-token";
const INTERNAL = "connect ECONNREFUSED 10.0.0.5:6379";

/** A memory store that fails every call, as an unreachable Redis does, while `down.now` is set. */
function switchableStorage() {
  const down = { now: false };
  const inner = memoryDriver() as unknown as Record<string | symbol, unknown>;
  const driver = new Proxy(inner, {
    get(target, name) {
      const member = target[name];
      if (typeof member !== "function") return member;
      return (...args: unknown[]) =>
        down.now ? Promise.reject(new Error(INTERNAL)) : (member as (...a: unknown[]) => unknown).apply(target, args);
    },
  }) as unknown as Driver;
  return { storage: createStorage({ driver }), down };
}

describe("fault suite: storage failure detail", () => {
  it("the public /health says unavailable without the backend's text; /admin/health gives it", async () => {
    const { storage, down } = switchableStorage();
    const pool = createPool({
      providers: [ollama({ baseURL: "http://127.0.0.1:9" })],
      storage,
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
    });
    await pool.ready();
    down.now = true;
    await pool.flush().catch(() => {}); // fails: the pool now knows its storage is not answering

    const res = await pool.fetch(new Request("http://pool/health"));
    const text = await res.text();
    assert.equal(res.status, 200);
    const health = JSON.parse(text);
    assert.equal(health.status, "degraded");
    assert.equal(health.storage.status, "degraded");
    assert.equal(typeof health.storage.error, "string");
    assert.doesNotMatch(text, /ECONNREFUSED|10\.0\.0\.5|6379/, "no internal address in the public answer");

    const refused = await pool.fetch(new Request("http://pool/admin/health"));
    assert.equal(refused.status, 401, "the detail needs the admin credential");
    await refused.text();
    const detailed = await (await pool.fetch(adminRequest(ADMIN, "GET", "/admin/health"))).json();
    assert.equal(detailed.storage.status, "degraded");
    assert.equal(detailed.storage.error, INTERNAL, "the admin sees the backend's own error");
    assert.equal(typeof detailed.storage.since, "number");
  });

  it("the first request while storage is down is refused in its route's dialect", async () => {
    const { storage, down } = switchableStorage();
    down.now = true; // before the pool ever loaded
    const pool = createPool({
      providers: [ollama({ baseURL: "http://127.0.0.1:9" })],
      storage,
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
    });
    const messages = await pool.fetch(
      new Request("http://pool/v1/messages", {
        method: "POST",
        headers: { authorization: "Bearer some-client-token", "content-type": "application/json" },
        body: JSON.stringify({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
      }),
    );
    assert.equal(messages.status, 503);
    const anthropic = await messages.json();
    assert.equal(anthropic.type, "error", "Anthropic's shape on /v1/messages");
    assert.equal(typeof anthropic.error?.type, "string");
    assert.equal(typeof anthropic.error?.message, "string");
    assert.doesNotMatch(JSON.stringify(anthropic), /ECONNREFUSED|10\.0\.0\.5/);

    const chat = await pool.fetch(new Request("http://pool/v1/chat/completions", { method: "POST", body: "{}" }));
    assert.equal(chat.status, 503);
    assert.equal((await chat.json()).error.code, "storage_unavailable", "OpenAI's shape elsewhere");
  });
});
