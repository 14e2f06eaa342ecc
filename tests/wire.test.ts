/** Each wire format on its own: usage from whole answers and from stream events, sanity of the numbers, error shapes. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PoolError } from "../src/errors.ts";
import { createTap, type StreamEnd } from "../src/proxy/stream.ts";
import { anthropicCountTokens, anthropicMessages } from "../src/wire/anthropic_messages.ts";
import { ollamaNative } from "../src/wire/ollama_native.ts";
import { openaiChat } from "../src/wire/openai_chat.ts";
import { openaiResponses } from "../src/wire/openai_responses.ts";
import type { WireFormat } from "../src/wire/types.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Runs text chunks through an observe-mode tap; returns what the client got and the end. */
function tap(format: WireFormat, chunks: string[]): { out: string; end?: StreamEnd } {
  let end: StreamEnd | undefined;
  const t = createTap({ format, dropUsageChunk: false, onEnd: (e) => (end = e), abortUpstream: () => {} });
  let out = "";
  for (const c of chunks) out += dec.decode(t.chunk(enc.encode(c)) ?? new Uint8Array());
  const tail = t.done();
  if (tail) out += dec.decode(tail);
  return { out, end };
}

const named = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

describe("wire formats: usage", () => {
  it("reads whole answers without parsing them, and only sane numbers", () => {
    assert.deepEqual(openaiChat.usageOfText('{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5}}'), {
      promptTokens: 12,
      completionTokens: 5,
    });
    assert.deepEqual(openaiChat.usageOfText('{"usage":{"prompt_tokens":1e300,"completion_tokens":-5}}'), {
      promptTokens: 0,
      completionTokens: 0,
      rejected: 2,
    });
    assert.deepEqual(openaiChat.usageOfText('{"usage":{"prompt_tokens":2.5,"completion_tokens":"7"}}'), {
      promptTokens: 0,
      completionTokens: 0,
      rejected: 2,
    });
    assert.deepEqual(openaiChat.usageOfText('{"usage":{"prompt_tokens":999999999,"completion_tokens":null}}'), {
      promptTokens: 999999999,
      completionTokens: 0,
    });
    assert.deepEqual(openaiChat.usageOfText('{"usage":{"prompt_tokens":1000000000}}'), {
      promptTokens: 0,
      completionTokens: 0,
      rejected: 1,
    });
    assert.equal(openaiChat.usageOfText('{"data":[]}'), undefined);
    assert.deepEqual(
      openaiResponses.usageOfText(
        '{"usage":{"input_tokens":9,"input_tokens_details":{"cached_tokens":4},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":1}}}',
      ),
      { promptTokens: 9, completionTokens: 3 },
    );
    assert.equal(openaiResponses.usageOfText('{"status":"failed","usage":null}'), undefined);
    assert.deepEqual(
      anthropicMessages.usageOfText(
        '{"usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":20,"output_tokens":3}}',
      ),
      { promptTokens: 35, completionTokens: 3 },
    );
    assert.equal(anthropicCountTokens.usageOfText('{"input_tokens":10}'), undefined, "a token count is not usage");
    assert.deepEqual(ollamaNative.usageOfText('{"done":true,"prompt_eval_count":10,"eval_count":3}'), {
      promptTokens: 10,
      completionTokens: 3,
    });
  });

  it("Anthropic streams: input from message_start, output from message_delta, across chunk boundaries", () => {
    const stream = named("message_start", {
      type: "message_start",
      message: { id: "m", usage: { input_tokens: 10, cache_read_input_tokens: 2, output_tokens: 1 } },
    }) +
      named("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: 'a "usage" word' },
      }) +
      named("message_delta", {
        type: "message_delta",
        delta: { stop_reason: "end_turn" },
        usage: { output_tokens: 7 },
      }) +
      named("message_stop", { type: "message_stop" });
    for (const cut of [1, 40, stream.indexOf("message_delta") + 3, stream.length - 5]) {
      const { out, end } = tap(anthropicMessages, [stream.slice(0, cut), stream.slice(cut)]);
      assert.equal(out, stream, "bytes pass untouched");
      assert.deepEqual(end?.usage, { promptTokens: 12, completionTokens: 7 }, `cut at ${cut}`);
    }
  });

  it("Responses streams: usage from response.completed; the null usage of earlier events changes nothing", () => {
    const stream = named("response.created", { type: "response.created", response: { id: "r", usage: null } }) +
      named("response.output_text.delta", { type: "response.output_text.delta", delta: "hi" }) +
      named("response.completed", {
        type: "response.completed",
        response: { id: "r", usage: { input_tokens: 10, output_tokens: 3, total_tokens: 13 } },
      });
    assert.deepEqual(tap(openaiResponses, [stream]).end?.usage, { promptTokens: 10, completionTokens: 3 });
    const insane = stream.replace('"output_tokens":3', '"output_tokens":1e300');
    assert.deepEqual(tap(openaiResponses, [insane]).end?.usage, { promptTokens: 10, completionTokens: 0, rejected: 1 });
  });
});

describe("wire formats: errors", () => {
  const limited = new PoolError(429, "upstream_rate_limited", "slow down", { headers: { "retry-after": "2" } });

  it("the pool's errors in each dialect's shape, headers kept", async () => {
    const a = anthropicMessages.errorResponse(limited);
    assert.equal(a.status, 429);
    assert.equal(a.headers.get("retry-after"), "2");
    assert.deepEqual(await a.json(), { type: "error", error: { type: "rate_limit_error", message: "slow down" } });
    const types = [400, 401, 403, 404, 413, 500, 502, 503].map((s) =>
      anthropicMessages.errorResponse(new PoolError(s, "x", "m"))
    );
    assert.deepEqual(await Promise.all(types.map(async (r) => (await r.json()).error.type)), [
      "invalid_request_error",
      "authentication_error",
      "permission_error",
      "not_found_error",
      "request_too_large",
      "api_error",
      "api_error",
      "overloaded_error",
    ]);
    assert.deepEqual(await openaiResponses.errorResponse(limited).json(), {
      error: { message: "slow down", type: "rate_limit_error", code: "upstream_rate_limited" },
    });
  });

  it("a stream that breaks ends with the dialect's error event, after a half-written event is closed", () => {
    const failed = (format: WireFormat, first: string): string => {
      const t = createTap({ format, dropUsageChunk: false, onEnd: () => {}, abortUpstream: () => {} });
      return dec.decode(t.chunk(enc.encode(first))) + dec.decode(t.failed(new Error("reset")));
    };
    const anthropic = failed(anthropicMessages, 'event: content_block_delta\ndata: {"ty');
    const last = anthropic.split("\n\n").at(-2)!;
    assert.match(last, /^event: error\ndata: /);
    assert.equal(JSON.parse(last.split("data: ")[1]).error.type, "api_error");
    const responses = failed(openaiResponses, named("response.created", { type: "response.created" }));
    assert.equal(JSON.parse(responses.trim().split("\n\n").at(-1)!.split("data: ")[1]).type, "error");
    assert.deepEqual(JSON.parse(failed(ollamaNative, '{"done":false').trim().split("\n").at(-1)!), {
      error: "upstream stream failed after the response started; the answer is incomplete",
    });
  });
});
