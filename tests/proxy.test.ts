import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { chat, setupPool, type TestPool } from "./helpers/setup.ts";

/** Reads an SSE body into its data payloads. */
async function sse(res: Response): Promise<string[]> {
  const text = await res.text();
  return text.split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => e.slice(6));
}

describe("proxy: OpenAI and Ollama wire formats", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ keys: ["good-key-aaaaaaa1", "good-key-aaaaaaa2"] });
  });
  after(() => t.close());

  it("answers a non-stream chat completion and counts its usage", async () => {
    const res = await t.call("/v1/chat/completions", chat());
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.object, "chat.completion");
    assert.equal(body.usage.completion_tokens, 3);
    assert.equal(res.headers.get("content-encoding"), null);
  });

  it("streams SSE, asks upstream for usage and hides the usage chunk the client did not ask for", async () => {
    t.mock.reset();
    const res = await t.call("/v1/chat/completions", chat("llama3.2", { stream: true }));
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /text\/event-stream/);
    const events = await sse(res);
    assert.equal(events.at(-1), "[DONE]");
    assert.ok(events.every((e) => !e.includes('"usage"')), "usage chunk must be hidden");
    assert.equal(events.filter((e) => e.includes("tok")).length, 3);
    assert.deepEqual(t.mock.requests[0].body!.stream_options, { include_usage: true });
  });

  it("keeps the usage chunk when the client asked for it", async () => {
    const res = await t.call(
      "/v1/chat/completions",
      chat("llama3.2", { stream: true, stream_options: { include_usage: true } }),
    );
    const events = await sse(res);
    const usage = events.filter((e) => e.includes('"usage"')).map((e) => JSON.parse(e));
    assert.equal(usage.length, 1);
    assert.deepEqual(usage[0].choices, []);
  });

  it("streams Ollama NDJSON line by line", async () => {
    const res = await t.call("/api/chat", chat());
    assert.match(res.headers.get("content-type")!, /ndjson/);
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 4);
    assert.equal(lines.at(-1).done, true);
    assert.equal(lines.at(-1).eval_count, 3);
  });

  it("serves the other endpoints: models, tags, embeddings, generate", async () => {
    const models = await (await t.call("/v1/models")).json();
    assert.equal(models.object, "list");
    const tags = await (await t.call("/api/tags")).json();
    assert.ok(Array.isArray(tags.models));
    const emb =
      await (await t.call("/v1/embeddings", { method: "POST", body: JSON.stringify({ model: "e", input: "x" }) }))
        .json();
    assert.equal(emb.data[0].object, "embedding");
    const gen = await (await t.call("/api/generate", {
      method: "POST",
      body: JSON.stringify({ model: "m", prompt: "x", stream: false }),
    })).json();
    assert.equal(gen.done, true);
  });

  it("counts per model, per token and per key, including not-yet-flushed requests", async () => {
    const before = await (await t.admin("GET", "/admin/stats")).json();
    await (await t.call("/v1/chat/completions", chat("qwen3:8b"))).text();
    const s = await (await t.admin("GET", "/admin/stats")).json();
    assert.equal(s.total_requests, before.total_requests + 1);
    assert.equal(s.prompt_tokens, before.prompt_tokens + 10);
    assert.equal(s.top_models.find((m: { model: string }) => m.model === "qwen3:8b").requests, 1);
    const tokens = await (await t.admin("GET", "/admin/tokens")).json();
    assert.equal(tokens.tokens[0].requests, s.total_requests);
    const keys = await (await t.admin("GET", "/admin/keys/stats")).json();
    const perKey = keys.stats.reduce((n: number, k: { totalRequests: number }) => n + k.totalRequests, 0);
    assert.equal(perKey, s.total_requests);
    const keyTokens = keys.stats.reduce((n: number, k: { promptTokens: number }) => n + k.promptTokens, 0);
    assert.equal(keyTokens, s.prompt_tokens);
    assert.equal(s.hourly.length, 24);
    // The last two hours hold every request of this suite, even if it straddles an hour boundary.
    const recent = (f: string) => s.hourly.at(-1)[f] + s.hourly.at(-2)[f];
    assert.equal(recent("requests"), s.total_requests);
    assert.equal(recent("tokens"), s.prompt_tokens + s.completion_tokens);
  });

  it("stream usage is counted when the stream ends", async () => {
    const before = (await (await t.admin("GET", "/admin/stats")).json()).completion_tokens;
    await (await t.call("/v1/chat/completions", chat("llama3.2", { stream: true }))).text();
    await (await t.call("/api/chat", chat())).text();
    const now = (await (await t.admin("GET", "/admin/stats")).json()).completion_tokens;
    assert.equal(now - before, 6);
  });

  it("sends OpenRouter's attribution headers and its own keys", async () => {
    await t.setKeys(["or-key-aaaaaaaa1"], "openrouter");
    t.mock.reset();
    const res = await t.call("/openrouter/v1/chat/completions", chat("openai/gpt-4o"));
    assert.equal(res.status, 200);
    const seen = t.mock.requests[0];
    assert.equal(seen.path, "/api/v1/chat/completions");
    assert.equal(seen.key, "or-key-aaaaaaaa1");
    assert.equal(seen.headers["http-referer"], "https://app.example");
    assert.equal(seen.headers["x-title"], "Test App");
  });

  it("passes query strings and never forwards the client's token", async () => {
    t.mock.reset();
    await (await t.call("/v1/models?limit=5")).text();
    assert.notEqual(t.mock.requests[0].key, t.token);
    assert.ok(t.mock.requests[0].key.startsWith("good-key"));
  });
});

