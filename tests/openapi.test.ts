/**
 * The OpenAPI document: in sync with the routes the app really registers, structurally valid
 * 3.1, its shapes matching real answers, rendered at /api-docs, and per provider.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPool, ollama, openaiCompatible, openrouter } from "../mod.ts";
import { openApiPath } from "../src/openapi/document.ts";
import type { Pool } from "../src/pool.ts";
import { check, pointer } from "./helpers/schema_check.ts";
import { ADMIN, setupPool, type TestPool } from "./helpers/setup.ts";

type Obj = Record<string, unknown>;
type Doc = Obj & {
  paths: Record<string, Record<string, Obj>>;
  components: Record<string, Obj>;
  tags: Array<{ name: string }>;
};
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

const getDoc = async (pool: Pool, path = "/openapi.json"): Promise<Doc> => {
  const res = await pool.fetch(new Request(`http://pool${path}`));
  assert.equal(res.status, 200);
  return await res.json() as Doc;
};

/** "METHOD /path" of every route the app serves, catch-alls and middleware (method ALL) left out. */
function served(pool: Pool): string[] {
  return [
    ...new Set(pool.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${openApiPath(r.path)}`)),
  ].sort();
}

function documented(doc: Doc): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`)
  ).sort();
}

function operations(doc: Doc): Array<{ method: string; path: string; op: Obj }> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({ method, path, op }))
  );
}

