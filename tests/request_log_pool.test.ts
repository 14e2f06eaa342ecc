/**
 * The request log through the pool: request ids end to end, what a record holds (attempts,
 * tokens, streams), the admin API and its NDJSON export, no secret in any record, the log on
 * every storage backend with two instances, and across a restart on filesystem storage.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPool, ollama } from "../mod.ts";
import type { LogRecord } from "../src/logs/types.ts";
import { ALL_BACKENDS, type Backend, fsBackend, needsOf } from "./helpers/backends.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { ADMIN, chat, setupPool, type TestPool } from "./helpers/setup.ts";
import { skipUnless } from "./helpers/requires.ts";

const SECRETS = ["err-secret-aaaa", "good-secret-bbbb"];

async function logs(t: TestPool, query = ""): Promise<{ records: LogRecord[]; next_cursor: string | null }> {
  const res = await t.admin("GET", `/admin/logs${query}`);
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

describe("request log through the pool", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ keys: SECRETS, failover: { maxAttempts: 3 } });
  });
  after(() => t.close());

  it("keeps a sane client request id, replaces an odd one, and puts it in error bodies", async () => {
    const kept = await t.call("/v1/chat/completions", { ...chat(), headers: { "x-request-id": "client-id_42.a" } });
    assert.equal(kept.headers.get("x-request-id"), "client-id_42.a");
    await kept.body?.cancel();
    for (const odd of ["has space", "x".repeat(200), "ünï"]) {
      const res = await t.call("/v1/chat/completions", {
        ...chat(),
        headers: { "x-request-id": encodeURI(odd) === odd ? odd : "a b" },
      });
      assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
      await res.body?.cancel();
    }
    const bad = await t.call("/v1/chat/completions", {
      method: "POST",
      body: "{not json",
      headers: { "x-request-id": "bad-json-1" },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get("x-request-id"), "bad-json-1");
    assert.equal((await bad.json()).error.request_id, "bad-json-1");
    const anon = await t.call("/v1/chat/completions", {
      ...chat(),
      headers: { authorization: "Bearer nope", "x-request-id": "anon-1" },
    });
    assert.equal(anon.status, 401);
    assert.equal((await anon.json()).error.request_id, "anon-1");
  });

  it("records each attempt, the token, the model, tokens and bytes; streams when they end", async () => {
    await t.close();
    t = await setupPool({ keys: SECRETS, failover: { maxAttempts: 3 } }); // rotation starts at the failing key
    const res = await t.call("/v1/chat/completions", {
      ...chat("llama3.2"),
      headers: { "x-request-id": "two-attempts" },
    });
    assert.equal(res.status, 200);
    const size = (await res.arrayBuffer()).byteLength;
    const s = await t.call("/api/chat", {
      ...chat("llama3.2", { stream: true }),
      headers: { "x-request-id": "a-stream" },
    });
    await s.text();
    await t.pool.flush();
    const { records } = await logs(t);
    const r = records.find((x) => x.id === "two-attempts")!;
    assert.deepEqual(r.attempts.map((a) => [a.outcome, a.status]), [["cooldown", 500], ["ok", 200]]);
    assert.equal(r.status, 200);
    assert.equal(r.model, "llama3.2");
    assert.equal(r.tokenName, "tests");
    assert.equal(r.stream, false);
    assert.equal(r.bytes, size);
    assert.ok((r.promptTokens ?? 0) > 0 && (r.completionTokens ?? 0) > 0);
    assert.ok(r.ms >= (r.ttfbMs ?? 0));
    const st = records.find((x) => x.id === "a-stream")!;
    assert.equal(st.stream, true);
    assert.equal(st.dialect, "ollama_native");
    assert.ok((st.completionTokens ?? 0) > 0 && (st.bytes ?? 0) > 0);
  });

  it("filters over the admin API, pages by cursor, exports NDJSON, and never shows a secret", async () => {
    for (let i = 0; i < 5; i++) {
      await (await t.call("/v1/chat/completions", { ...chat("missing-model"), headers: { "x-request-id": `nf-${i}` } }))
        .text();
    }
    await t.pool.flush();
    const first = await logs(t, "?status=404&limit=3");
    assert.deepEqual(first.records.map((r) => r.id), ["nf-4", "nf-3", "nf-2"]);
    assert.ok(first.next_cursor);
    const second = await logs(
      t,
      `?status=4xx&model=missing-model&limit=3&cursor=${encodeURIComponent(first.next_cursor!)}`,
    );
    assert.deepEqual(second.records.map((r) => r.id), ["nf-1", "nf-0"]);
    assert.equal(second.next_cursor, null);
    const bad = await t.admin("GET", "/admin/logs?limit=501");
    assert.equal(bad.status, 400);
    for (const since of ["-5", "yesterday"]) {
      const res = await t.admin("GET", `/admin/logs?since=${since}`);
      const { error } = await res.json();
      assert.deepEqual([res.status, error.code], [400, "invalid_time"]);
      // The answer says what a time may be, never "or a string" (a text is what was sent).
      assert.match(error.message, /^'since' must be .*ISO 8601/);
      assert.doesNotMatch(error.message, /or a string/);
    }
    const exp = await t.pool.fetch(
      new Request("http://pool/admin/logs", {
        headers: { authorization: `Bearer ${ADMIN}`, accept: "application/x-ndjson" },
      }),
    );
    assert.match(exp.headers.get("content-type") ?? "", /x-ndjson/);
    const text = await exp.text();
    const lines = text.trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.length >= 7, `${lines.length} lines`);
    for (const secret of [...SECRETS, t.token, ADMIN]) assert.ok(!text.includes(secret), "a secret is in the log");
    const noauth = await t.pool.fetch(new Request("http://pool/admin/logs"));
    assert.equal(noauth.status, 401);
  });

  it("shows a key's detail with its last failed attempts", async () => {
    const { records } = await logs(t, "?status=2xx");
    const failing = { id: records.find((r) => r.id === "two-attempts")!.attempts[0].key };
    const res = await t.admin("GET", `/admin/api-keys/${failing.id}`);
    assert.equal(res.status, 200);
    const d = await res.json();
    assert.equal(d.key.id, failing.id);
    assert.ok(d.last_errors.length >= 1 && d.last_errors[0].status === 500);
    assert.ok(!JSON.stringify(d).includes(SECRETS[0]));
    assert.equal((await t.admin("GET", "/admin/api-keys/..%2F..")).status, 404);
  });
});

describe("request log: answers that fail after their headers", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ keys: ["die-secret-cccc", "good-secret-dddd"], failover: { maxAttempts: 3 } });
  });
  after(() => t.close());

  it("a 200 whose body broke is logged as the key's failure, a stream that broke as stream_interrupted", async () => {
    const res = await t.call("/v1/chat/completions", { ...chat(), headers: { "x-request-id": "body-broke" } });
    assert.equal(res.status, 200);
    await res.text();
    await t.setKeys(["die-secret-cccc"]);
    const s = await t.call("/v1/chat/completions", {
      ...chat("llama3.2", { stream: true }),
      headers: { "x-request-id": "stream-broke" },
    });
    assert.match(await s.text(), /stream_interrupted/);
    await t.pool.flush();
    const { records } = await logs(t);
    const broke = records.find((r) => r.id === "body-broke")!;
    assert.deepEqual(broke.attempts.map((a) => [a.outcome, a.status]), [["cooldown", 200], ["ok", 200]]);
    const stream = records.find((r) => r.id === "stream-broke")!;
    assert.equal(stream.status, 200);
    assert.equal(stream.error, "stream_interrupted");
    assert.equal(stream.attempts[0].reason, "stream failed mid-way");
  });

  it("feeds the latency and error counters with the log off too", async () => {
    const off = await setupPool({ keys: ["good-secret-eeee"], logRetentionDays: 0 });
    try {
      await (await off.call("/v1/chat/completions", chat("missing-model"))).text();
      assert.equal((await off.admin("GET", "/admin/logs")).status, 404);
      const { analytics } = await import("../src/stats/analytics.ts");
      const a = await analytics(off.pool.state, "ollama");
      assert.deepEqual(a.errorsByReason, [{ reason: "upstream_404", count: 1 }]);
      assert.ok(a.hourly.at(-1)!.p50 !== undefined);
    } finally {
      await off.close();
    }
  });
});

for (const factory of ALL_BACKENDS) {
  const suite = `request log on ${factory.name.replace(/Backend$/, "")}, two instances`;
  describe(suite, skipUnless(suite, ...needsOf(factory)), () => {
    let backend: Backend;
    let mock: MockUpstream;
    before(async () => {
      backend = await factory();
      mock = await startMockUpstream({ quiet: true });
    });
    after(async () => {
      await mock.close();
      await backend.stop();
    });

    it("is one log: each instance's records once, seen from both", async () => {
      let now = Date.now();
      const make = () =>
        createPool({
          providers: [ollama({ baseURL: mock.url })],
          storage: backend.connect(),
          auth: { adminToken: ADMIN },
          logger: { info() {}, warn() {}, error() {} },
          now: () => now,
        });
      const [a, b] = [make(), make()];
      const admin = (p: typeof a, path: string, init: RequestInit = {}) =>
        p.fetch(
          new Request(`http://pool${path}`, {
            ...init,
            headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
          }),
        );
      await (await admin(a, "/admin/api-keys/import", {
        method: "POST",
        body: JSON.stringify({ keys: ["good-key-1"] }),
      })).text();
      const { token } = await (await admin(a, "/admin/tokens", { method: "POST", body: JSON.stringify({ name: "x" }) }))
        .json();
      await b.flush(); // b learns the key and the token
      for (const [p, name] of [[a, "a"], [b, "b"]] as const) {
        for (let i = 0; i < 3; i++) {
          const res = await p.fetch(
            new Request("http://pool/v1/chat/completions", {
              ...chat(),
              headers: {
                authorization: `Bearer ${token}`,
                "content-type": "application/json",
                "x-request-id": `${name}-${i}`,
              },
            }),
          );
          assert.equal(res.status, 200, await res.clone().text());
          await res.text();
        }
      }
      await Promise.all([a.flush(), b.flush()]);
      now += 6_000; // past the 5 s for which an instance reuses its list of the log's segments
      for (const [p, name] of [[a, "a"], [b, "b"]] as const) {
        const body = await (await admin(p, "/admin/logs?limit=100")).json();
        const ids = body.records.map((r: LogRecord) => r.id).sort();
        assert.deepEqual(ids, ["a-0", "a-1", "a-2", "b-0", "b-1", "b-2"], `as seen from ${name}`);
      }
      await Promise.all([a.close(), b.close()]);
    });
  });
}

describe("request log on filesystem storage", () => {
  it("survives a restart", async () => {
    const backend = await fsBackend();
    const mock = await startMockUpstream({ quiet: true });
    try {
      const make = () =>
        createPool({
          providers: [ollama({ baseURL: mock.url })],
          storage: backend.connect(),
          auth: { adminToken: ADMIN },
          logger: { info() {}, warn() {}, error() {} },
        });
      const first = make();
      const h = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
      await first.fetch(
        new Request("http://pool/admin/api-keys/import", {
          method: "POST",
          headers: h,
          body: JSON.stringify({ keys: ["good-key-1"] }),
        }),
      );
      const { token } = await (await first.fetch(
        new Request("http://pool/admin/tokens", { method: "POST", headers: h, body: JSON.stringify({ name: "x" }) }),
      )).json();
      const res = await first.fetch(
        new Request("http://pool/v1/chat/completions", {
          ...chat(),
          headers: { ...h, authorization: `Bearer ${token}`, "x-request-id": "before-restart" },
        }),
      );
      await res.text();
      await first.close();
      const second = make();
      const body = await (await second.fetch(new Request("http://pool/admin/logs", { headers: h }))).json();
      assert.deepEqual(body.records.map((r: LogRecord) => r.id), ["before-restart"]);
      await second.close();
    } finally {
      await mock.close();
      await backend.stop();
    }
  });
});
