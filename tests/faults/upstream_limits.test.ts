/**
 * Fault suite (issue 12), bounds and secrecy: MAX_RESPONSE_BYTES (a large answer and a gzip
 * "bomb" stop at the bound: 502, counted, key not blamed; streams pass through), the idle
 * timeout (a stalled non-stream body moves to the next key, a stalled stream ends in-band),
 * key redaction across every chunk boundary, and the stand-alone server as a child process
 * surviving the answers that used to end it. Both transports; Node, Deno and Bun.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { collectEscapes, TRANSPORTS } from "../helpers/upstream_faults.ts";
import { openaiCompatible } from "../../mod.ts";
import { passHeaders, secretsOf } from "../../src/proxy/attempt.ts";
import { needlesOf, redactBytes, streamRedactor } from "../../src/proxy/redact.ts";
import { startMockUpstream } from "../helpers/mock_upstream.ts";
import { chat, setupPool, type TestPool } from "../helpers/setup.ts";
import { serverArgs, spawnServer } from "../helpers/spawn.ts";
import { skipUnless } from "../helpers/requires.ts";

/** Everything that would have ended the process, had these listeners not been here. */
const escaped = collectEscapes();
const transports = TRANSPORTS;
const LIMIT = 256 * 1024;
const IDLE = 400;

for (const [transport, makeFetch] of transports) {
  describe(`upstream limits (${transport})`, () => {
    let t: TestPool;
    const stats = async () =>
      (await (await t.admin("GET", "/admin/stats?provider=ollama")).json()) as Record<string, number>;
    const keyState = async (label: string) => {
      const list = await (await t.admin("GET", "/admin/api-keys?provider=ollama&pageSize=200")).json();
      return list.api_keys.find((k: { username: string }) => k.username === label);
    };
    const keys = async (...secrets: string[]) => {
      await t.setKeys([]);
      await t.admin("POST", "/admin/api-keys/import", { keys: secrets.map((s) => ({ key: s, username: s })) });
    };
    before(async () => {
      t = await setupPool({
        fetch: makeFetch(),
        mockOptions: { raw: true },
        maxResponseBytes: LIMIT,
        streamIdleTimeoutMs: IDLE,
      });
    });
    after(() => t.close());

    for (const [framing, encoding] of [["cl", "identity"], ["chunked1", "identity"], ["cl", "gzip"], ["close", "br"]]) {
      it(`an answer over MAX_RESPONSE_BYTES (${framing}, ${encoding}): 502, counted as a failure, the key not blamed`, async () => {
        const key = `odd.200.${framing}.${encoding}.big4096`; // 4 MiB of padding; gzip sends ~4 KB of it
        await keys(key);
        const before = await stats();
        const res = await t.call("/v1/chat/completions", chat());
        const body = await res.json();
        assert.equal(res.status, 502);
        assert.equal(body.error.code, "upstream_response_too_large");
        const after = await stats();
        assert.equal(after.total_requests, before.total_requests + 1);
        assert.equal(after.failure_count, before.failure_count + 1);
        const state = await keyState(key);
        assert.equal(state.status, "active", "the key still serves");
        assert.equal(state.failures, 0);
      });
    }

    it("a stream is not bounded by MAX_RESPONSE_BYTES: it passes through whole", async () => {
      await keys("odd.200.chunked1.gzip.big1024");
      const res = await t.call("/v1/chat/completions", chat("llama3.2", { stream: true }));
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.ok(text.length > 1024 * 1024 && text.endsWith("data: [DONE]\n\n"));
    });

    it("a non-stream body that stalls moves to the next key; alone, it ends in a 503 after the idle timeout", async () => {
      await keys("odd.200.stall.identity.1", "odd.200.cl.identity.2");
      for (let i = 0; i < 2; i++) {
        const res = await t.call("/v1/chat/completions", chat());
        assert.equal(res.status, 200);
        assert.equal((await res.json()).object, "chat.completion");
      }
      assert.equal(t.mock.hits.get("odd.200.stall.identity.1"), 1, "the stalled key was tried, then rested");
      await keys("odd.200.stall.gzip.3");
      const started = Date.now();
      const res = await t.call("/v1/chat/completions", chat());
      assert.equal(res.status, 503);
      assert.match((await res.json()).error.message, /stopped sending the body/);
      assert.ok(Date.now() - started >= IDLE - 50 && Date.now() - started < IDLE + 1500, `${Date.now() - started} ms`);
    });

    for (const [path, extra] of [["/v1/chat/completions", { stream: true }], ["/api/chat", {}]] as const) {
      it(`a stream that stalls (${path}) ends with the in-band error after the idle timeout`, async () => {
        await keys("odd.200.stall.identity.4");
        const before = await stats();
        const started = Date.now();
        const res = await t.call(path, chat("llama3.2", extra));
        assert.equal(res.status, 200);
        const text = await res.text();
        assert.match(text, /upstream sent nothing for 400 ms/);
        assert.ok(Date.now() - started < IDLE + 1500, `${Date.now() - started} ms`);
        assert.equal((await stats()).failure_count, before.failure_count + 1);
      });
    }

    it("nothing escaped to the process", () => assert.deepEqual(escaped, []));
  });
}

