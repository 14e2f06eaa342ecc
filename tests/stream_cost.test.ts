/**
 * The stream tap's work grows linearly with what the upstream sends, however it is cut: an
 * event sent in many small chunks must not be searched again from its start for every chunk
 * (1 MB in 200-byte pieces once took seconds of CPU, stalling every other request). Measured
 * structurally, not by the clock: the test counts the characters and bytes that string and
 * byte-array searches were asked to look at. (Time figures live in bench/tap_cost.ts.)
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { needlesOf } from "../src/proxy/redact.ts";
import { createTap, type StreamEnd } from "../src/proxy/stream.ts";
import { ollamaNative } from "../src/wire/ollama_native.ts";
import { openaiChat } from "../src/wire/openai_chat.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

type Scanner = (this: { length: number }, ...args: unknown[]) => unknown;
/** How much a search with these arguments may look at, at most. */
function reach(name: string, length: number, args: unknown[]): number {
  const from = typeof args[1] === "number" ? Math.max(0, Math.trunc(args[1])) : undefined;
  if (name === "lastIndexOf") return from === undefined ? length : Math.min(length, from + 1);
  if (name === "indexOf" || name === "includes" || name === "startsWith") {
    return from === undefined ? length : Math.max(0, length - from);
  }
  return length;
}

/** Runs `work` with string and byte-array searches counted; returns what they looked at. */
function scanned(work: () => void): number {
  let total = 0;
  const targets: Array<[Record<string, Scanner>, string[]]> = [
    [String.prototype as unknown as Record<string, Scanner>, [
      "indexOf",
      "lastIndexOf",
      "includes",
      "startsWith",
      "endsWith",
      "split",
      "replace",
      "replaceAll",
      "slice",
      "substring",
    ]],
    [Object.getPrototypeOf(Uint8Array.prototype), ["indexOf", "lastIndexOf", "includes", "slice"]],
  ];
  const saved: Array<() => void> = [];
  for (const [proto, names] of targets) {
    for (const name of names) {
      const original = proto[name];
      proto[name] = function (this: { length: number }, ...args: unknown[]) {
        total += reach(name, this.length, args);
        return original.apply(this, args);
      };
      saved.push(() => (proto[name] = original));
    }
  }
  try {
    work();
  } finally {
    for (const restore of saved) restore();
  }
  return total;
}

/** One event of `pieces` × 200 characters without an end, in 200-byte chunks, then its end. */
function feed(pieces: number, dropUsageChunk: boolean, secrets?: Uint8Array[]): { work: number; out: number } {
  const tap = createTap({
    format: openaiChat,
    dropUsageChunk,
    onEnd() {},
    abortUpstream() {},
    ...(secrets ? { secrets } : {}),
  });
  const piece = enc.encode("data: " + "y".repeat(194));
  let out = 0;
  const work = scanned(() => {
    for (let i = 0; i < pieces; i++) out += tap.chunk(piece)?.length ?? 0;
    out += tap.chunk(enc.encode("\n\n"))?.length ?? 0;
    out += tap.done()?.length ?? 0;
  });
  return { work, out };
}

describe("stream tap cost", () => {
  for (const drop of [true, false]) {
    for (const secrets of [undefined, needlesOf(["sk-secretkey-AAAA1111BBBB2222/xyz+0"])]) {
      it(`is linear in the bytes sent, in small chunks without an event end (drop=${drop}, redact=${!!secrets})`, () => {
        const small = feed(2_000, drop, secrets);
        const large = feed(4_000, drop, secrets);
        assert.equal(large.out, 4_000 * 200 + 2, "every byte reaches the client");
        assert.ok(large.work < 3 * small.work, `twice the input, ${(large.work / small.work).toFixed(2)}× the work`);
        assert.ok(large.work < 20 * 4_000 * 200, `${large.work} characters looked at for ${4_000 * 200} sent`);
      });
    }
  }
});

describe("stream tap, drop mode, split anywhere", () => {
  const event = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;
  const usage = event({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 7 } });
  const text = event({ choices: [{ delta: { content: "héllo" } }] }) + usage +
    event({ choices: [{ delta: { content: "x" } }] }) + "data: [DONE]\n\n";
  const expected = text.replace(usage, "");

  it("removes the usage-only event and keeps every other byte, wherever two or three chunks are cut", () => {
    const bytes = enc.encode(text);
    for (let a = 0; a <= bytes.length; a++) {
      for (const b of [a, Math.min(bytes.length, a + 1), Math.min(bytes.length, a + 9)]) {
        let end: StreamEnd | undefined;
        const tap = createTap({
          format: openaiChat,
          dropUsageChunk: true,
          onEnd: (e) => (end = e),
          abortUpstream() {},
        });
        const parts = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)].filter((p) => p.length).map((p) =>
          tap.chunk(p)
        );
        const tail = tap.done();
        const out = dec.decode(Buffer.concat([...parts, tail].filter((p): p is Uint8Array => p !== undefined)));
        assert.equal(out, expected, `cut at ${a}/${b}`);
        assert.deepEqual(end?.usage, { promptTokens: 5, completionTokens: 7 }, `cut at ${a}/${b}`);
      }
    }
  });

  it("passes an event longer than the hold-back bound through whole, and still removes the usage event after it", () => {
    const big = `data: {"choices":[{"delta":{"content":"${"z".repeat(100_000)}"}}]}\n\n`;
    const tap = createTap({ format: openaiChat, dropUsageChunk: true, onEnd() {}, abortUpstream() {} });
    const bytes = enc.encode(big + usage + "data: [DONE]\n\n");
    let out = "";
    for (let i = 0; i < bytes.length; i += 1000) {
      const b = tap.chunk(bytes.subarray(i, i + 1000));
      if (b) out += dec.decode(b);
    }
    const tail = tap.done();
    if (tail) out += dec.decode(tail);
    assert.equal(out, big + "data: [DONE]\n\n");
  });

  it("observe mode skips a line over its bound, reads the usage line after it, and ends a broken stream on a line of its own", () => {
    const long = JSON.stringify({ message: { content: "w".repeat(1_500_000) }, done: false });
    const last = JSON.stringify({ message: { content: "" }, done: true, prompt_eval_count: 3, eval_count: 2 });
    let end: StreamEnd | undefined;
    const tap = createTap({ format: ollamaNative, dropUsageChunk: false, onEnd: (e) => (end = e), abortUpstream() {} });
    const bytes = enc.encode(`${long}\n${last}\n`);
    let sent = 0;
    for (let i = 0; i < bytes.length; i += 65_536) sent += tap.chunk(bytes.subarray(i, i + 65_536))?.length ?? 0;
    tap.done();
    assert.equal(sent, bytes.length);
    assert.deepEqual(end?.usage, { promptTokens: 3, completionTokens: 2 });
    const broken = createTap({ format: ollamaNative, dropUsageChunk: false, onEnd() {}, abortUpstream() {} });
    broken.chunk(bytes.subarray(0, 1_200_000));
    assert.ok(dec.decode(broken.failed(new Error("reset"))).startsWith("\n{"), "the error starts on a new line");
  });
});
