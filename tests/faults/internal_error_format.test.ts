/**
 * An error the pool did not foresee inside a proxy route (here a provider hook that throws, as a
 * library user's own provider may) still answers in the route's own dialect, with the request's
 * id: Anthropic clients parse Anthropic's error shape, and the id is what an operator searches
 * the log for. It was an OpenAI-shaped 500 without an id on every route.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPool, ollama, type Pool } from "../../mod.ts";

const ADMIN = "internal-error-admin-token-01";

describe("an unforeseen error in a proxy route", () => {
  let pool: Pool;
  let token: string;
  const logged: string[] = [];
  before(async () => {
    const preset = ollama({ baseURL: "http://127.0.0.1:9" });
    pool = createPool({
      providers: [{
        ...preset,
        authorize: () => {
          throw new Error("a provider hook failed");
        },
      }],
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error: (m) => void logged.push(m) },
    });
    const admin = (path: string, body: unknown) =>
      pool.fetch(
        new Request(`http://pool${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
    await admin("/admin/api-keys/import", { keys: ["internal-key-000001"] });
    token = (await (await admin("/admin/tokens", { name: "t" })).json()).token;
  });
  after(() => pool.close());

  const call = (path: string) =>
    pool.fetch(
      new Request(`http://pool${path}`, {
        method: "POST",
        headers: { "x-api-key": token, "content-type": "application/json", "x-request-id": "req-internal-1" },
        body: JSON.stringify({ model: "llama3.2", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
      }),
    );

  it("answers 500 in Anthropic's shape on /v1/messages, with the request id", async () => {
    const res = await call("/v1/messages");
    assert.equal(res.status, 500);
    assert.equal(res.headers.get("x-request-id"), "req-internal-1");
    const body = await res.json();
    assert.equal(body.type, "error", JSON.stringify(body));
    assert.equal(body.error.type, "api_error");
    assert.equal(body.request_id, "req-internal-1");
    assert.ok(logged.some((m) => m.includes("a provider hook failed")), "the cause is logged");
  });

  it("answers 500 in OpenAI's shape on /v1/chat/completions, with the request id", async () => {
    const res = await call("/v1/chat/completions");
    assert.equal(res.status, 500);
    const body = await res.json();
    assert.equal(body.error.code, "internal_error");
    assert.equal(body.error.request_id, "req-internal-1");
  });
});
