/**
 * Hostile clients (issue 13), hostile input: deeply nested JSON is a 400 on proxy, admin and
 * user routes (it was a 500 from a stack overflow, with a stack trace in the log); free text has
 * length limits with a 400 naming the field; logging out of the dashboard ends the session on
 * every instance, not only in this browser; malformed ids are 404, not 500; the public API
 * description names no upstream address.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPool, ollama, openrouter } from "../../mod.ts";
import { MAX_JSON_DEPTH } from "../../src/proxy/json_depth.ts";
import { MAX_LABEL_LENGTH } from "../../src/keys/parse.ts";
import { ADMIN } from "../helpers/setup.ts";
import { type UsersPool, usersPool } from "../helpers/users.ts";

const nested = (depth: number, inner = "1") => "[".repeat(depth) + inner + "]".repeat(depth);

describe("hostile clients: hostile input", () => {
  let t: UsersPool;
  const logged: string[] = [];
  before(async () => {
    t = await usersPool({
      keys: ["good-input-key-01"],
      logger: { info() {}, warn() {}, error: (m) => void logged.push(m) },
    });
  });
  after(() => t.close());

  const chatBody = (extra: string) =>
    `{"model":"llama3.2","stream":true,"messages":[{"role":"user","content":"hi"}],"metadata":${extra}}`;

  it("answers deeply nested JSON with 400 on proxy, admin and user routes, logging nothing", async () => {
    const deep = nested(100_000);
    for (
      const [path, body] of [
        ["/v1/chat/completions", chatBody(deep)],
        ["/api/chat", chatBody(deep)],
        ["/openrouter/v1/chat/completions", `{"model":"x","messages":${deep}}`],
        ["/v1/embeddings", deep],
      ]
    ) {
      const res = await t.call(path, { method: "POST", body });
      assert.equal(res.status, 400, path);
      assert.equal((await res.json()).error.code, "json_too_deep", path);
    }
    const res = await t.pool.fetch(
      new Request("http://pool/admin/tokens", {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}` },
        body: `{"name":"x","allowedModels":${nested(50_000, '"m"')}}`,
      }),
    );
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, "json_too_deep");
    const user = await t.pool.fetch(
      new Request("http://pool/api/auth/login", { method: "POST", body: `{"email":${nested(5000, '"a@b.c"')}}` }),
    );
    assert.equal(user.status, 400);
    assert.equal((await user.json()).error.code, "json_too_deep");
    assert.deepEqual(logged, [], "no stack trace in the log");
  });

  it("accepts nesting up to the bound, and brackets inside strings do not count", async () => {
    const ok = await t.call("/v1/chat/completions", { method: "POST", body: chatBody(nested(MAX_JSON_DEPTH - 3)) });
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    const text = `"${"[{".repeat(5000)}\\"${"]}".repeat(10)}"`;
    const strings = await t.call("/v1/chat/completions", {
      method: "POST",
      body: `{"model":"llama3.2","messages":[{"role":"user","content":${text}}]}`,
    });
    assert.equal(strings.status, 200);
    await strings.arrayBuffer();
  });

  it("limits key labels and token names, naming the field", async () => {
    const long = "l".repeat(50_000);
    const add = await t.admin("POST", "/admin/api-keys", { api_key: "good-long-label-key-1", username: long });
    assert.equal(add.status, 400);
    assert.match((await add.json()).error.message, /'username'.*200/);
    const list = await (await t.admin("POST", "/admin/api-keys/import", {
      keys: [{ key: "good-long-label-key-2", username: long }],
    })).json();
    assert.equal(list.added, 0);
    assert.match(list.invalid[0].reason, /username/);
    const txt = await (await t.admin("POST", "/admin/api-keys/import-from-txt", {
      content: `${long}----pw----sess----good-long-label-key-3`,
    })).json();
    assert.equal(txt.added, 0);
    assert.match(txt.invalid[0].reason, /username/);
    const fits = await t.admin("POST", "/admin/api-keys", {
      api_key: "good-long-label-key-4",
      username: "l".repeat(MAX_LABEL_LENGTH),
    });
    assert.equal(fits.status, 201);
    const token = await t.admin("POST", "/admin/tokens", { name: long });
    assert.equal(token.status, 400);
    assert.match((await token.json()).error.message, /'name'/);
  });

  it("ends a dashboard session on logout for every copy of the cookie and every instance", async () => {
    const login = await t.pool.fetch(
      new Request("http://pool/ui/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `token=${ADMIN}`,
      }),
    );
    assert.equal(login.status, 303);
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    const other = createPool({
      providers: [ollama({ baseURL: t.mock.url }), openrouter({ baseURL: `${t.mock.url}/api` })],
      storage: t.pool.state.options.storage,
      now: t.pool.state.options.now,
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
    });
    const get = (pool: { fetch(r: Request): Promise<Response> }, path = "/admin/tokens") =>
      pool.fetch(new Request(`http://pool${path}`, { headers: { cookie } }));
    assert.equal((await get(t.pool)).status, 200);
    assert.equal((await get(other)).status, 200);
    const out = await t.pool.fetch(new Request("http://pool/ui/logout", { method: "POST", headers: { cookie } }));
    assert.equal(out.status, 303);
    assert.equal((await get(t.pool)).status, 401, "the copied cookie no longer works here");
    assert.equal((await get(other)).status, 401, "nor on another instance");
    assert.match(await (await get(t.pool, "/")).text(), /id="token"/, "the dashboard shows the login form");
    await other.close();
  });

  it("answers malformed ids with 404, never 500", async () => {
    for (const id of ["..%2F..", "..%2F..%2Fkeys%3Aollama", "%00", "a%3Ab", "x".repeat(5000), "%2E%2E"]) {
      for (const path of [`/admin/users/${id}`, `/admin/users/${id}/signins`, `/admin/keys/health-check/${id}`]) {
        const res = await t.admin("GET", path);
        assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`);
        assert.ok((await res.json()).error.code);
      }
      const patch = await t.admin("PATCH", `/admin/users/${id}`, { isActive: false });
      assert.ok(patch.status === 404 || patch.status === 400, `PATCH ${id}: ${patch.status}`);
      await patch.arrayBuffer();
    }
    for (const id of ["../..", "a:b", "..\\..", "x".repeat(5000)]) {
      for (
        const [method, path, body] of [
          ["DELETE", "/admin/tokens", { id }],
          ["PATCH", "/admin/tokens", { id, name: "x" }],
          ["DELETE", "/admin/api-keys", { id }],
          ["POST", "/admin/keys/enable", { id }],
          ["POST", "/admin/keys/disable", { id }],
          ["POST", "/admin/keys/health-check", { ids: [id] }],
        ] as const
      ) {
        const res = await t.admin(method, path, body);
        assert.ok(res.status < 500, `${method} ${path} ${id.slice(0, 10)}: ${res.status}`);
        await res.arrayBuffer();
      }
    }
    const batch = await (await t.admin("POST", "/admin/users/batch", { ids: ["../..", "a:b"], isActive: false }))
      .json();
    assert.deepEqual(batch.notFound, ["../..", "a:b"]);
    assert.deepEqual(logged, []);
  });

  it("names no upstream address on the public API description", async () => {
    const host = new URL(t.mock.url).host;
    for (const path of ["/api-docs", "/openapi.json"]) {
      const text = await (await t.pool.fetch(new Request(`http://pool${path}`))).text();
      assert.ok(!text.includes(host), `${path} shows the upstream ${host}`);
      assert.ok(text.includes("/v1/chat/completions"), `${path} still documents the routes`);
    }
  });
});
