/** Overhead visibility: the x-pool-overhead-ms header and the Prometheus /metrics endpoint. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ADMIN, chat, setupPool, type TestPool } from "./helpers/setup.ts";

describe("metrics", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({
      keys: ["good-metrics-0001", "bad-metrics-00001"],
      mockOptions: { chunks: 20, chunkDelayMs: 10 },
    });
  });
  after(() => t.close());

  it("every proxied answer says how long the pool itself took", async () => {
    for (const init of [chat(), chat("llama3.2", { stream: true }), chat("missing-model")]) {
      const res = await t.call("/v1/chat/completions", init);
      const ms = Number(res.headers.get("x-pool-overhead-ms"));
      assert.ok(Number.isFinite(ms) && ms >= 0 && ms < 1000, `overhead ${res.headers.get("x-pool-overhead-ms")}`);
      await res.text();
    }
  });

  it("/metrics needs the admin token and counts requests, latencies, keys and open streams", async () => {
    assert.equal((await t.pool.fetch(new Request("http://pool/metrics"))).status, 401);
    const open = await t.call("/v1/chat/completions", chat("llama3.2", { stream: true }));
    const reader = open.body!.getReader();
    await reader.read();
    const get = async () => {
      const res = await t.pool.fetch(
        new Request("http://pool/metrics", { headers: { authorization: `Bearer ${ADMIN}` } }),
      );
      assert.match(res.headers.get("content-type")!, /text\/plain/);
      return res.text();
    };
    const during = await get();
    assert.match(during, /^pool_open_streams 1$/m);
    await reader.cancel();
    const text = await get();
    assert.match(text, /^pool_open_streams 0$/m);
    assert.match(text, /^pool_requests_total\{provider="ollama",model="llama3.2",status="200"\} 3$/m);
    assert.match(text, /^pool_requests_total\{provider="ollama",model="missing-model",status="404"\} 1$/m);
    assert.match(text, /^pool_upstream_latency_seconds_count\{provider="ollama"\} \d+$/m);
    assert.match(text, /^pool_overhead_seconds_bucket\{le="\+Inf"\} 4$/m);
    assert.match(text, /^pool_keys\{provider="ollama",state="active"\} [12]$/m);
    const unauthorized = await t.call("/v1/chat/completions", { ...chat(), headers: { authorization: "Bearer nope" } });
    await unauthorized.text();
    assert.match(await get(), /^pool_requests_total\{provider="ollama",model="",status="401"\} 1$/m);
  });
});
