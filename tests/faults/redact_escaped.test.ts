/**
 * Key redaction against an upstream that echoes the key JSON-escaped: `/` as `\/` (PHP's
 * json_encode), a character as `\u00XX` (.NET writes `+` as `\u002B`), every character
 * \u-escaped, and escapes escaped again (JSON quoted in a JSON string). Ollama keys contain `/`
 * and `+`. In non-stream answers, error bodies and streams split at every byte; over both
 * transports, end to end. Node, Deno and Bun.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { undiciFetch } from "../../adapters/node_fetch.ts";
import type { FetchLike } from "../../mod.ts";
import { passHeaders } from "../../src/proxy/attempt.ts";
import { needlesOf, redactBytes, streamRedactor } from "../../src/proxy/redact.ts";
import { chat, setupPool, type TestPool } from "../helpers/setup.ts";

const KEY = "3a0f9c2d1e.AbC/dEf+GhI/jk0=";
const u = (c: string, upper = false): string => {
  const hex = c.charCodeAt(0).toString(16).padStart(4, "0");
  return `\\u${upper ? hex.toUpperCase() : hex}`;
};
/** The forms an encoder may write KEY in inside a JSON string. */
const FORMS: Array<[string, string]> = [
  ["raw", KEY],
  ["slashes escaped (PHP)", KEY.replaceAll("/", "\\/")],
  ["first character \\u-escaped", u(KEY[0]) + KEY.slice(1)],
  ["+ as \\u002B (.NET)", KEY.replaceAll("+", u("+", true))],
  ["/ as \\u002f", KEY.replaceAll("/", u("/"))],
  ["every character \\u-escaped", [...KEY].map((c) => u(c)).join("")],
  ["every character \\u-escaped, upper-case hex", [...KEY].map((c) => u(c, true)).join("")],
  ["escaped twice (JSON in a JSON string)", KEY.replaceAll("/", "\\\\\\/")],
  ["\\u-escaped twice", KEY.replaceAll("A", "\\\\u0041")],
];
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Every JSON escape and percent-encoding undone (twice: an escaped escape), to look for the key. */
const unescaped = (text: string): string => {
  let out = text;
  for (let i = 0; i < 2; i++) {
    out = out.replace(/\\+u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(parseInt(h, 16)))
      .replace(/\\+\//g, "/").replace(/%([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  }
  return out;
};

describe("redaction of JSON-escaped keys", () => {
  for (const [name, form] of FORMS) {
    it(`a body: ${name}`, () => {
      const body = `{"error":"bad key ${form}","again":"${form}"}`;
      assert.equal(
        dec.decode(redactBytes(enc.encode(body), needlesOf([KEY]))),
        '{"error":"bad key [redacted]","again":"[redacted]"}',
      );
    });

    it(`a stream split at every byte: ${name}`, () => {
      const text = `data: {"echo":"${form}","n":1}\n\n`;
      const bytes = enc.encode(text);
      const bound = 8 * enc.encode(KEY).length;
      for (let a = 0; a <= bytes.length; a++) {
        const r = streamRedactor(needlesOf([KEY]));
        const first = r.chunk(bytes.subarray(0, a));
        assert.ok(a - first.length < bound, `held ${a - first.length} bytes`);
        const out = dec.decode(Buffer.concat([first, r.chunk(bytes.subarray(a)), r.flush() ?? new Uint8Array()]));
        assert.equal(out, 'data: {"echo":"[redacted]","n":1}\n\n', `split at ${a}`);
      }
    });
  }

  it("a stream cut off inside an escaped key does not show that start at the end", () => {
    const r = streamRedactor(needlesOf([KEY]));
    const start = KEY.slice(0, 12).replaceAll("/", "\\/").replace("3", u("3"));
    assert.equal(dec.decode(r.chunk(enc.encode(`data: "${start}`))), 'data: "');
    assert.equal(dec.decode(r.flush()), "[redacted]");
  });

  const headerForms: Array<[string, string]> = [
    ...FORMS,
    ["percent-encoded (a URL)", encodeURIComponent(KEY)],
    ["percent-encoded twice", encodeURIComponent(encodeURIComponent(KEY))],
    [
      "every character percent-encoded, lower-case hex",
      [...KEY].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(""),
    ],
  ];
  for (const [name, form] of headerForms) {
    it(`a passed header (allowed by name) is held back: ${name}`, () => {
      const upstream = {
        "content-type": "application/json",
        "x-request-id": `req ${form}`,
        "openai-organization": form,
      };
      assert.deepEqual(passHeaders(upstream, [KEY]), { "content-type": "application/json" });
    });
  }

  it("headers with ordinary escapes, percent signs or a start of the key pass", () => {
    const upstream = {
      "x-request-id": "req\\/1 \\u00e9 50%25 3a0f9c2d1e.AbC",
      "x-ratelimit-remaining": "99%",
      etag: '"\\u0041"',
    };
    assert.deepEqual(passHeaders(upstream, [KEY]), upstream);
  });

  it("ordinary escapes are left alone, and a body without a candidate is not copied", () => {
    const text = enc.encode('{"content":"line\\none \\u00e9 \\\\ \\/ \\"q\\" 3a0f9c2d1e.AbC"}');
    assert.equal(redactBytes(text, needlesOf([KEY])), text);
    assert.equal(streamRedactor(needlesOf([KEY])).chunk(text), text);
  });

  it("a body full of backslashes is searched in linear time (no rescan of a run)", () => {
    const body = enc.encode(`{"a":"${"\\".repeat(200_000)}${KEY.replaceAll("/", "\\/")}"}`);
    const out = dec.decode(redactBytes(body, needlesOf([KEY])));
    assert.ok(out.endsWith('[redacted]"}') && !out.includes("AbC"));
  });
});

const transports: Array<[string, () => FetchLike | undefined]> = [["global fetch", () => undefined], [
  "undiciFetch",
  () => undiciFetch(),
]];

for (const [transport, makeFetch] of transports) {
  describe(`an upstream echoing the key JSON-escaped (${transport})`, () => {
    let t: TestPool;
    before(async () => {
      t = await setupPool({ fetch: makeFetch(), mockOptions: { raw: true } });
    });
    after(() => t.close());

    const cases: Array<[string, string, RequestInit, number]> = [
      ["a non-stream answer", "odd.200.cl.identity.echo.escaped", chat(), 200],
      ["an error body (400)", "odd.400.cl.identity.echo.escaped", chat(), 400],
      ["a stream in 7-byte pieces", "odd.200.pieces.identity.echo.escaped", chat("llama3.2", { stream: true }), 200],
      ["an NDJSON stream in 7-byte pieces", "odd.200.pieces.identity.echo.escaped", chat(), 200],
    ];
    for (const [name, script, init, status] of cases) {
      it(`${name}: no form of the key reaches the client`, async () => {
        const key = `${script}.k3y/with+slash/AND+plus==`;
        await t.setKeys([key]);
        const path = name.startsWith("an NDJSON") ? "/api/chat" : "/v1/chat/completions";
        const res = await t.call(path, init);
        const text = await res.text();
        assert.equal(res.status, status, text);
        assert.match(text, /\[redacted\] \[redacted\] \[redacted\]/, "all three forms replaced");
        // Decoding every JSON string in the answer shows no key either.
        const decoded = text.replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(parseInt(h, 16))).replaceAll(
          "\\/",
          "/",
        );
        assert.ok(!decoded.includes("k3y/with+slash"), decoded);
        const headers = [...res.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
        assert.ok(!unescaped(headers).includes("k3y/with+slash"), headers);
      });
    }
  });
}
