import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTap, type StreamEnd } from "../src/proxy/stream.ts";
import { estimateUsage } from "../src/proxy/usage.ts";
import { anthropicMessages } from "../src/wire/anthropic_messages.ts";
import { ollamaNative } from "../src/wire/ollama_native.ts";
import { openaiChat } from "../src/wire/openai_chat.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const event = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;
const content = (s: string): string => event({ choices: [{ delta: { content: s } }] });
const usageOnly = event({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 7 } });

/** Runs chunks through a drop-mode tap; returns the client's text and how the stream ended. */
function run(chunks: string[]): { out: string; end?: StreamEnd } {
  let end: StreamEnd | undefined;
  const tap = createTap({ format: openaiChat, dropUsageChunk: true, onEnd: (e) => (end = e), abortUpstream: () => {} });
  let out = "";
  for (const c of chunks) {
    const b = tap.chunk(enc.encode(c));
    if (b) out += dec.decode(b);
  }
  const tail = tap.done();
  if (tail) out += dec.decode(tail);
  return { out, end };
}

describe("stream tap, drop mode", () => {
  const whole = content("Hel") + content("lo") + usageOnly + "data: [DONE]\n\n";
  const expected = content("Hel") + content("lo") + "data: [DONE]\n\n";

  it("cuts the usage-only event out of one ASCII chunk and reads its usage", () => {
    const { out, end } = run([whole]);
    assert.equal(out, expected);
    assert.deepEqual(end?.usage, { promptTokens: 5, completionTokens: 7 });
  });

  it("does the same for non-ASCII text and for events split across chunks", () => {
    const wide = content("héllo ✓") + usageOnly + "data: [DONE]\n\n";
    assert.equal(run([wide]).out, content("héllo ✓") + "data: [DONE]\n\n");
    const cut = whole.indexOf('"usage"') + 3;
    const split = run([whole.slice(0, cut), whole.slice(cut)]);
    assert.equal(split.out, expected);
    assert.deepEqual(split.end?.usage, { promptTokens: 5, completionTokens: 7 });
  });

  it("keeps a usage-only event that is the whole chunk out, and content that merely mentions usage in", () => {
    assert.equal(run([content("a"), usageOnly, "data: [DONE]\n\n"]).out, content("a") + "data: [DONE]\n\n");
    const mention = content('the "usage" field');
    assert.equal(run([mention + usageOnly]).out, mention);
  });
});

describe("stream tap, a client leaving before the usage event", () => {
  it("reports what was streamed so far, from which the charge is estimated", () => {
    for (const dropUsageChunk of [true, false]) {
      let end: StreamEnd | undefined;
      const tap = createTap({ format: openaiChat, dropUsageChunk, onEnd: (e) => (end = e), abortUpstream: () => {} });
      for (const word of ["Hel", "lo", " there"]) tap.chunk(enc.encode(content(word)));
      tap.chunk(enc.encode('data: {"choices":[{"delta":{"content":"half'));
      tap.cancelled();
      assert.equal(end?.kind, "cancelled");
      assert.equal(end?.usage, undefined);
      assert.equal(end?.lines, 6);
      const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "x".repeat(400) }] });
      assert.deepEqual(estimateUsage(openaiChat, body, end!.lines), {
        promptTokens: Math.ceil(body.length / 4),
        completionTokens: 3,
      });
    }
  });

  it("counts NDJSON lines one token each", () => {
    let end: StreamEnd | undefined;
    const tap = createTap({
      format: ollamaNative,
      dropUsageChunk: false,
      onEnd: (e) => (end = e),
      abortUpstream: () => {},
    });
    tap.chunk(enc.encode('{"message":{"content":"a"},"done":false}\n{"message":{"content":"b"},"done":false}\n'));
    tap.cancelled();
    assert.equal(estimateUsage(ollamaNative, undefined, end!.lines).completionTokens, 2);
  });

  it("counts named SSE events (event: and data: lines) one token each", () => {
    // Anthropic's content_block_delta events: three line breaks each.
    const delta = (t: string) =>
      `event: content_block_delta\ndata: ${JSON.stringify({ type: "content_block_delta", delta: { text: t } })}\n\n`;
    let end: StreamEnd | undefined;
    const tap = createTap({
      format: anthropicMessages,
      dropUsageChunk: false,
      onEnd: (e) => (end = e),
      abortUpstream: () => {},
    });
    tap.chunk(enc.encode(delta("a") + delta("b") + delta("c")));
    tap.cancelled();
    assert.equal(estimateUsage(anthropicMessages, undefined, end!.lines).completionTokens, 3);
  });
});

describe("stream tap, chunks passed on without decoding", () => {
  /**
   * Every way to cut `text` once more besides at `fixed` (a byte offset), through a tap: what
   * reached the client and how the stream ended.
   */
  function everySplit(
    text: string,
    dropUsageChunk: boolean,
    fixed: number,
    format = openaiChat,
  ): Array<{ out: string; end?: StreamEnd }> {
    const bytes = enc.encode(text);
    const results: Array<{ out: string; end?: StreamEnd }> = [];
    for (let cut = 0; cut <= bytes.length; cut++) {
      let end: StreamEnd | undefined;
      const tap = createTap({ format, dropUsageChunk, onEnd: (e) => (end = e), abortUpstream: () => {} });
      const parts: Uint8Array[] = [];
      const [a, b] = cut < fixed ? [cut, fixed] : [fixed, cut];
      for (const part of [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]) {
        if (part.length === 0) continue;
        const out = tap.chunk(part);
        if (out) parts.push(out.slice());
      }
      const tail = tap.done();
      if (tail) parts.push(tail);
      results.push({ out: parts.map((p) => dec.decode(p, { stream: true })).join("") + dec.decode(), end });
    }
    return results;
  }

  it("plain events before and after a split multi-byte character and the usage event keep usage and line counts exact", () => {
    // A line that starts with a multi-byte character: cut inside it, the decoder holds a byte
    // while no text is carried, and the next chunk must not pass it by.
    const text = content("a") + "é comment\n\n" + content("é✓ wide") + content("b") + usageOnly + "data: [DONE]\n\n";
    for (const dropUsageChunk of [true, false]) {
      // The usage event in a chunk of its own: what comes before it may take the undecoded path.
      for (const r of everySplit(text, dropUsageChunk, enc.encode(text.slice(0, text.indexOf(usageOnly))).length)) {
        assert.equal(r.out, dropUsageChunk ? text.replace(usageOnly, "") : text);
        assert.deepEqual(r.end?.usage, { promptTokens: 5, completionTokens: 7 });
        assert.equal(r.end?.lines, 12);
      }
    }
  });

  it("NDJSON: the usage line is found wherever the chunk boundary falls", () => {
    const line = (o: unknown) => `${JSON.stringify(o)}\n`;
    const text = line({ message: { content: "ü" }, done: false }) +
      line({ done: true, prompt_eval_count: 3, eval_count: 4 });
    for (const r of everySplit(text, false, enc.encode(text.slice(0, text.indexOf("\n") + 1)).length, ollamaNative)) {
      assert.equal(r.out, text);
      assert.deepEqual(r.end?.usage, { promptTokens: 3, completionTokens: 4 });
      assert.equal(r.end?.lines, 2);
    }
  });
});