describe("key redaction in streams", () => {
  it("finds the key at every chunk boundary, holds back at most its length, and costs no copy without it", () => {
    const key = "sk-live-0123456789abcdef";
    const text = `data: {"echo":"${key}","again":"${key}"}\n\n`;
    const bytes = new TextEncoder().encode(text);
    for (let a = 0; a <= bytes.length; a++) {
      for (const b of [a, Math.min(bytes.length, a + 3), bytes.length]) {
        const r = streamRedactor(needlesOf([key]));
        const parts = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)].map((p) => r.chunk(p));
        const tail = r.flush();
        const out = new TextDecoder().decode(Buffer.concat([...parts, ...(tail ? [tail] : [])]));
        assert.equal(out, text.replaceAll(key, "[redacted]"), `split at ${a}/${b}`);
      }
    }
    const plain = new TextEncoder().encode('data: {"x":"s"}\n\n');
    assert.equal(streamRedactor(needlesOf([key])).chunk(plain), plain, "unchanged chunks are passed as they are");
    const r = streamRedactor(needlesOf([key]));
    assert.equal(new TextDecoder().decode(r.chunk(new TextEncoder().encode(`x ${key.slice(0, 12)}`))), "x ");
    assert.equal(
      new TextDecoder().decode(r.flush()),
      "[redacted]",
      "a long start of the key is not shown at the end either",
    );
  });
});

describe("what authorize sent is a secret too", () => {
  it("an encoded credential (HTTP Basic) is redacted from bodies and keeps its headers back", () => {
    const secret = "basic-secret-0123456789";
    const provider = {
      ...openaiCompatible({
        id: "basic",
        baseURL: "http://127.0.0.1:9/v1",
        prefix: "/basic/v1",
        headers: { "x-title": "Pool App Title" },
      }),
      authorize: (h: Headers, s: string) => h.set("authorization", `Basic ${btoa(`user:${s}`)}`),
    };
    const basic = `Basic ${btoa(`user:${secret}`)}`;
    assert.deepEqual(secretsOf(provider, secret), [secret, basic], "the static x-title is no secret");
    const body = new TextEncoder().encode(`{"error":"bad credential ${basic} for ${secret}"}`);
    assert.equal(
      new TextDecoder().decode(redactBytes(body, needlesOf(secretsOf(provider, secret)))),
      '{"error":"bad credential [redacted] for [redacted]"}',
    );
    const headers = {
      "content-type": "application/json",
      "x-request-id": basic,
      "x-ratelimit-limit-requests": "10",
      "www-authenticate": "Basic",
    };
    assert.deepEqual(passHeaders(headers, secretsOf(provider, secret)), {
      "content-type": "application/json",
      "x-ratelimit-limit-requests": "10",
    });
  });
});

const SERVER_SUITE = "the stand-alone server survives upstream answers that used to end it";
describe(SERVER_SUITE, skipUnless(SERVER_SUITE, "processes"), () => {
  it("401/600/corrupt gzip/stall through chat, verify-key and a background health check; MAX_RESPONSE_BYTES and STREAM_IDLE_TIMEOUT_MS from the environment", async () => {
    const mock = await startMockUpstream({ raw: true });
    const admin = "matrix-admin-token-0123456789";
    const server = await spawnServer(
      "node",
      serverArgs("--storage", "memory:"),
      {
        env: {
          ADMIN_TOKEN: admin,
          OLLAMA_BASE_URL: mock.url,
          MAX_RESPONSE_BYTES: "65536",
          STREAM_IDLE_TIMEOUT_MS: "300",
        },
      },
    );
    try {
      const call = (path: string, body?: unknown, token = admin, method = "POST") =>
        fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      /** Leaves `key` as the pool's only key. */
      const only = async (key: string) => {
        const list = await (await call("/admin/api-keys?provider=ollama&pageSize=200", undefined, admin, "GET")).json();
        const ids = list.api_keys.map((k: { id: string }) => k.id);
        if (ids.length) await (await call("/admin/api-keys?provider=ollama", { apiKeys: ids }, admin, "DELETE")).text();
        await (await call("/admin/api-keys/import", { keys: [key] })).text();
      };
      const { token } = await (await call("/admin/tokens", { name: "matrix" })).json();
      const ask = async (key: string) => {
        await only(key);
        const started = Date.now();
        const res = await call("/v1/chat/completions", { model: "llama3.2", messages: [] }, token);
        return { status: res.status, body: await res.text(), ms: Date.now() - started };
      };
      const big = await ask("odd.200.cl.gzip.big1024"); // 1 MiB inflated, over MAX_RESPONSE_BYTES=65536
      assert.equal(big.status, 502, big.body);
      const stall = await ask("odd.200.stall.identity.x"); // given up after STREAM_IDLE_TIMEOUT_MS=300
      assert.equal(stall.status, 503, stall.body);
      assert.ok(stall.ms < 3_000, `${stall.ms} ms`);
      const odd = [
        "odd.401.chunked1.identity",
        "odd.600.pieces.corrupt",
        "odd.999.close.gzip",
        "odd.429.chunked1.br",
        "odd.205.reset.identity",
      ];
      for (const key of odd) {
        const r = await ask(key);
        assert.ok([205, 429, 503].includes(r.status), `${key}: ${r.status} ${r.body}`);
        await (await call("/admin/verify-key", { apiKey: key })).text();
      }
      await (await call("/admin/api-keys/import", { keys: odd })).text();
      const job = await call("/admin/keys/health-check", {}); // without ?wait: nobody awaits the job
      assert.equal(job.status, 202);
      await job.text();
      await new Promise((r) => setTimeout(r, 800));
      const health = await fetch(`${server.url}/health`);
      assert.equal(health.status, 200, `still up:\n${server.output()}`);
      await health.text();
      assert.doesNotMatch(server.output(), /RequestAbortedError|RangeError|Unhandled|uncaught/i);
      for (const key of odd) assert.ok(!server.output().includes(key), `${key} in the server's output`);
    } finally {
      await server.stop();
      await mock.close();
    }
  });
});