/** Schema of a documented response (through a `$ref` to a shared response). */
function responseSchema(doc: Doc, method: string, path: string, status: number, type = "application/json"): unknown {
  const op = doc.paths[path]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${path} is not documented`);
  let res = (op.responses as Obj)[String(status)] as Obj | undefined;
  assert.ok(res, `${method} ${path} does not document ${status}`);
  if (typeof res.$ref === "string") res = pointer(doc, res.$ref) as Obj;
  const media = (res.content as Record<string, Obj> | undefined)?.[type];
  assert.ok(media, `${method} ${path} ${status} documents no ${type}`);
  return media.schema;
}

function assertConforms(doc: Doc, schema: unknown, value: unknown, what: string): void {
  const errs = check(doc, schema, value);
  assert.deepEqual(errs, [], `${what} does not match its documented schema:\n${errs.join("\n")}`);
}

describe("OpenAPI document", () => {
  let t: TestPool;
  let doc: Doc;
  before(async () => {
    t = await setupPool({ keys: ["good-key-openapi-001", "good-key-openapi-002"] });
    await t.setKeys(["good-key-openapi-or01"], "openrouter");
    doc = await getDoc(t.pool);
  });
  after(() => t.close());

  it("documents exactly the routes the app serves", () => {
    const s = served(t.pool);
    const d = documented(doc);
    assert.deepEqual(
      s.filter((x) => !d.includes(x)),
      [],
      "served but not documented (add a descriptor in src/openapi/)",
    );
    assert.deepEqual(d.filter((x) => !s.includes(x)), [], "documented but not served");
  });

  it("is served publicly as cacheable JSON, with the mount point as server", async () => {
    const res = await t.pool.fetch(new Request("http://pool/openapi.json"));
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.match(res.headers.get("cache-control") ?? "", /public, max-age=\d+/);
    assert.deepEqual(doc.servers, [{ url: "/" }]);
  });

  it("is structurally valid OpenAPI 3.1", () => {
    assert.match(String(doc.openapi), /^3\.1\.\d+$/);
    const info = doc.info as Obj;
    assert.equal(typeof info.title, "string");
    assert.equal(typeof info.version, "string");
    // Every $ref resolves.
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) {
          k === "$ref" ? refs.push(x as string) : walk(x);
        }
      }
    };
    walk(doc);
    assert.ok(refs.length > 50);
    assert.deepEqual(refs.filter((r) => pointer(doc, r) === undefined), [], "unresolved $ref");
    const ids = new Set<string>();
    const tagNames = new Set(doc.tags.map((x) => x.name));
    const schemes = doc.components.securitySchemes;
    for (const { method, path, op } of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.ok(path.startsWith("/"), where);
      assert.equal(typeof op.operationId, "string", where);
      assert.ok(!ids.has(op.operationId as string), `duplicate operationId ${op.operationId}`);
      ids.add(op.operationId as string);
      const params = ((op.parameters ?? []) as Obj[]).map((
        p,
      ) => (typeof p.$ref === "string" ? pointer(doc, p.$ref) as Obj : p));
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = params.filter((p) => p.in === "path");
      assert.deepEqual(declared.map((p) => p.name).sort(), inPath, `${where}: path parameters`);
      for (const p of declared) assert.equal(p.required, true, `${where}: path parameter ${p.name} must be required`);
      for (const p of params) assert.ok(p.name && p.in && p.schema, `${where}: parameter needs name, in and schema`);
      assert.ok(Array.isArray(op.security), `${where}: security`);
      for (const req of op.security as Obj[]) {
        for (const name of Object.keys(req)) assert.ok(name in schemes, `${where}: unknown scheme ${name}`);
      }
      for (const tag of op.tags as string[]) assert.ok(tagNames.has(tag), `${where}: undeclared tag ${tag}`);
      const statuses = Object.keys(op.responses as Obj);
      assert.ok(statuses.some((s) => /^[23]/.test(s)), `${where}: no success response`);
      for (const s of statuses.filter((x) => /^[45]/.test(x))) {
        // Every error is the shared OpenAI error object (the login form's 401 and the user
        // pages' 404 when self-service is off are pages), but Anthropic's shape on its routes.
        if ((path === "/ui/login" && (s === "401" || s === "429")) || (path.startsWith("/user") && s === "404")) {
          continue;
        }
        const shape = path.includes("/messages") ? "AnthropicError" : "Error";
        assert.deepEqual(
          responseSchema(doc, method, path, Number(s)),
          { $ref: `#/components/schemas/${shape}` },
          `${where} ${s}`,
        );
      }
    }
  });

  it("the checker the shape tests rely on catches what it should", () => {
    const counts = { $ref: "#/components/schemas/KeyCounts" };
    assert.deepEqual(check(doc, counts, { total: 1, active: 1, cooling: 0, disabled: 0 }), []);
    assert.equal(
      check(doc, counts, { total: 1, active: 1, cooling: 0, disabled: 0, extra: 1 }).length,
      1,
      "undocumented field",
    );
    assert.equal(check(doc, counts, { total: 1, active: 1, cooling: 0 }).length, 1, "missing required field");
    assert.equal(check(doc, counts, { total: "1", active: 1, cooling: 0, disabled: 0 }).length, 1, "wrong type");
  });

  it("describes auth per area: client token for proxy routes, admin for /admin and /metrics, none for public", () => {
    const sec = (m: string, p: string) => (doc.paths[p][m].security as Obj[]).flatMap((r) => Object.keys(r)).sort();
    assert.deepEqual(sec("post", "/v1/chat/completions"), ["clientApiKey", "clientToken"]);
    assert.deepEqual(sec("post", "/api/chat"), ["clientApiKey", "clientToken"]);
    assert.deepEqual(sec("get", "/admin/api-keys"), ["adminSession", "adminToken"]);
    assert.deepEqual(sec("get", "/metrics"), ["adminToken"]);
    assert.deepEqual(sec("get", "/health"), []);
    assert.deepEqual(sec("get", "/admin/public-stats"), []);
    const provider = pointer(doc, "#/components/schemas/ProviderId") as Obj;
    assert.deepEqual(provider.enum, ["ollama", "openrouter"]);
    const chat = doc.paths["/v1/chat/completions"].post.responses as Record<string, Obj>;
    assert.ok((chat["200"].content as Obj)["text/event-stream"]);
    assert.ok(
      ((doc.paths["/api/chat"].post.responses as Record<string, Obj>)["200"].content as Obj)["application/x-ndjson"],
    );
    assert.ok(
      ((doc.paths["/admin/keys/health-check"].post.responses as Record<string, Obj>)["200"].content as Obj)[
        "application/x-ndjson"
      ],
    );
  });

  it("every public or admin GET without path parameters answers what it documents", async () => {
    let checked = 0;
    for (const { method, path, op } of operations(doc)) {
      if (method !== "get" || path.includes("{") || String((op.tags as string[])[0]).startsWith("Proxy")) continue;
      const res200 = (op.responses as Record<string, Obj>)["200"];
      const schema = (res200?.content as Record<string, Obj> | undefined)?.["application/json"]?.schema;
      if (!schema || path === "/openapi.json") continue;
      const res = await t.admin("GET", path);
      assert.equal(res.status, 200, `GET ${path}`);
      assertConforms(doc, schema, await res.json(), `GET ${path}`);
      checked++;
    }
    assert.ok(checked >= 7, `only ${checked} routes checked`);
  });

  it("admin writes answer what they document", async () => {
    const call = async (
      method: string,
      path: string,
      body: unknown,
      status: number,
      docPath = path.replace(/\?.*$/, ""),
    ) => {
      const res = await t.admin(method, path, body);
      assert.equal(res.status, status, `${method} ${path}`);
      const json = await res.json();
      assertConforms(doc, responseSchema(doc, method, docPath, status), json, `${method} ${path} ${status}`);
      return json;
    };
    const key = await call("POST", "/admin/api-keys", {
      api_key: "good-key-openapi-003",
      username: "a@example.com",
      ttl: 3600,
    }, 201);
    await call("POST", "/admin/api-keys", { api_key: "good-key-openapi-003" }, 409);
    await call("POST", "/admin/api-keys/import", {
      keys: ["good-key-openapi-004", { key: "good-key-openapi-005", username: "b" }, 7],
    }, 200);
    await call("POST", "/admin/api-keys/import-from-txt", {
      content: "a@x----p----s----good-key-openapi-006\nbroken line\n",
    }, 200);
    await call("POST", "/admin/api-keys/import-with-validation", {
      content: "a@x----p----s----good-key-openapi-007\na@x----p----s----bad-key-openapi-0008\n",
    }, 200);
    await call("POST", "/admin/verify-key", { apiKey: "bad-key-openapi-0009" }, 200);
    await call("POST", "/admin/keys/disable", { id: key.id, duration: 0 }, 200);
    await call("POST", "/admin/keys/enable", { id: key.id }, 200);
    await call("POST", "/admin/keys/enable", { id: "nope" }, 404);
    const job = await call("POST", "/admin/keys/health-check", {}, 202);
    await call("POST", "/admin/keys/health-check?wait=true", { status: "active" }, 200);
    await call("GET", `/admin/keys/health-check/${job.jobId}`, undefined, 200, "/admin/keys/health-check/{jobId}");
    await call("DELETE", "/admin/api-keys", { id: key.id }, 200);
    await call("DELETE", "/admin/api-keys", { apiKeys: ["good-key-openapi-004", "nope"] }, 200);
    const tok = await call(
      "POST",
      "/admin/tokens",
      { name: "docs", expiresIn: 60, allowedModels: ["llama*"], rpm: 10 },
      201,
    );
    await call("PATCH", "/admin/tokens", { id: tok.id, rpm: null, name: "docs2" }, 200);
    await call("DELETE", "/admin/tokens", { id: tok.id }, 200);
    await call("POST", "/admin/cache/clear", {}, 200);
    await call("GET", "/admin/api-keys?status=bogus", undefined, 400);
  });

  it("NDJSON progress lines match their documented schema", async () => {
    const res = await t.pool.fetch(
      new Request("http://pool/admin/keys/health-check", {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, accept: "application/x-ndjson" },
        body: "{}",
      }),
    );
    assert.match(res.headers.get("content-type") ?? "", /application\/x-ndjson/);
    const schema = responseSchema(doc, "POST", "/admin/keys/health-check", 200, "application/x-ndjson");
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.at(-1).type, "done");
    for (const line of lines) assertConforms(doc, schema, line, "an NDJSON line");
  });

  it("proxy answers and errors match: JSON, SSE, NDJSON, the error object", async () => {
    const chat = { model: "llama3.2", messages: [{ role: "user", content: "hi" }] };
    const res = await t.call("/v1/chat/completions", { method: "POST", body: JSON.stringify(chat) });
    assertConforms(doc, responseSchema(doc, "POST", "/v1/chat/completions", 200), await res.json(), "chat completion");
    const sse = await t.call("/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ ...chat, stream: true }),
    });
    responseSchema(doc, "POST", "/v1/chat/completions", 200, sse.headers.get("content-type")!.split(";")[0]);
    await sse.body?.cancel();
    const nd = await t.call("/api/chat", { method: "POST", body: JSON.stringify(chat) });
    const ndSchema = responseSchema(doc, "POST", "/api/chat", 200, nd.headers.get("content-type")!.split(";")[0]);
    for (const line of (await nd.text()).trim().split("\n")) {
      assertConforms(doc, ndSchema, JSON.parse(line), "an Ollama NDJSON line");
    }
    for (const path of ["/v1/models", "/api/tags", "/openrouter/v1/models"]) {
      const r = await t.call(path);
      assert.equal(r.status, 200, path);
      assertConforms(doc, responseSchema(doc, "GET", path, 200), await r.json(), path);
    }
    const denied = await t.call("/v1/models", { headers: { authorization: "Bearer wrong" } });
    assertConforms(doc, responseSchema(doc, "GET", "/v1/models", 401), await denied.json(), "a 401");
  });

  it("Responses, Anthropic Messages and /api/version answers match, Anthropic errors too", async () => {
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      t.call(path, { method: "POST", body: JSON.stringify(body), headers });
    const resp = await post("/v1/responses", { model: "llama3.2", input: "hi" });
    assertConforms(doc, responseSchema(doc, "POST", "/v1/responses", 200), await resp.json(), "a response");
    const msg = { model: "llama3.2", max_tokens: 16, messages: [{ role: "user", content: "hi" }] };
    const m = await post("/v1/messages", msg);
    assertConforms(doc, responseSchema(doc, "POST", "/v1/messages", 200), await m.json(), "a message");
    const count = await post("/v1/messages/count_tokens", msg);
    assertConforms(
      doc,
      responseSchema(doc, "POST", "/v1/messages/count_tokens", 200),
      await count.json(),
      "a token count",
    );
    const version = await t.call("/api/version");
    assertConforms(doc, responseSchema(doc, "GET", "/api/version", 200), await version.json(), "a version");
    const denied = await post("/v1/messages", msg, { authorization: "", "x-api-key": "wrong" });
    assert.equal(denied.status, 401);
    assertConforms(doc, responseSchema(doc, "POST", "/v1/messages", 401), await denied.json(), "an Anthropic 401");
  });

  it("/api-docs is a CSP-protected page listing every path and linking the JSON", async () => {
    const res = await t.pool.fetch(new Request("http://pool/api-docs"));
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(res.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    const html = await res.text();
    assert.ok(html.includes('href="/openapi.json"'));
    assert.ok(!/<script/i.test(html), "the docs page needs no script");
    assert.ok(!/ style=/i.test(html), "no inline style attribute (CSP)");
    for (const path of Object.keys(doc.paths)) {
      assert.ok(html.includes(`<code class="path">${path}</code>`), `page lacks ${path}`);
    }
  });
});

