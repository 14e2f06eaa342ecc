/** Model aliases that fall over across providers, against the mock upstream over real HTTP. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPool, ollama, openaiCompatible, type Pool } from "../mod.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { adminRequest } from "./helpers/setup.ts";

const ADMIN = "alias-admin-token";

describe("model aliases", () => {
  let mock: MockUpstream;
  let pool: Pool;
  let token: string;
  const admin = (method: string, path: string, body?: unknown) => pool.fetch(adminRequest(ADMIN, method, path, body));
  const ask = (model: string, path = "/v1/chat/completions", extra: Record<string, unknown> = {}) =>
    pool.fetch(
      new Request(`http://pool${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], ...extra }),
      }),
    );
  const modelsSeenBy = (key: string) =>
    mock.requests.filter((r) => r.key === key && r.method === "POST").map((r) => r.body?.model);

  before(async () => {
    mock = await startMockUpstream();
    pool = createPool({
      providers: [
        ollama({ baseURL: mock.url }),
        openaiCompatible({ id: "groq", baseURL: `${mock.url}/v1`, prefix: "/groq/v1" }),
      ],
      models: { fast: [{ provider: "ollama", model: "qwen3:8b" }, { provider: "groq", model: "llama3.2" }] },
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
    });
    token = (await (await admin("POST", "/admin/tokens", { name: "alias" })).json()).token;
    await admin("POST", "/admin/api-keys/import?provider=ollama", { keys: ["olla-key-0001"] });
    await admin("POST", "/admin/api-keys/import?provider=groq", { keys: ["groq-key-0001"] });
  });
  after(async () => {
    await pool.close();
    await mock.close();
  });

  it("sends the alias to its first target, with the target's model name", async () => {
    mock.reset();
    const res = await ask("fast");
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.deepEqual(modelsSeenBy("olla-key-0001"), ["qwen3:8b"]);
    assert.equal(mock.hits.get("groq-key-0001"), undefined);
  });

  it("falls over to the next provider when the first target has no ready key, streams included", async () => {
    const olla = [...pool.state.keys.pool("ollama").values()][0];
    pool.state.keys.pool("ollama").disable(olla.id, 60_000, "test");
    mock.reset();
    const res = await ask("fast", "/v1/chat/completions", { stream: true });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /data: \[DONE\]/);
    assert.deepEqual(modelsSeenBy("groq-key-0001"), ["llama3.2"]);
    pool.state.keys.pool("ollama").enable(olla.id);
  });

  it("falls over when every key of the first target lacks the model", async () => {
    await admin("DELETE", "/admin/api-keys?provider=ollama", { apiKeys: ["olla-key-0001"] });
    await admin("POST", "/admin/api-keys/import?provider=ollama", { keys: ["olla-models~gpt-oss:20b"] });
    mock.reset();
    await pool.flush();
    const requests = async (p: string) =>
      (await (await admin("GET", `/admin/stats?provider=${p}`)).json()).total_requests;
    const before = [await requests("ollama"), await requests("groq")];
    const res = await ask("fast");
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    await pool.flush();
    assert.deepEqual(
      [await requests("ollama"), await requests("groq")],
      [before[0], before[1] + 1],
      "counted once, where it was served",
    );
    assert.deepEqual(modelsSeenBy("olla-models~gpt-oss:20b"), ["qwen3:8b"]);
    assert.deepEqual(modelsSeenBy("groq-key-0001"), ["llama3.2"]);
  });

  it("answers the last target's error when no target can serve", async () => {
    for (const p of ["ollama", "groq"]) {
      for (const r of pool.state.keys.pool(p).values()) pool.state.keys.pool(p).disable(r.id, 60_000, "test");
    }
    const res = await ask("fast");
    assert.equal(res.status, 503);
    assert.match((await res.json()).error.message, /groq/);
    for (const p of ["ollama", "groq"]) {
      for (const r of pool.state.keys.pool(p).values()) pool.state.keys.pool(p).enable(r.id);
    }
  });

  it("lists the alias in /v1/models and counts both the alias and the target", async () => {
    const listed =
      await (await pool.fetch(new Request("http://pool/v1/models", { headers: { authorization: `Bearer ${token}` } })))
        .json();
    assert.ok(listed.data.some((m: { id: string }) => m.id === "fast"));
    assert.ok(listed.data.some((m: { id: string }) => m.id === "gpt-oss:20b"), "the upstream's own models stay");
    await pool.flush();
    const stats = await (await admin("GET", "/admin/stats?provider=groq")).json();
    const names = stats.top_models.map((m: { model: string }) => m.model);
    assert.ok(names.includes("fast") && names.includes("llama3.2"), JSON.stringify(names));
  });

  it("refuses an alias naming an unknown provider, naming the path", () => {
    assert.throws(
      () => createPool({ providers: [ollama()], models: { fast: [{ provider: "groq", model: "x" }] } }),
      /models\."fast"\[0\]\.provider: "groq" is not a configured provider/,
    );
  });
});
