/**
 * The client surfaces beyond chat: OpenAI Responses, Anthropic Messages (and token counting),
 * Ollama's `/api/version`, and CORS, driven by the real client libraries people point at pools
 * (openai, @anthropic-ai/sdk, the Vercel AI SDK, LangChain) through the pool against the mock upstream.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { createOpenAI } from "@ai-sdk/openai";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, streamText } from "ai";
import OpenAI from "openai";
import { setupPool, type TestPool } from "./helpers/setup.ts";

type Stats = { prompt_tokens: number; completion_tokens: number; success_count: number; failure_count: number };

describe("client surfaces through the pool", () => {
  let t: TestPool;
  let inProcess: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  const stats = async (): Promise<Stats> => (await t.admin("GET", "/admin/stats")).json();
  /** Token counts added by `fn`. */
  const tokensOf = async (fn: () => Promise<unknown>): Promise<[number, number]> => {
    const a = await stats();
    await fn();
    const b = await stats();
    return [b.prompt_tokens - a.prompt_tokens, b.completion_tokens - a.completion_tokens];
  };

  before(async () => {
    // A bad and a rate-limited key in front: every client must get past them unnoticed.
    t = await setupPool({ keys: ["bad-key-surface1", "limited-key-surf1", "good-key-surface1", "good-key-surface2"] });
    inProcess = (input, init) => t.pool.fetch(new Request(input, init));
  });
  after(() => t.close());

  describe("OpenAI Responses", () => {
    let openai: OpenAI;
    before(() => {
      openai = new OpenAI({ apiKey: t.token, baseURL: "http://pool.local/v1", fetch: inProcess, maxRetries: 0 });
    });

    it("openai SDK: responses.create, plain, counts usage", async () => {
      let text = "";
      const tokens = await tokensOf(async () => {
        const r = await openai.responses.create({ model: "llama3.2", input: "hi" });
        text = r.output_text;
        assert.equal(r.usage?.output_tokens, 3);
      });
      assert.equal(text, "tok0 tok1 tok2 ");
      assert.deepEqual(tokens, [10, 3]);
    });

    it("openai SDK: responses.create streamed, usage from response.completed", async () => {
      let text = "";
      const types: string[] = [];
      const tokens = await tokensOf(async () => {
        const stream = await openai.responses.create({ model: "llama3.2", input: "hi", stream: true });
        for await (const ev of stream) {
          types.push(ev.type);
          if (ev.type === "response.output_text.delta") text += ev.delta;
        }
      });
      assert.equal(text, "tok0 tok1 tok2 ");
      assert.equal(types[0], "response.created");
      assert.equal(types.at(-1), "response.completed");
      assert.deepEqual(tokens, [10, 3]);
    });

    it("a stream that breaks mid-way ends with the Responses error event", async () => {
      await t.setKeys(["die-key-surface01"]);
      try {
        const res = await t.call("/v1/responses", {
          method: "POST",
          body: JSON.stringify({ model: "llama3.2", input: "hi", stream: true }),
        });
        assert.equal(res.status, 200);
        const body = await res.text();
        const last = body.trim().split("\n\n").at(-1)!;
        assert.match(last, /^event: error\ndata: /);
        const data = JSON.parse(last.split("\ndata: ")[1]);
        assert.equal(data.type, "error");
        assert.equal(data.code, "stream_interrupted");
      } finally {
        await t.setKeys(["good-key-surface1", "good-key-surface2"]);
      }
    });
  });

  describe("Anthropic Messages", () => {
    const params = { model: "llama3.2", max_tokens: 64, messages: [{ role: "user" as const, content: "hi" }] };

    it("@anthropic-ai/sdk with apiKey (x-api-key): create, usage counted, headers forwarded", async () => {
      const client = new Anthropic({ apiKey: t.token, baseURL: "http://pool.local", fetch: inProcess, maxRetries: 0 });
      t.mock.reset();
      let text = "";
      const tokens = await tokensOf(async () => {
        const m = await client.messages.create(params, { headers: { "anthropic-beta": "tools-2024-04-04" } });
        text = m.content.map((b) => (b.type === "text" ? b.text : "")).join("");
        assert.equal(m.usage.input_tokens, 10);
      });
      assert.equal(text, "tok0 tok1 tok2 ");
      assert.deepEqual(tokens, [10, 3]);
      const seen = t.mock.requests.find((r) => r.path === "/v1/messages")!;
      assert.match(
        String(seen.headers["anthropic-version"]),
        /^\d{4}-\d{2}-\d{2}$/,
        "the SDK's anthropic-version is forwarded",
      );
      assert.equal(seen.headers["anthropic-beta"], "tools-2024-04-04");
      assert.equal(seen.headers["x-api-key"], undefined, "the client's token never reaches the upstream");
      assert.match(String(seen.headers.authorization), /^Bearer good-key-surface/);
    });

    it("@anthropic-ai/sdk with authToken (Bearer): stream, usage from message_start and message_delta", async () => {
      const client = new Anthropic({
        authToken: t.token,
        apiKey: null,
        baseURL: "http://pool.local",
        fetch: inProcess,
        maxRetries: 0,
      });
      let text = "";
      const tokens = await tokensOf(async () => {
        const stream = client.messages.stream(params);
        stream.on("text", (d) => (text += d));
        const final = await stream.finalMessage();
        assert.equal(final.usage.output_tokens, 3);
      });
      assert.equal(text, "tok0 tok1 tok2 ");
      assert.deepEqual(tokens, [10, 3]);
    });

    it("@anthropic-ai/sdk: countTokens, which is not counted as usage", async () => {
      const client = new Anthropic({ apiKey: t.token, baseURL: "http://pool.local", fetch: inProcess, maxRetries: 0 });
      const tokens = await tokensOf(async () => {
        const r = await client.messages.countTokens({ model: "llama3.2", messages: params.messages });
        assert.equal(r.input_tokens, 10);
      });
      assert.deepEqual(tokens, [0, 0]);
    });

    it("errors come in Anthropic's shape: a bad token, an exhausted pool, a broken stream", async () => {
      const wrong = new Anthropic({
        apiKey: "sk-wrong",
        baseURL: "http://pool.local",
        fetch: inProcess,
        maxRetries: 0,
      });
      await assert.rejects(
        wrong.messages.create(params),
        (err: unknown) => err instanceof Anthropic.AuthenticationError,
      );
      const raw = await t.call("/v1/messages", {
        method: "POST",
        body: JSON.stringify(params),
        headers: { authorization: "", "x-api-key": "sk-wrong" },
      });
      assert.deepEqual((await raw.json()).error.type, "authentication_error");

      await t.setKeys(["limited-key-surf2", "limited-key-surf3"]);
      try {
        const client = new Anthropic({
          apiKey: t.token,
          baseURL: "http://pool.local",
          fetch: inProcess,
          maxRetries: 0,
        });
        await assert.rejects(client.messages.create(params), (err: unknown) => {
          assert.ok(err instanceof Anthropic.RateLimitError, String(err));
          const body = err.error as { type?: string; error?: { type?: string; message?: unknown } };
          assert.equal(body.type, "error");
          assert.equal(body.error?.type, "rate_limit_error");
          assert.equal(typeof body.error?.message, "string");
          assert.ok(err.headers?.get("retry-after"), "Retry-After kept");
          return true;
        });
        await t.setKeys(["die-key-surface02"]);
        const res = await t.call("/v1/messages", { method: "POST", body: JSON.stringify({ ...params, stream: true }) });
        const last = (await res.text()).trim().split("\n\n").at(-1)!;
        assert.match(last, /^event: error\ndata: /);
        assert.equal(JSON.parse(last.split("\ndata: ")[1]).error.type, "api_error");
      } finally {
        await t.setKeys(["good-key-surface1", "good-key-surface2"]);
      }
    });
  });

  describe("Vercel AI SDK", () => {
    it("default provider (Responses) and .chat(), plain and streamed", async () => {
      const provider = createOpenAI({ apiKey: t.token, baseURL: "http://pool.local/v1", fetch: inProcess });
      t.mock.reset();
      const viaResponses = await generateText({ model: provider("llama3.2"), prompt: "hi", maxRetries: 0 });
      assert.equal(viaResponses.text, "tok0 tok1 tok2 ");
      assert.equal(viaResponses.usage.outputTokens, 3);
      const viaChat = await generateText({ model: provider.chat("llama3.2"), prompt: "hi", maxRetries: 0 });
      assert.equal(viaChat.text, "tok0 tok1 tok2 ");
      let streamed = "";
      const s = streamText({ model: provider("llama3.2"), prompt: "hi", maxRetries: 0 });
      for await (const part of s.textStream) streamed += part;
      assert.equal(streamed, "tok0 tok1 tok2 ");
      assert.deepEqual(t.mock.requests.map((r) => r.path), ["/v1/responses", "/v1/chat/completions", "/v1/responses"]);
    });
  });

  describe("LangChain", () => {
    it("ChatOpenAI: invoke and stream (chat completions)", async () => {
      const llm = new ChatOpenAI({
        model: "llama3.2",
        apiKey: t.token,
        maxRetries: 0,
        configuration: { baseURL: "http://pool.local/v1", fetch: inProcess },
      });
      assert.equal((await llm.invoke("hi")).content, "tok0 tok1 tok2 ");
      let text = "";
      for await (const chunk of await llm.stream("hi")) text += chunk.content;
      assert.equal(text, "tok0 tok1 tok2 ");
    });
  });

  describe("Ollama native and sanity", () => {
    it("GET /api/version answers for Open WebUI's connection check", async () => {
      const res = await t.call("/api/version");
      assert.equal(res.status, 200);
      assert.equal(typeof (await res.json()).version, "string");
    });

    it("usage values that are not sane token counts are ignored and counted in /metrics", async () => {
      const rejected = async (): Promise<number> => {
        const text = await (await t.admin("GET", "/metrics")).text();
        return Number(/pool_usage_values_rejected_total\{provider="ollama"\} (\d+)/.exec(text)?.[1] ?? 0);
      };
      const before = await rejected();
      const tokens = await tokensOf(async () => {
        const r = await t.call("/v1/responses", {
          method: "POST",
          body: JSON.stringify({ model: "insane-usage", input: "hi" }),
        });
        assert.equal(r.status, 200);
        await r.arrayBuffer();
        const m = await t.call("/v1/messages", {
          method: "POST",
          body: JSON.stringify({
            model: "insane-usage",
            max_tokens: 5,
            messages: [{ role: "user", content: "hi" }],
            stream: true,
          }),
        });
        await m.text();
      });
      assert.deepEqual(tokens, [0, 0]);
      // Responses: 1e300 and -5; the stream: 2.5 (message_start) and 1e300 (message_delta).
      assert.equal(await rejected() - before, 4);
    });
  });
});
