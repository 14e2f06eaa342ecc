/** Library use: the pool's Hono app mounted under a prefix of another app. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildApp } from "../examples/hono-middleware/app.ts";
import { createPool, ollama } from "../mod.ts";
import { startMockUpstream, type MockUpstream } from "./helpers/mock_upstream.ts";

describe("mounted in an existing Hono app", () => {
  let mock: MockUpstream;
  before(async () => {
    mock = await startMockUpstream();
  });
  after(() => mock.close());

  it("serves the host's routes and the pool's under /llm", async () => {
    const pool = createPool({ providers: [ollama({ baseURL: mock.url })], auth: { adminToken: "mount-admin-token-01" }, logger: { info() {}, warn() {}, error() {} } });
    const app = buildApp(pool);
    assert.equal(await (await app.request("/")).text(), "my app; the LLM pool lives under /llm");
    const admin = { authorization: "Bearer mount-admin-token-01", "content-type": "application/json" };
    await app.request("/llm/admin/api-keys/import", { method: "POST", headers: admin, body: JSON.stringify({ keys: ["good-key-mount-001"] }) });
    const { token } = await (await app.request("/llm/admin/tokens", { method: "POST", headers: admin, body: JSON.stringify({ name: "m" }) })).json();
    const res = await app.request("/llm/v1/chat/completions", {
      method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ model: "llama3.2", messages: [] }),
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).object, "chat.completion");
    const missing = await app.request("/llm/v1/nothing", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "not_found");
    await pool.close();
  });
});
