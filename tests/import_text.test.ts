/**
 * ollama.txt imports read as they arrive (src/keys/text_lines.ts, src/keys/import_text.ts):
 * lines split at any chunk boundary read the same as the whole text, long and non-UTF-8 lines
 * are reported without stopping the import, a streamed text/plain body answers what the JSON
 * form answers, the body limit holds, and duplicates across steps count as existing.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { IMPORT_STEP } from "../src/keys/import_text.ts";
import { parseKeyLines } from "../src/keys/parse.ts";
import { linesOfText, LineSplitter, MAX_LINE_BYTES, type TextLine } from "../src/keys/text_lines.ts";
import { ADMIN, setupPool, type TestPool } from "./helpers/setup.ts";

const enc = new TextEncoder();

/** Every line `bytes` gives when fed to a splitter in pieces of `size` bytes. */
function split(bytes: Uint8Array, size: number): TextLine[] {
  const s = new LineSplitter();
  const out: TextLine[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...s.push(bytes.subarray(i, i + size)));
  return [...out, ...s.end()];
}

const SAMPLE = [
  "\ufeffme@x.io----pw----sess----key-aaaaaaaa1",
  "",
  "# a comment",
  "bare-key-bbbbbbbb\r",
  "josé@x.io----pässwörd----sess----key-cccccccc3",
  "名前@x.io----pw----🔑----key-dddddddd4",
  "broken----line",
].join("\n");

describe("LineSplitter", () => {
  it("reads the same lines at every chunk size as the whole text does", () => {
    const want = SAMPLE.split("\n");
    want[0] = want[0].slice(1); // the byte order mark goes
    for (const size of [1, 2, 3, 5, 7, 13, 64, 1 << 16]) {
      assert.deepEqual(split(enc.encode(SAMPLE), size), want, `chunks of ${size} bytes`);
      assert.deepEqual(split(enc.encode(`${SAMPLE}\n`), size), want, `ending in a newline, ${size}`);
    }
  });

  it("reports a line over the bound and reads the next, whether it came in one chunk or many", () => {
    const long = "x".repeat(MAX_LINE_BYTES + 1);
    const fits = "y".repeat(MAX_LINE_BYTES);
    const text = enc.encode(["key-before-0001", long, fits, "key-after-00002", long].join("\n"));
    for (const size of [1000, 70_000, text.length]) {
      const lines = split(text, size);
      assert.equal(lines.length, 5, `chunks of ${size}`);
      assert.equal(lines[0], "key-before-0001");
      assert.match((lines[1] as { problem: string }).problem, /longer than 65,536 bytes/);
      assert.equal(lines[2], fits);
      assert.equal(lines[3], "key-after-00002");
      assert.match((lines[4] as { problem: string }).problem, /longer than/, `the last line, chunks of ${size}`);
    }
    assert.deepEqual([...linesOfText(`a\n${long}\nb`)].map((l) => typeof l === "string" ? l : "TOO_LONG"), [
      "a",
      "TOO_LONG",
      "b",
    ]);
  });

  it("reports a line that is not UTF-8 and reads the others, at any chunk boundary", () => {
    const bytes = new Uint8Array([
      ...enc.encode("key-first-00001\nbad-"),
      0xff,
      0xc3,
      ...enc.encode("-line\nkey-last-000002"),
    ]);
    for (const size of [1, 4, 19, bytes.length]) {
      const lines = split(bytes, size);
      assert.deepEqual(lines.map((l) => (typeof l === "string" ? l : l.problem)), [
        "key-first-00001",
        "line is not valid UTF-8",
        "key-last-000002",
      ], `chunks of ${size}`);
    }
  });
});

/** A text/plain body that arrives in small chunks, with no declared length. */
function trickle(text: string, size = 7): ReadableStream<Uint8Array> {
  const bytes = enc.encode(text);
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at += size));
    },
  });
}

describe("POST /admin/api-keys/import-from-txt read as it arrives", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ maxBodyBytes: 400_000 });
  });
  after(() => t.close());

  const plain = (text: string | ReadableStream<Uint8Array>, provider = "ollama"): Promise<Response> =>
    t.pool.fetch(
      new Request(`http://pool/admin/api-keys/import-from-txt?provider=${provider}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${ADMIN}`,
          "content-type": "text/plain; charset=utf-8",
          // What an HTTP server sees for a whole body (in-process, a Request declares no length).
          ...(typeof text === "string" ? { "content-length": String(enc.encode(text).length) } : {}),
        },
        body: text,
        duplex: "half",
      } as RequestInit),
    );

  it("a streamed text/plain body answers what the JSON form answers for the same text", async () => {
    const text = `${SAMPLE}\nkey-aaaaaaaa1\n${"z".repeat(MAX_LINE_BYTES + 5)}\nlast-key-eeeeeeee5`;
    const json = await (await t.admin("POST", "/admin/api-keys/import-from-txt?provider=ollama", { content: text }))
      .json();
    const streamed = await plain(trickle(text), "openrouter");
    assert.equal(streamed.status, 200);
    const body = await streamed.json();
    assert.deepEqual({ ...body, provider: "ollama" }, json);
    assert.deepEqual([json.total, json.added, json.existing], [8, 5, 1]);
    assert.deepEqual(json.invalid.map((i: { line: number }) => i.line), [7, 9]);
    // The whole-text parser, used by the validated import, agrees on the key lines.
    const whole = parseKeyLines(text);
    assert.equal(whole.total - whole.invalid.length, json.added + json.existing);
  });

  it("counts duplicates across steps as existing, and an import of the same file again adds nothing", async () => {
    const n = IMPORT_STEP + 500;
    const keys = Array.from({ length: n }, (_, i) => `dup@x.io----pw----s----key-step-${String(i).padStart(6, "0")}`);
    const text = [...keys, ...keys.slice(0, 700)].join("\n"); // the repeats come steps later
    const first = await (await plain(trickle(text, 4096))).json();
    assert.deepEqual([first.total, first.added, first.existing, first.invalid.length], [n + 700, n, 700, 0]);
    const again = await (await plain(text)).json();
    assert.deepEqual([again.added, again.existing], [0, n + 700]);
    const listed = await (await t.admin("GET", "/admin/api-keys?search=dup@x.io&pageSize=1")).json();
    assert.equal(listed.total, n);
  });

  it("refuses a body declared over the limit before storing anything; one that goes past it keeps the steps before", async () => {
    const line = (i: number) => `big@x.io----pw----s----key-limit-${String(i).padStart(7, "0")}`;
    const text = Array.from({ length: 8000 }, (_, i) => line(i)).join("\n"); // ~400 KB
    const declared = await plain(text.padEnd(400_001, "\n"));
    assert.equal(declared.status, 413);
    assert.equal((await declared.json()).error.code, "body_too_large");
    const none = await (await t.admin("GET", "/admin/api-keys?search=big@x.io&pageSize=1")).json();
    assert.equal(none.total, 0, "nothing of a refused body is stored");
    const undeclared = await plain(trickle(text.padEnd(400_001, "\n"), 8192));
    assert.equal(undeclared.status, 413);
    const some = await (await t.admin("GET", "/admin/api-keys?search=big@x.io&pageSize=1")).json();
    assert.ok(some.total >= IMPORT_STEP && some.total % IMPORT_STEP === 0, `whole steps stay: ${some.total}`);
  });
});
