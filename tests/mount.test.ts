/** Library use: the pool's Hono app mounted under a prefix of another app. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildApp } from "../examples/hono-middleware/app.ts";
import { createPool, ollama } from "../mod.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";

describe("mounted in an existing Hono app", () => {
  let mock: MockUpstream;
  before(async () => {
    mock = await startMockUpstream();
  });
  after(() => mock.close());

  it("serves the host's routes and the pool's under /llm", async () => {
    const pool = createPool({
      providers: [ollama({ baseURL: mock.url })],
      auth: { adminToken: "mount-admin-token-01" },
      logger: { info() {}, warn() {}, error() {} },
    });
    const app = buildApp(pool);
    assert.equal(await (await app.request("/")).text(), "my app; the LLM pool lives under /llm");
    const admin = { authorization: "Bearer mount-admin-token-01", "content-type": "application/json" };
    await app.request("/llm/admin/api-keys/import", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ keys: ["good-key-mount-001"] }),
    });
    const { token } = await (await app.request("/llm/admin/tokens", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "m" }),
    })).json();
    const res = await app.request("/llm/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: "llama3.2", messages: [] }),
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).object, "chat.completion");
    const missing = await app.request("/llm/v1/nothing", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "not_found");
    const batches = await app.request("/llm/v1/messages/batches", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(batches.status, 404);
    const shape = await batches.json();
    assert.deepEqual(
      [shape.type, shape.error.type],
      ["error", "not_found_error"],
      "Anthropic's shape under the mount too",
    );
    await pool.close();
  });

  it("serves the dashboard at /llm and /llm/, redirects the login there and keeps every tab under it", async () => {
    const admin = "mount-admin-token-02";
    const pool = createPool({
      providers: [ollama({ baseURL: mock.url })],
      auth: { adminToken: admin },
      logger: { info() {}, warn() {}, error() {} },
    });
    const app = buildApp(pool);
    for (const path of ["/llm", "/llm/"]) {
      const res = await app.request(path);
      assert.equal(res.status, 200, path);
      assert.match(
        await res.text(),
        /action="\/llm\/ui\/login"/,
        `${path} shows the login form posting under the mount`,
      );
    }
    const login = await app.request("/llm/ui/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${admin}`,
    });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get("location"), "/llm/");
    assert.match(login.headers.get("set-cookie")!, /Path=\/llm;/);
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    const home = await (await app.request("/llm/", { headers: { cookie } })).text();
    const tabs = [...home.matchAll(/href="([^"]*\?tab=[^"]*)"/g)].map((m) => m[1].replaceAll("&amp;", "&"));
    assert.ok(tabs.length >= 5, `tab links: ${tabs}`);
    for (const href of tabs) {
      assert.ok(href.startsWith("/llm/"), href);
      const res = await app.request(href, { headers: { cookie } });
      assert.equal(res.status, 200, href);
      assert.match(await res.text(), /nav class="tabs"/, href);
    }
    assert.equal((await app.request("/llm/nothing")).status, 404, "other paths still get the pool's 404");
    await pool.close();
  });
});
