/**
 * CPU of the stream tap alone per chunk, for the chunk shapes of a chat stream: an OpenAI chat
 * SSE event (observe and drop mode, with the key redactor as the pool runs it) and an Ollama
 * NDJSON line. No I/O: this is the pool's own per-chunk work, to compare variants of the tap.
 * `npx tsx bench/tap_chunk_cost.ts [--chunks N]`
 * @module
 */
import { parseArgs } from "node:util";
import { needlesOf } from "../src/proxy/redact.ts";
import { createTap } from "../src/proxy/stream.ts";
import { ollamaNative } from "../src/wire/ollama_native.ts";
import { openaiChat } from "../src/wire/openai_chat.ts";
import type { WireFormat } from "../src/wire/types.ts";

const { values } = parseArgs({ options: { chunks: { type: "string" } } });
const N = Number(values.chunks ?? 200_000);
const enc = new TextEncoder();
const sse = (i: number) =>
  enc.encode(
    `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1764000000,"model":"llama3.2","choices":[{"index":0,"delta":{"content":"tok${i} "},"finish_reason":null}]}\n\n`,
  );
const ndjson = (i: number) =>
  enc.encode(
    `{"model":"llama3.2","created_at":"2026-11-27T00:00:00Z","message":{"role":"assistant","content":"tok${i} "},"done":false}\n`,
  );

function run(name: string, format: WireFormat, dropUsageChunk: boolean, make: (i: number) => Uint8Array): void {
  const chunks = Array.from({ length: 64 }, (_, i) => make(i));
  let ended = 0;
  const streams = N / 200;
  const t0 = process.cpuUsage();
  for (let s = 0; s < streams; s++) {
    const tap = createTap({
      format,
      dropUsageChunk,
      onEnd: () => void ended++,
      abortUpstream: () => {},
      idleTimeoutMs: 60_000,
      secrets: needlesOf(["key-aaaaaaaa1"]),
    });
    for (let i = 0; i < 200; i++) {
      tap.waiting();
      tap.chunk(chunks[i & 63]);
    }
    tap.done();
  }
  const t = process.cpuUsage(t0);
  console.log(
    `${name.padEnd(28)} ${((t.user + t.system) / N).toFixed(3)} µs per chunk (${N} chunks, ${ended} streams)`,
  );
}

for (let round = 0; round < 3; round++) {
  run("openai_chat SSE, drop mode", openaiChat, true, sse);
  run("openai_chat SSE, observe", openaiChat, false, sse);
  run("ollama NDJSON, observe", ollamaNative, false, ndjson);
}