describe("proxy: client-side errors", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ keys: ["good-key-bbbbbbb1"], maxBodyBytes: 1024 });
  });
  after(() => t.close());

  /** The error object; on proxy routes it names the request, as `x-request-id` does. */
  const errorOf = async (res: Response) => {
    const body = await res.json();
    const proxied = res.headers.get("x-request-id") !== null;
    assert.deepEqual(
      Object.keys(body.error).sort(),
      proxied ? ["code", "message", "request_id", "type"] : ["code", "message", "type"],
    );
    if (proxied) assert.equal(body.error.request_id, res.headers.get("x-request-id"));
    return body.error;
  };

  it("401 without or with a wrong client token", async () => {
    let res = await t.call("/v1/chat/completions", { ...chat(), headers: { authorization: "" } });
    assert.equal(res.status, 401);
    assert.equal((await errorOf(res)).code, "missing_api_key");
    res = await t.call("/v1/chat/completions", { ...chat(), headers: { authorization: "Bearer sk-nope" } });
    assert.equal(res.status, 401);
    assert.equal((await errorOf(res)).type, "authentication_error");
  });

  it("400 on malformed JSON, a non-object body, or a bad model type", async () => {
    for (const body of ["{nope", "[1,2]", '"x"', "", JSON.stringify({ model: 5 })]) {
      const res = await t.call("/v1/chat/completions", { method: "POST", body });
      assert.equal(res.status, 400, body);
      await errorOf(res);
    }
  });

  it("413 over the body limit, by header or by actual size", async () => {
    const big = JSON.stringify({ model: "m", messages: [{ role: "user", content: "x".repeat(2000) }] });
    const res = await t.call("/v1/chat/completions", { method: "POST", body: big });
    assert.equal(res.status, 413);
    assert.equal((await errorOf(res)).code, "body_too_large");
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const res2 = await t.call("/v1/chat/completions", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    assert.equal(res2.status, 413);
  });

  it("404 on unknown routes and 405 on wrong methods, in OpenAI shape", async () => {
    let res = await t.call("/v1/nothing");
    assert.equal(res.status, 404);
    assert.equal((await errorOf(res)).code, "not_found");
    res = await t.call("/v1/chat/completions", { method: "GET" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
    await errorOf(res);
  });

  it("404 and 405 on Anthropic's paths in Anthropic's shape; Ollama's native paths keep the pool's one shape", async () => {
    const anthropic = async (res: Response, status: number, type: string) => {
      assert.equal(res.status, status);
      assert.match(res.headers.get("content-type") ?? "", /application\/json/);
      const body = await res.json();
      assert.equal(body.type, "error", JSON.stringify(body));
      assert.equal(body.error.type, type);
      assert.equal(typeof body.error.message, "string");
    };
    await anthropic(await t.call("/v1/messages", { method: "GET" }), 405, "invalid_request_error");
    await anthropic(await t.call("/v1/messages/count_tokens", { method: "GET" }), 405, "invalid_request_error");
    await anthropic(await t.call("/v1/messages/batches", { method: "POST", body: "{}" }), 404, "not_found_error");
    await anthropic(await t.call("/v1/messages/count_tokens/x"), 404, "not_found_error");
    const wrong = await t.call("/v1/messages", { method: "GET" });
    assert.equal(wrong.headers.get("allow"), "POST");
    await wrong.body?.cancel();
    // Ollama's /api/* answers the pool's own errors as ollama-js and Open WebUI read them (one shape).
    const native = await t.call("/api/chat", { method: "GET" });
    assert.equal(native.status, 405);
    assert.equal((await errorOf(native)).code, "method_not_allowed");
    const messagesLike = await t.call("/v1/messagesX");
    assert.equal((await errorOf(messagesLike)).code, "not_found", "a path that only starts alike is no Anthropic path");
  });

  it("upstream 400/404 go back as they are and do not blame the key", async () => {
    const res = await t.call("/v1/chat/completions", chat("missing-model"));
    assert.equal(res.status, 404);
    assert.match((await res.json()).error.message, /not found/);
    const res2 = await t.call("/v1/chat/completions", { method: "POST", body: JSON.stringify({ messages: [] }) });
    assert.equal(res2.status, 400);
    await res2.text();
    const keys = await (await t.admin("GET", "/admin/keys/stats")).json();
    assert.equal(keys.stats[0].status, "active");
    assert.equal(keys.stats[0].failureCount, 0);
  });
});
