/**
 * The request log of a request for a model alias that crossed providers: the record named the
 * route's provider and no target, while its attempts were another provider's keys and the
 * statistics counted it under that provider, so an operator filtering the log by provider (or
 * reading the model sent upstream) could not find it. The record now names the provider and the
 * model that served it.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPool, ollama, openaiCompatible, type Pool } from "../../mod.ts";
import { type MockUpstream, startMockUpstream } from "../helpers/mock_upstream.ts";

const ADMIN = "alias-log-admin-token-01";

describe("the log of an alias request served by another provider", () => {
  let mock: MockUpstream;
  let pool: Pool;
  const admin = async (method: string, path: string, body?: unknown) =>
    (await pool.fetch(
      new Request(`http://pool${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    )).json();

  before(async () => {
    mock = await startMockUpstream();
    pool = createPool({
      providers: [
        ollama({ baseURL: mock.url }),
        openaiCompatible({ id: "groq", baseURL: `${mock.url}/v1`, prefix: "/groq/v1" }),
      ],
      // The first target's keys are all failing (500), so the second provider serves.
      models: { fast: [{ provider: "ollama", model: "qwen3:8b" }, { provider: "groq", model: "llama3.2" }] },
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
    });
    await admin("POST", "/admin/api-keys/import?provider=ollama", { keys: ["err-alias-log-0001"] });
    await admin("POST", "/admin/api-keys/import?provider=groq", { keys: ["groq-alias-log-0001"] });
  });
  after(async () => {
    await pool.close();
    await mock.close();
  });

  it("names the provider and model that served it", async () => {
    const { token } = await admin("POST", "/admin/tokens", { name: "alias-log" });
    const res = await pool.fetch(
      new Request("http://pool/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-request-id": "alias-1" },
        body: JSON.stringify({ model: "fast", messages: [{ role: "user", content: "hi" }] }),
      }),
    );
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const { records } = await admin("GET", "/admin/logs?provider=groq");
    const rec = records.find((r: { id: string }) => r.id === "alias-1");
    assert.ok(rec, "found by the provider that served it");
    assert.equal(rec.model, "fast");
    assert.equal(rec.target, "llama3.2");
    assert.equal(rec.attempts.length, 2, "both providers' attempts are in the record");
  });
});
