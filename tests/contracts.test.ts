/**
 * The route contracts, held to the document they produce: for every admin, user and public
 * operation of /openapi.json, each constraint the document declares on a body field or a query
 * parameter (type, required, minimum, maximum, minLength, maxLength, minItems, maxItems, enum,
 * pattern) is broken in turn, on top of the operation's documented example, and the pool must
 * answer 400 naming that field. The example itself must pass the contract. Nothing here lists
 * routes or fields: a constraint added to a contract is tested the moment it is declared.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPool, ollama, openrouter } from "../mod.ts";
import type { Pool } from "../src/pool.ts";
import { pointer } from "./helpers/schema_check.ts";
import { memoryMailer } from "./helpers/users.ts";

type Obj = Record<string, unknown>;
type Doc = Obj & { paths: Record<string, Record<string, Obj>> };
const ADMIN = "contracts-admin-token-0123";
const METHODS = ["get", "post", "put", "patch", "delete"];

/** A schema with its `$ref` followed (the provider id, a key state). */
const resolve = (doc: Doc, s: Obj): Obj => (typeof s.$ref === "string" ? resolve(doc, pointer(doc, s.$ref) as Obj) : s);

/** A value of the wrong JSON type for this schema, or undefined when every type is allowed. */
function wrongType(s: Obj): unknown {
  const types = new Set<string>();
  const collect = (x: Obj) => {
    for (const alt of (x.anyOf ?? x.oneOf ?? []) as Obj[]) collect(alt);
    if (typeof x.type === "string") types.add(x.type);
    if (Array.isArray(x.enum)) { for (const v of x.enum) types.add(typeof v === "string" ? "string" : "other"); }
  };
  collect(s);
  if (types.size === 0) return undefined;
  if (!types.has("boolean")) return true;
  if (!types.has("object")) return { not: "this" };
  return undefined;
}

/** Values breaking one declared constraint each: [constraint, value]. */
function violations(s: Obj): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const wrong = wrongType(s);
  if (wrong !== undefined) out.push(["type", wrong]);
  const plain = ((s.anyOf ?? s.oneOf) as Obj[] | undefined)?.find((a) => a.type !== "null") ?? s;
  const num = (k: string, v: unknown) => typeof v === "number" && out.push([k, k === "minimum" ? v - 1 : v + 1]);
  num("minimum", plain.minimum);
  num("maximum", plain.maximum);
  if (typeof plain.minLength === "number" && plain.minLength > 0) {
    out.push(["minLength", "x".repeat(plain.minLength - 1)]);
  }
  if (typeof plain.maxLength === "number") out.push(["maxLength", "x".repeat(plain.maxLength + 1)]);
  if (typeof plain.minItems === "number" && plain.minItems > 0) out.push(["minItems", []]);
  if (typeof plain.maxItems === "number") out.push(["maxItems", Array.from({ length: plain.maxItems + 1 }, () => "x")]);
  if (Array.isArray(plain.enum)) out.push(["enum", "not-one-of-them"]);
  if (typeof plain.pattern === "string") {
    const re = new RegExp(plain.pattern);
    const min = (plain.minLength as number | undefined) ?? 0;
    const bad = ["a b c d e f g h", "zzz", "zzzzzzzzzz", "\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001"].find((v) =>
      !re.test(v) && v.length >= min
    );
    assert.ok(bad, `no value breaks ${plain.pattern}`);
    out.push(["pattern", bad]);
  }
  return out;
}

interface Operation {
  method: string;
  path: string;
  op: Obj;
}

