import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPool, ollama, openaiCompatible, openrouter } from "../mod.ts";

describe("createPool options", () => {
  it("requires at least one provider", () => {
    assert.throws(() => createPool({ providers: [] }), /providers: at least one provider is required/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => createPool({} as any), /providers: at least one provider is required/);
  });

  it("rejects duplicate ids and overlapping routes", () => {
    assert.throws(() => createPool({ providers: [ollama(), ollama()] }), /"ollama" is used twice/);
    const clash = openaiCompatible({ id: "other", baseURL: "http://127.0.0.1:1/v1", prefix: "/v1" });
    assert.throws(
      () => createPool({ providers: [ollama(), clash] }),
      /route POST \/v1\/chat\/completions is already served by provider "ollama"/,
    );
  });

  it("validates ids, URLs and numbers with the field name", () => {
    assert.throws(
      () => createPool({ providers: [openaiCompatible({ id: "Bad Id", baseURL: "http://x/v1", prefix: "/x" })] }),
      /providers\[0\]\.id/,
    );
    assert.throws(
      () => createPool({ providers: [openaiCompatible({ id: "x", baseURL: "not a url", prefix: "/x" })] }),
      /must be an http\(s\) URL/,
    );
    // A scheme-less host parses as a URL with scheme "ollama.com:"; a doubled /v1 calls /v1/v1/….
    assert.throws(
      () => createPool({ providers: [ollama({ baseURL: "ollama.com" })] }),
      /providers\[0\] \(ollama\): upstream URL must be an http\(s\) URL/,
    );
    assert.throws(() => createPool({ providers: [ollama({ baseURL: "https://ollama.com/v1" })] }), /has \/v1 twice/);
    assert.throws(
      () =>
        createPool({
          providers: [openaiCompatible({ id: "g", baseURL: "https://api.groq.com/openai/v1/v1", prefix: "/g" })],
        }),
      /has \/v1 twice/,
    );
    assert.throws(
      () => createPool({ providers: [ollama()], failover: { maxAttempts: 0 } }),
      /failover\.maxAttempts: must be a positive integer/,
    );
    assert.throws(() => createPool({ providers: [ollama()], maxBodyBytes: -1 }), /maxBodyBytes/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => createPool({ providers: [ollama()], storage: "fs" as any }), /storage:/);
  });

  it("builds the presets with their default bases and routes", () => {
    const o = ollama();
    assert.equal(o.baseURL, "https://ollama.com");
    assert.ok(
      o.endpoints.some((e) =>
        e.path === "/v1/chat/completions" && e.upstream === "https://ollama.com/v1/chat/completions"
      ),
    );
    assert.ok(o.endpoints.some((e) => e.path === "/api/chat" && e.format.id === "ollama_native"));
    const r = openrouter({ appUrl: "https://a.example", appTitle: "A" });
    assert.ok(
      r.endpoints.some((e) =>
        e.path === "/openrouter/v1/chat/completions" && e.upstream === "https://openrouter.ai/api/v1/chat/completions"
      ),
    );
    assert.deepEqual(r.headers, { "HTTP-Referer": "https://a.example", "X-Title": "A" });
    assert.equal(
      ollama({ baseURL: "http://127.0.0.1:9/" }).endpoints[0].upstream,
      "http://127.0.0.1:9/v1/chat/completions",
    );
  });
});
