/** The OpenAPI document of a pool with the user system on: in sync, and matching real answers. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPool, ollama } from "../mod.ts";
import { openApiPath } from "../src/openapi/document.ts";
import type { Pool } from "../src/pool.ts";
import { check, pointer } from "./helpers/schema_check.ts";

type Obj = Record<string, unknown>;
const ADMIN = "openapi-users-admin-token";

describe("OpenAPI document with users", () => {
  let pool: Pool;
  let doc: Obj & { paths: Record<string, Record<string, Obj>> };
  const mails: string[] = [];
  before(async () => {
    pool = createPool({
      providers: [ollama({ baseURL: "http://127.0.0.1:9" })],
      auth: { adminToken: ADMIN },
      users: {
        secret: "openapi-users-secret-of-32-characters+",
        pbkdf2Iterations: 100_000,
        mailer: { send: (m) => Promise.resolve(void mails.push(m.text)) },
      },
      logger: { info() {}, warn() {}, error() {} },
    });
    doc = await (await pool.fetch(new Request("http://pool/openapi.json"))).json();
  });
  after(() => pool.close());

  const call = (method: string, path: string, body?: unknown, auth?: string) =>
    pool.fetch(
      new Request(`http://pool${path}`, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      }),
    );
  const conforms = async (res: Response, method: string, path: string) => {
    assert.equal(res.status, 200, `${method} ${path}`);
    const op = doc.paths[path][method.toLowerCase()] as {
      responses: Record<string, { content: Record<string, { schema: unknown }> }>;
    };
    const errs = check(doc, op.responses["200"].content["application/json"].schema, await res.json());
    assert.deepEqual(errs, [], `${method} ${path}`);
  };

  it("documents exactly the routes served, with the user session scheme", () => {
    const served = [
      ...new Set(pool.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${openApiPath(r.path)}`)),
    ].sort();
    const documented = Object.entries(doc.paths).flatMap(([p, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`)
    ).sort();
    assert.deepEqual(served, documented);
    assert.ok(pointer(doc, "#/components/securitySchemes/userSession"));
    assert.deepEqual(doc.paths["/api/auth/profile"].get.security, [{ userSession: [] }]);
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    assert.equal(new Set(ids).size, ids.length, "operationIds are unique with users on too");
  });

  it("real answers of the user routes match the document", async () => {
    await conforms(await call("GET", "/api/auth/config"), "GET", "/api/auth/config");
    assert.equal(
      (await call("POST", "/api/auth/send-code", { email: "doc@example.com", purpose: "register" })).status,
      200,
    );
    const code = /\b(\d{6})\b/.exec(mails[0])![1];
    const reg = await call("POST", "/api/auth/register", {
      email: "doc@example.com",
      code,
      password: "long enough pw",
    });
    const session = (await reg.clone().json()).token as string;
    await conforms(reg, "POST", "/api/auth/register");
    await conforms(await call("GET", "/api/auth/profile", undefined, session), "GET", "/api/auth/profile");
    await conforms(await call("POST", "/api/auth/sign", undefined, session), "POST", "/api/auth/sign");
    await conforms(await call("GET", "/api/auth/signins", undefined, session), "GET", "/api/auth/signins");
    const list = await call("GET", "/admin/users", undefined, ADMIN);
    const id = (await list.clone().json()).users[0].id as string;
    await conforms(list, "GET", "/admin/users");
    await conforms(await call("GET", `/admin/users/${id}`, undefined, ADMIN), "GET", "/admin/users/{id}");
    await conforms(await call("PATCH", `/admin/users/${id}`, { role: "admin" }, ADMIN), "PATCH", "/admin/users/{id}");
    await conforms(
      await call("POST", `/admin/users/${id}/extend-key`, { days: 2 }, ADMIN),
      "POST",
      "/admin/users/{id}/extend-key",
    );
    await conforms(
      await call("POST", `/admin/users/${id}/reset-key`, {}, ADMIN),
      "POST",
      "/admin/users/{id}/reset-key",
    );
    await conforms(
      await call("GET", `/admin/users/${id}/signins`, undefined, ADMIN),
      "GET",
      "/admin/users/{id}/signins",
    );
    await conforms(await call("POST", "/api/auth/logout", undefined, session), "POST", "/api/auth/logout");
    await conforms(
      await call("POST", "/admin/users/batch", { ids: [id, "nope"], isActive: false }, ADMIN),
      "POST",
      "/admin/users/batch",
    );
  });
});