describe("OpenAPI document per configuration", () => {
  const quiet = { info() {}, warn() {}, error() {} };

  it("includes an openaiCompatible provider's routes under its prefix, and stays in sync", async () => {
    const pool = createPool({
      providers: [
        ollama(),
        openrouter(),
        openaiCompatible({ id: "acme", baseURL: "http://127.0.0.1:9/v1", prefix: "/acme/v1" }),
      ],
      auth: { adminToken: "openapi-admin-token-x" },
      logger: quiet,
    });
    const doc = await getDoc(pool);
    for (const p of ["/acme/v1/chat/completions", "/acme/v1/completions", "/acme/v1/embeddings", "/acme/v1/models"]) {
      assert.ok(doc.paths[p], p);
    }
    assert.deepEqual(doc.paths["/acme/v1/chat/completions"].post.tags, ["Proxy: acme"]);
    assert.ok(doc.tags.some((x) => x.name === "Proxy: acme"));
    assert.deepEqual((pointer(doc, "#/components/schemas/ProviderId") as Obj).enum, ["ollama", "openrouter", "acme"]);
    assert.deepEqual(served(pool), documented(doc));
    await pool.close();
  });

  it("names the mount point as its server when mounted under a prefix", async () => {
    const { Hono } = await import("hono");
    const pool = createPool({ providers: [ollama()], auth: { adminToken: "openapi-admin-token-x" }, logger: quiet });
    const host = new Hono().route("/llm", pool.app);
    const doc = await (await host.request("/llm/openapi.json")).json() as Doc;
    assert.deepEqual(doc.servers, [{ url: "/llm" }]);
    const html = await (await host.request("/llm/api-docs")).text();
    assert.ok(html.includes('href="/llm/openapi.json"'));
    await pool.close();
  });
});