describe("route contracts: every declared constraint is enforced", () => {
  let pool: Pool;
  let doc: Doc;
  let ops: Operation[];
  /** A signed-in user's session, for the operations that take one instead of the admin token. */
  let session: string;
  const sessionOps = new Set<string>();
  before(async () => {
    const mailer = memoryMailer();
    pool = createPool({
      providers: [ollama({ baseURL: "http://127.0.0.1:9" }), openrouter({ baseURL: "http://127.0.0.1:9/api" })],
      auth: { adminToken: ADMIN },
      users: {
        secret: "contracts-users-secret-of-32-characters",
        pbkdf2Iterations: 100_000,
        mailer,
      },
      healthCheck: { timeoutMs: 500 },
      logger: { info() {}, warn() {}, error() {} },
    });
    doc = await (await pool.fetch(new Request("http://pool/openapi.json"))).json();
    // Admin, user and public operations: the proxy's are described by the wire formats, the pages take no JSON.
    ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).filter(([m, op]) =>
        METHODS.includes(m) && !String((op.tags as string[])[0]).startsWith("Proxy") &&
        (op.tags as string[])[0] !== "Pages"
      ).map(([method, op]) => ({ method, path, op }))
    );
    for (const { method, path, op } of ops) {
      if (JSON.stringify(op.security ?? "").includes("userSession")) sessionOps.add(`${method} ${path}`);
    }
    const post = (path: string, body: unknown) =>
      pool.fetch(new Request(`http://pool${path}`, { method: "POST", body: JSON.stringify(body) }));
    const email = "contracts@example.com";
    await post("/api/auth/send-code", { email, purpose: "register" });
    const password = "correct horse battery";
    session = (await (await post("/api/auth/register", { email, code: mailer.code(email), password })).json()).token;
  });
  after(() => pool.close());

  const call = (method: string, path: string, query: Record<string, string>, body: unknown, text?: string) => {
    const url = new URL(`http://pool${path.replace(/\{[^}]+\}/g, "contract-test-id")}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return pool.fetch(
      new Request(url, {
        method: method.toUpperCase(),
        headers: {
          authorization: `Bearer ${sessionOps.has(`${method} ${path}`) ? session : ADMIN}`,
          "content-type": "application/json",
        },
        body: text ?? (body === undefined ? undefined : JSON.stringify(body)),
      }),
    );
  };
  const jsonBodyOf = (op: Obj) =>
    ((op.requestBody as Obj | undefined)?.content as Record<string, Obj> | undefined)?.["application/json"];

  it("finds the operations to check", () => {
    assert.ok(ops.length >= 35, `${ops.length} operations`);
  });

  it("every JSON body has an example, and the example passes its contract", async () => {
    for (const { method, path, op } of ops) {
      const media = jsonBodyOf(op);
      if (!media) continue;
      const where = `${method.toUpperCase()} ${path}`;
      assert.ok(media.example !== undefined, `${where}: the document shows no example body`);
      const res = await call(method, path, {}, media.example);
      const answer = await res.text();
      // A 400 here must be the route's judgement of the values (a wrong code), not the contract's.
      if (res.status === 400) {
        assert.ok(!/"code":"(missing_field|invalid_field)"/.test(answer), `${where}: example refused: ${answer}`);
      }
    }
  });

  it("a body breaking any declared constraint gets 400 naming the field", async () => {
    let checked = 0;
    for (const { method, path, op } of ops) {
      const media = jsonBodyOf(op);
      if (!media) continue;
      const schema = resolve(doc, media.schema as Obj);
      const example = media.example as Obj;
      const required = new Set((schema.required as string[] | undefined) ?? []);
      for (const [field, raw] of Object.entries((schema.properties ?? {}) as Record<string, Obj>)) {
        const cases = violations(resolve(doc, raw));
        if (required.has(field)) cases.push(["required", undefined]);
        for (const [constraint, value] of cases) {
          const body: Obj = { ...example, [field]: value };
          if (value === undefined) delete body[field];
          const where = `${method.toUpperCase()} ${path} ${field} ${constraint} ${JSON.stringify(value)?.slice(0, 40)}`;
          const res = await call(method, path, {}, body);
          const text = await res.text();
          assert.equal(res.status, 400, `${where}: ${text.slice(0, 200)}`);
          assert.ok(JSON.parse(text).error.message.includes(`'${field}'`), `${where}: ${text.slice(0, 200)}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 80, `only ${checked} body constraints checked`);
    console.log(`# ${checked} body constraints checked`);
  });

  it("a list of a million wrong items gets 400 naming the field, not a 500", async () => {
    // Every wrong item of a list without a size bound was one validation issue, all spread into
    // one call: a 2 MiB body overflowed the stack (500 after seconds of work).
    let checked = 0;
    for (const { method, path, op } of ops) {
      const media = jsonBodyOf(op);
      if (!media) continue;
      const schema = resolve(doc, media.schema as Obj);
      for (const [field, raw] of Object.entries((schema.properties ?? {}) as Record<string, Obj>)) {
        const s = resolve(doc, raw);
        const list = (((s.anyOf ?? s.oneOf) as Obj[] | undefined)?.find((a) => a.type === "array") ?? s) as Obj;
        if (list.type !== "array" || !list.items) continue;
        const wrong = wrongType(resolve(doc, list.items as Obj));
        if (wrong === undefined) continue; // any item is accepted: nothing to break
        const items = `[${Array(1_000_000).fill(JSON.stringify(wrong)).join(",")}]`;
        const body = JSON.stringify({ ...(media.example as Obj), [field]: "<list>" }).replace('"<list>"', items);
        const res = await call(method, path, {}, undefined, body);
        const text = await res.text();
        const where = `${method.toUpperCase()} ${path} ${field}`;
        assert.equal(res.status, 400, `${where}: ${text.slice(0, 200)}`);
        assert.ok(JSON.parse(text).error.message.includes(`'${field}'`), `${where}: ${text.slice(0, 200)}`);
        checked++;
      }
    }
    assert.ok(checked >= 4, `only ${checked} lists checked`);
  });

  it("a provider that is not configured gets 400 unknown_provider wherever a route takes one", async () => {
    let checked = 0;
    for (const { method, path, op } of ops) {
      const params = ((op.parameters ?? []) as Obj[]).map((x) => resolve(doc, x));
      const media = jsonBodyOf(op);
      const inBody = media && "provider" in ((resolve(doc, media.schema as Obj).properties ?? {}) as Obj);
      const example = (media?.example ?? undefined) as Obj | undefined;
      const cases: Array<[Record<string, string>, unknown]> = [];
      if (params.some((p) => p.name === "provider" && p.in === "query")) cases.push([{ provider: "nope" }, example]);
      if (inBody) cases.push([{}, { ...example, provider: "nope" }], [{}, { ...example, provider: 5 }]);
      for (const [query, body] of cases) {
        const res = await call(method, path, query, body);
        const text = await res.text();
        const where = `${method.toUpperCase()} ${path} ${JSON.stringify(query)} ${JSON.stringify(body)?.slice(0, 60)}`;
        assert.equal(res.status, 400, `${where}: ${text.slice(0, 200)}`);
        assert.equal(JSON.parse(text).error.code, "unknown_provider", `${where}: ${text.slice(0, 200)}`);
        checked++;
      }
    }
    assert.ok(checked >= 20, `only ${checked} provider cases checked`);
  });

  it("a query parameter breaking any declared constraint gets 400 naming it", async () => {
    let checked = 0;
    for (const { method, path, op } of ops) {
      const example = jsonBodyOf(op)?.example;
      for (const p of ((op.parameters ?? []) as Obj[]).map((x) => resolve(doc, x))) {
        if (p.in !== "query") continue;
        for (const [constraint, value] of violations(resolve(doc, p.schema as Obj))) {
          // A query parameter is text: only constraints a text can break.
          if (typeof value !== "string" && typeof value !== "number") continue;
          if (constraint === "type" && typeof value !== "string") continue;
          const where = `${method.toUpperCase()} ${path} ?${p.name} ${constraint} ${String(value).slice(0, 40)}`;
          const res = await call(method, path, { [p.name as string]: String(value) }, example);
          const text = await res.text();
          assert.equal(res.status, 400, `${where}: ${text.slice(0, 200)}`);
          assert.ok(JSON.parse(text).error.message.includes(`'${p.name}'`), `${where}: ${text.slice(0, 200)}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 30, `only ${checked} query constraints checked`);
    console.log(`# ${checked} query constraints checked`);
  });
});
