/**
 * CPU time of the stream tap (stream.ts) and the key redactor (redact.ts), in-process, without
 * I/O: one 1 MB SSE event that arrives in 200-byte chunks with no event end until the last (an
 * upstream trickling one huge line), and 1 MB of ordinary chat deltas (one event per chunk,
 * JSON escapes in the text), through observe and drop mode, with and without a key to redact.
 * The tap runs on the event loop: its time per chunk is time every other request waits. Drop
 * mode used to search the whole held event again for every chunk (quadratic: seconds for the
 * first case). `npx tsx bench/tap_cost.ts [rounds]` prints ms per MB, best of the rounds.
 * @module
 */
import os from "node:os";
import { needlesOf, redactBytes } from "../src/proxy/redact.ts";
import { createTap } from "../src/proxy/stream.ts";
import { openaiChat } from "../src/wire/openai_chat.ts";

const rounds = Number(process.argv[2] ?? 5);
const enc = new TextEncoder();
const secrets = needlesOf(["3a0f9c2d1e5b4a7c8d9e0f1a2b3c4d5e.AbCdEf/GhIjKl+MnOpQr0123456789=="]);

const trickle = Array.from(
  { length: 5_000 },
  (_, i) => enc.encode(i === 0 ? "data: " + "y".repeat(194) : "y".repeat(200)),
);
trickle.push(enc.encode("\n\n"));
const delta = enc.encode(
  `data: ${
    JSON.stringify({
      id: "c1",
      object: "chat.completion.chunk",
      choices: [{
        index: 0,
        delta: { content: 'a line\nwith "quotes" and \\ escapes, /paths/ and ünïcode' },
        finish_reason: null,
      }],
    })
  }\n\n`,
);
const deltas = Array.from({ length: Math.ceil(1_000_000 / delta.length) }, () => delta);

function time(chunks: Uint8Array[], drop: boolean, redact: boolean): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const tap = createTap({
      format: openaiChat,
      dropUsageChunk: drop,
      onEnd() {},
      abortUpstream() {},
      ...(redact ? { secrets } : {}),
    });
    const t = performance.now();
    for (const c of chunks) tap.chunk(c);
    tap.done();
    best = Math.min(best, performance.now() - t);
  }
  const mb = chunks.reduce((n, c) => n + c.length, 0) / 1e6;
  return best / mb;
}

console.log(
  `tap cost, ms per MB (best of ${rounds}); ${
    os.cpus()[0]?.model ?? "?"
  }, ${os.cpus().length} cores, ${process.version}`,
);
for (
  const [name, chunks] of [["one 1 MB event in 200 B chunks", trickle], [
    "chat deltas, one event per chunk",
    deltas,
  ]] as const
) {
  for (const drop of [false, true]) {
    for (const redact of [false, true]) {
      console.log(
        `${name.padEnd(34)} ${drop ? "drop   " : "observe"} ${redact ? "redact" : "      "} ${
          time(chunks, drop, redact).toFixed(2).padStart(8)
        } ms/MB`,
      );
    }
  }
}

// A non-stream body: 1 MB of JSON text with escapes and no key, and the same with the key
// written JSON-escaped near its end.
const body = enc.encode(JSON.stringify({ content: 'x\n"y" \\ /z/ '.repeat(80_000) }));
const withKey = enc.encode(
  new TextDecoder().decode(body).slice(0, -2) +
    '3a0f9c2d1e5b4a7c8d9e0f1a2b3c4d5e.AbCdEf\\/GhIjKl\\u002BMnOpQr0123456789=="}',
);
for (const [name, bytes] of [["non-stream body, no key", body], ["non-stream body, escaped key", withKey]] as const) {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    redactBytes(bytes, secrets);
    best = Math.min(best, performance.now() - t);
  }
  console.log(`${name.padEnd(50)} ${(best / (bytes.length / 1e6)).toFixed(2).padStart(8)} ms/MB`);
}
