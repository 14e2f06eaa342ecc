/** The real `openai` and `ollama` client libraries, driving the pool as users do. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { setupPool, type TestPool } from "./helpers/setup.ts";

describe("real client libraries", () => {
  let t: TestPool;
  let openai: OpenAI;
  let ollama: Ollama;
  before(async () => {
    // A bad and a rate-limited key in front: the clients must not notice them.
    t = await setupPool({ keys: ["bad-key-client01", "limited-key-cl01", "good-key-client1", "good-key-client2"] });
    const inProcess = (input: RequestInfo | URL, init?: RequestInit) => t.pool.fetch(new Request(input, init));
    openai = new OpenAI({ apiKey: t.token, baseURL: "http://pool.local/v1", fetch: inProcess, maxRetries: 0 });
    ollama = new Ollama({
      host: "http://pool.local",
      fetch: inProcess,
      headers: { authorization: `Bearer ${t.token}` },
    });
  });
  after(() => t.close());

  it("openai: chat completion", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await openai.chat.completions.create({
        model: "llama3.2",
        messages: [{ role: "user", content: "hi" }],
      });
      assert.equal(r.choices[0].message.content, "tok0 tok1 tok2 ");
      assert.equal(r.usage?.completion_tokens, 3);
    }
  });

  it("openai: streamed chat completion, with and without usage", async () => {
    const stream = await openai.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let text = "";
    let sawUsage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) sawUsage = true;
    }
    assert.equal(text, "tok0 tok1 tok2 ");
    assert.equal(sawUsage, false);

    const withUsage = await openai.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage;
    for await (const chunk of withUsage) usage = chunk.usage ?? usage;
    assert.equal(usage?.total_tokens, 13);
  });

  it("openai: models and embeddings", async () => {
    const models = await openai.models.list();
    assert.ok(models.data.some((m) => m.id === "llama3.2"));
    const emb = await openai.embeddings.create({ model: "e", input: "x" });
    assert.deepEqual(emb.data[0].embedding.map((x) => Math.round(x * 10) / 10), [0.1, 0.2, 0.3]);
  });

  it("openai: a bad client token is an AuthenticationError", async () => {
    const bad = new OpenAI({
      apiKey: "sk-wrong",
      baseURL: "http://pool.local/v1",
      fetch: (i, init) => t.pool.fetch(new Request(i, init)),
      maxRetries: 0,
    });
    await assert.rejects(bad.models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError);
  });

  it("ollama: chat, streamed chat, generate, embed and list", async () => {
    const r = await ollama.chat({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] });
    assert.equal(r.message.content, "tok0 tok1 tok2 ");
    assert.equal(r.eval_count, 3);
    let text = "";
    for await (
      const part of await ollama.chat({ model: "llama3.2", messages: [{ role: "user", content: "hi" }], stream: true })
    ) {
      text += part.message.content;
    }
    assert.equal(text, "tok0 tok1 tok2 ");
    const g = await ollama.generate({ model: "llama3.2", prompt: "hi" });
    assert.equal(g.response, "tok0 tok1 tok2 ");
    const e = await ollama.embed({ model: "e", input: "x" });
    assert.deepEqual(e.embeddings, [[0.1, 0.2, 0.3]]);
    const list = await ollama.list();
    assert.ok(list.models.some((m) => m.name === "llama3.2"));
  });

  it("every client request succeeded although two keys are broken", async () => {
    const s = await (await t.admin("GET", "/admin/stats")).json();
    assert.equal(s.failure_count, 0);
    assert.ok(s.success_count >= 12);
  });
});
