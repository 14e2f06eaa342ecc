import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseKeyLines, parseKeyList } from "../src/keys/parse.ts";
import { maskSecret } from "../src/keys/secrets.ts";
import { parseRetryAfter } from "../src/providers/classify.ts";

describe("parseKeyLines (ollama.txt)", () => {
  it("takes the last of four fields, bare keys, and skips blanks and comments", () => {
    const r = parseKeyLines([
      "me@x.io----pw----sess----key-aaaaaaaa1",
      "",
      "# a comment",
      "bare-key-bbbbbbbb",
      "  you@y.io----pw----sess----key-cccccccc3  \r",
    ].join("\n"));
    assert.equal(r.total, 3);
    assert.deepEqual(r.keys.map((k) => [k.secret, k.label, k.line]), [
      ["key-aaaaaaaa1", "me@x.io", 1],
      ["bare-key-bbbbbbbb", undefined, 4],
      ["key-cccccccc3", "you@y.io", 5],
    ]);
    assert.deepEqual(r.invalid, []);
  });

  it("reports malformed lines with their line number and goes on", () => {
    const r = parseKeyLines("a----b\nme@x.io----pw----sess----\nshort\nhas space in it\ngood-key-12345678");
    assert.equal(r.total, 5);
    assert.deepEqual(r.keys.map((k) => k.secret), ["good-key-12345678"]);
    assert.deepEqual(r.invalid.map((i) => i.line), [1, 2, 3, 4]);
    assert.match(r.invalid[0].reason, /4 fields/);
    assert.match(r.invalid[2].reason, /shorter than 8/);
  });

  it("reads JSON key lists of strings and objects", () => {
    const r = parseKeyList(["key-aaaaaaaa1", { api_key: "key-bbbbbbbb2", username: "u" }, 42]);
    assert.deepEqual(r.keys.map((k) => [k.secret, k.label]), [["key-aaaaaaaa1", undefined], ["key-bbbbbbbb2", "u"]]);
    assert.deepEqual(r.invalid.map((i) => i.line), [3]);
  });
});

describe("maskSecret", () => {
  it("shows only the ends of long keys and almost nothing of short ones", () => {
    assert.equal(maskSecret("sk-or-v1-0123456789abcdef"), "sk-o…cdef");
    assert.equal(maskSecret("short-key-12"), "…12");
    assert.equal(maskSecret("abc"), "…");
  });
});

describe("parseRetryAfter", () => {
  const h = (o: Record<string, string>) => new Headers(o);
  it("reads seconds, HTTP dates and the millisecond headers", () => {
    assert.equal(parseRetryAfter(h({ "retry-after": "7" })), 7000);
    assert.equal(parseRetryAfter(h({ "retry-after-ms": "1500" })), 1500);
    assert.equal(parseRetryAfter(h({ "x-ms-retry-after-ms": "250", "retry-after": "9" })), 250);
    const now = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(parseRetryAfter(h({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }), now), 30_000);
  });
  it("ignores what it cannot read", () => {
    assert.equal(parseRetryAfter(h({})), undefined);
    assert.equal(parseRetryAfter(h({ "retry-after": "soon" })), undefined);
    assert.equal(parseRetryAfter(h({ "retry-after": "-3" })), undefined);
  });
});
