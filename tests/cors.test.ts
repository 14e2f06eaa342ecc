/** CORS: on the proxy routes only, preflight before authentication, origins from `corsOrigins`. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPool, ollama } from "../mod.ts";
import { setupPool, type TestPool } from "./helpers/setup.ts";

const preflight = (
  t: TestPool,
  path: string,
  origin: string,
  headers = "authorization,content-type,x-stainless-os,anthropic-version",
) =>
  t.pool.fetch(
    new Request(`http://pool${path}`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": headers },
    }),
  );

describe("CORS, any origin (the default)", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ keys: ["good-key-cors0001"] });
  });
  after(() => t.close());

  it("answers a preflight with 204 before any token, mirroring the requested headers, never with credentials", async () => {
    for (
      const path of [
        "/v1/chat/completions",
        "/v1/messages",
        "/v1/responses",
        "/api/chat",
        "/openrouter/v1/chat/completions",
      ]
    ) {
      const res = await preflight(t, path, "https://chat.example");
      assert.equal(res.status, 204, path);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      assert.equal(
        res.headers.get("access-control-allow-headers"),
        "authorization,content-type,x-stainless-os,anthropic-version",
      );
      assert.match(res.headers.get("access-control-allow-methods") ?? "", /POST/);
      assert.equal(res.headers.get("access-control-allow-credentials"), null);
    }
  });

  it("lets the page read the answer and the pool's headers, errors included", async () => {
    const ok = await t.call("/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model: "llama3.2", messages: [] }),
      headers: { origin: "https://chat.example" },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), "*");
    assert.deepEqual(ok.headers.get("access-control-expose-headers")?.split(","), [
      "x-request-id",
      "x-pool-overhead-ms",
      "retry-after",
    ]);
    const denied = await t.call("/v1/models", {
      headers: { origin: "https://chat.example", authorization: "Bearer wrong" },
    });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("access-control-allow-origin"), "*");
  });

  it("adds nothing for clients that send no Origin (SDKs, servers)", async () => {
    const res = await t.call("/v1/models");
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  });

  it("gives admin, dashboard, metrics, user and public routes no CORS at all", async () => {
    for (
      const path of ["/admin/stats", "/admin/api-keys", "/metrics", "/ui/login", "/api/auth/login", "/health", "/"]
    ) {
      const pre = await preflight(t, path, "https://chat.example");
      assert.equal(pre.headers.get("access-control-allow-origin"), null, `OPTIONS ${path}`);
      const res = await t.pool.fetch(
        new Request(`http://pool${path}`, {
          headers: { origin: "https://chat.example", authorization: "Bearer test-admin-token" },
        }),
      );
      assert.equal(res.headers.get("access-control-allow-origin"), null, `GET ${path}`);
    }
  });
});

describe("CORS, a list of origins", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ keys: ["good-key-cors0002"], corsOrigins: "https://chat.example, http://localhost:3210" });
  });
  after(() => t.close());

  it("allows the listed origins by name (with Vary: Origin) and no other", async () => {
    const listed = await preflight(t, "/v1/chat/completions", "http://localhost:3210");
    assert.equal(listed.headers.get("access-control-allow-origin"), "http://localhost:3210");
    assert.match(listed.headers.get("vary") ?? "", /Origin/);
    const call = await t.call("/v1/models", { headers: { origin: "https://chat.example" } });
    assert.equal(call.headers.get("access-control-allow-origin"), "https://chat.example");
    assert.match(call.headers.get("vary") ?? "", /Origin/);
    const other = await preflight(t, "/v1/chat/completions", "https://evil.example");
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    const otherCall = await t.call("/v1/models", { headers: { origin: "https://evil.example" } });
    assert.equal(otherCall.headers.get("access-control-allow-origin"), null);
  });

  it("refuses an origin with a path, or without a scheme, at start-up", () => {
    assert.throws(() => createPool({ providers: [ollama()], corsOrigins: ["https://chat.example/"] }), /corsOrigins/);
    assert.throws(
      () => createPool({ providers: [ollama()], corsOrigins: "https://a.example,chat.example" }),
      /corsOrigins/,
    );
  });
});
