/**
 * The local Upstash REST stand-in (tests/helpers/upstash_rest.ts) checked against the real client,
 * `@upstash/redis`: if the envelope were wrong (base64, pipeline answers, errors), these calls
 * would fail or decode to something else. Also the adapter's own promises: exact counters in one
 * request per flush, and no stored value in an error message.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "@upstash/redis";
import { upstashStorage } from "../adapters/upstash.ts";
import { StatsRecorder } from "../src/stats/recorder.ts";
import type { CounterBatch } from "../src/store/counters.ts";
import { createStore } from "../src/store/store.ts";
import { type RedisServer, startRedis } from "./helpers/services.ts";
import { startUpstashRest, type UpstashRest } from "./helpers/upstash_rest.ts";
import { skipUnless } from "./helpers/requires.ts";

describe(
  "Upstash REST stand-in, checked with @upstash/redis",
  skipUnless("Upstash REST stand-in, checked with @upstash/redis", "redis-server"),
  () => {
    let redis: RedisServer;
    let rest: UpstashRest;
    let client: Redis;
    before(async () => {
      redis = await startRedis();
      rest = await startUpstashRest(redis.port);
      client = new Redis({ url: rest.url, token: rest.token, enableTelemetry: false, retry: false });
    });
    after(async () => {
      await rest?.close();
      await redis?.stop();
    });

    it("answers single commands in the base64 envelope the client decodes", async () => {
      assert.equal(await client.set("plain", "héllo ✓ wörld"), "OK");
      assert.equal(await client.get("plain"), "héllo ✓ wörld");
      await client.set("json", { a: 1, b: ["x"] }, { ex: 60 });
      assert.deepEqual(await client.get("json"), { a: 1, b: ["x"] });
      assert.ok((await client.ttl("json")) > 0);
      assert.deepEqual(await client.mget("plain", "missing"), ["héllo ✓ wörld", null]);
      assert.equal(await client.hincrby("h", "n", 5), 5);
      assert.deepEqual(await client.hgetall("h"), { n: 5 });
      assert.equal(await client.hgetall("nothing"), null);
      const [cursor, keys] = await client.scan(0, { match: "pl*", count: 100 });
      assert.equal(String(cursor), "0");
      assert.deepEqual(keys, ["plain"]);
      assert.equal(await client.eval("return ARGV[1]", [], ["from lua"]), "from lua");
    });

    it("is base64 on the wire only when asked", async () => {
      const raw = (encoding?: string) =>
        fetch(rest.url, {
          method: "POST",
          headers: { authorization: `Bearer ${rest.token}`, ...(encoding ? { "upstash-encoding": encoding } : {}) },
          body: JSON.stringify(["GET", "plain"]),
        }).then((r) => r.json());
      assert.deepEqual(await raw(), { result: "héllo ✓ wörld" });
      assert.deepEqual(await raw("base64"), { result: Buffer.from("héllo ✓ wörld").toString("base64") });
    });

    it("runs pipelines and transactions, one answer per command", async () => {
      const p = client.pipeline();
      p.set("p1", "a");
      p.incr("p2");
      p.get("p1");
      assert.deepEqual(await p.exec(), ["OK", 1, "a"]);
      const m = client.multi();
      m.incr("p2");
      m.hincrby("h", "n", 1);
      assert.deepEqual(await m.exec(), [2, 6]);
      const before = rest.requests.get("/pipeline") ?? 0;
      await client.pipeline().incr("p2").incr("p2").exec();
      assert.equal(rest.requests.get("/pipeline"), before + 1, "a pipeline is one request");
    });

    it("reports errors as the client expects them", async () => {
      await assert.rejects(client.hincrby("plain", "n", 1), /WRONGTYPE/);
      const p = client.pipeline();
      p.incr("p2");
      p.hincrby("plain", "n", 1);
      await assert.rejects(p.exec(), /Command 2 \[ hincrby \] failed: WRONGTYPE/i);
      const kept = await client.pipeline().incr("p2").hincrby("plain", "n", 1).exec({ keepErrors: true });
      assert.equal(kept[0].result, 6, "the pipeline ran on past the failed command");
      assert.match(String(kept[1].error), /WRONGTYPE/);
      const wrong = new Redis({ url: rest.url, token: "not-the-token", enableTelemetry: false, retry: false });
      await assert.rejects(wrong.get("plain"), /Unauthorized/);
    });

    it("upstashStorage counts exactly in one /pipeline request per flush, and keeps stored values out of errors", async () => {
      const storages = [0, 1, 2].map(() => upstashStorage({ url: rest.url, token: rest.token }));
      const recorders = storages.map((s) => new StatsRecorder(createStore(s).counters, () => 1_800_000_000_000));
      const before = rest.requests.get("/pipeline") ?? 0;
      await Promise.all(recorders.map(async (rec) => {
        for (let r = 0; r < 10; r++) {
          rec.request({
            provider: "p",
            model: "m",
            tokenId: "t",
            keyId: "k",
            outcome: "success",
            promptTokens: 1,
            completionTokens: 2,
          });
          rec.attempt("p", "k", "success");
          await rec.flush();
        }
      }));
      assert.equal(rest.requests.get("/pipeline"), before + 30, "one request per flush");
      const [g] = await recorders[0].read(["stats:global:p"]);
      assert.deepEqual([g.requests, g.success, g.completionTokens, g.lastUsed], [30, 30, 60, 1_800_000_000_000]);

      const denied = upstashStorage({ url: rest.url, token: "wrong-token-0000", retries: 0 });
      const err = await denied.setItem("keys:ollama:x", { secret: "sk-very-secret-value" }).then(
        () => undefined,
        (e: Error) => e,
      );
      assert.ok(err, "a refused write rejects");
      assert.match(err.message, /Unauthorized/);
      assert.doesNotMatch(err.message, /sk-very-secret-value|command was/);
      await Promise.all([...storages, denied].map((s) => s.dispose()));
    });

    it("splits a large flush into requests of 1,000 records; a refused request leaves only the unwritten records to retry", async () => {
      // Records 1,000-1,999 have long names, so that their request alone passes a 1 MB limit (as a
      // flush after a long outage can pass Upstash's request size limit).
      const name = (i: number) => `stats:token:${i >= 1000 && i < 2000 ? "x".repeat(1500) : ""}${i}`;
      const batch: CounterBatch = new Map(
        Array.from({ length: 2500 }, (_, i) => [name(i), { add: { requests: 1 }, max: {} }]),
      );
      const strict = await startUpstashRest(redis.port, { maxBodyBytes: 1024 * 1024 });
      const small = upstashStorage({ url: strict.url, token: strict.token, base: "split", retries: 0 });
      const roomy = upstashStorage({ url: rest.url, token: rest.token, base: "split" });
      try {
        await assert.rejects(createStore(small).counters.apply(batch), /max request size/);
        assert.equal(
          strict.requests.get("/pipeline"),
          2,
          "the first 1,000 records went in one request, the next was refused",
        );
        assert.deepEqual(
          [...batch.keys()],
          Array.from({ length: 1500 }, (_, i) => name(1000 + i)),
          "what is left to retry: exactly the unwritten records",
        );
        await createStore(roomy).counters.apply(batch); // the retry, where the size is allowed
        const all = await createStore(roomy).counters.read(Array.from({ length: 2500 }, (_, i) => name(i)));
        assert.deepEqual(new Set(all.map((c) => c.requests)), new Set([1]), "every record counted once");
      } finally {
        await Promise.all([small.dispose(), roomy.dispose()]);
        await strict.close();
      }
    });
  },
);
