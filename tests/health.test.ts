/** Health checks, key verification and validated import, against the mock upstream. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { within } from "./helpers/poll.ts";
import { setupPool, type TestPool } from "./helpers/setup.ts";

const list = async (t: TestPool) => {
  const body = await (await t.admin("GET", "/admin/api-keys?pageSize=200")).json();
  return new Map<string, { id: string; status: string; reason: string | null }>(
    body.api_keys.map((k: { username: string }) => [k.username, k]),
  );
};

describe("health checks", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ healthCheck: { concurrency: 3, timeoutMs: 300 }, mockOptions: { slowMs: 1000 } });
    const keys = ["good-health-0001", "bad-health-00001", "limited-health-01", "slow-health-0001", "good-health-0002"];
    await t.admin("POST", "/admin/api-keys/import", { keys: keys.map((k) => ({ key: k, username: k })) });
  });
  after(() => t.close());

  it("probes every key, applies what it finds, and answers with results when asked to wait", async () => {
    const res = await t.admin("POST", "/admin/keys/health-check?wait=true", {});
    assert.equal(res.status, 200);
    const job = await res.json();
    assert.deepEqual([job.total, job.done, job.healthy, job.unhealthy, job.running], [5, 5, 2, 3, false]);
    type Check = { key: string; healthy: boolean; families: string[]; status: number };
    const byKey = new Map<string, Check>(job.results.map((r: Check) => [r.key, r]));
    assert.equal(byKey.get("good…0001")!.healthy, true);
    assert.deepEqual(byKey.get("good…0001")!.families, ["gpt-oss", "llama", "qwen"]);
    assert.equal(byKey.get("bad-…0001")!.status, 401);
    const keys = await list(t);
    assert.equal(keys.get("bad-health-00001")!.status, "disabled");
    assert.match(keys.get("bad-health-00001")!.reason!, /health check/);
    assert.equal(keys.get("limited-health-01")!.status, "cooling");
    assert.equal(keys.get("slow-health-0001")!.status, "cooling");
    assert.ok(!JSON.stringify(job).includes("good-health-0001"), "keys are masked");
  });

  it("re-enables a disabled key that passes, as a job with a progress endpoint", async () => {
    const id = (await list(t)).get("good-health-0002")!.id;
    await t.admin("POST", "/admin/keys/disable", { id, duration: 0 });
    const started = await t.admin("POST", "/admin/keys/health-check", { status: "disabled" });
    assert.equal(started.status, 202);
    const { jobId, progress, total } = await started.json();
    assert.equal(total, 2); // the bad key and the one just disabled
    let job = { running: true } as { running: boolean; jobId?: string; healthy?: number };
    await within(
      2000,
      async () => !(job = await (await t.admin("GET", progress)).json()).running,
      "the health-check job finished",
      20,
    );
    assert.equal(job.jobId, jobId);
    assert.equal(job.healthy, 1);
    assert.equal((await list(t)).get("good-health-0002")!.status, "active");
    assert.equal((await t.admin("GET", "/admin/keys/health-check/nope")).status, 404);
  });

  it("streams NDJSON progress lines when the client accepts them", async () => {
    const res = await t.pool.fetch(
      new Request("http://pool/admin/keys/health-check", {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token-0123", accept: "application/x-ndjson" },
        body: "{}",
      }),
    );
    assert.match(res.headers.get("content-type")!, /ndjson/);
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.at(-1).type, "done");
    assert.equal(lines.at(-1).done, 5);
    assert.ok(lines.every((l) => l.type === "progress" || l.type === "done"));
  });

  it("probes a key named many times in 'ids' once", async () => {
    const id = (await list(t)).get("good-health-0001")!.id;
    const before = t.mock.requests.length;
    const res = await t.admin("POST", "/admin/keys/health-check?wait=true", { ids: Array(50).fill(id) });
    const job = await res.json();
    assert.deepEqual([res.status, job.total, job.results.length], [200, 1, 1]);
    assert.equal(t.mock.requests.slice(before).filter((r) => r.key === "good-health-0001").length, 1);
  });

  it("validates input", async () => {
    assert.equal((await t.admin("POST", "/admin/keys/health-check", { ids: "x" })).status, 400);
    assert.equal((await t.admin("POST", "/admin/keys/health-check", { status: "weird" })).status, 400);
  });
});

describe("verify-key and import-with-validation", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ healthCheck: { concurrency: 4, timeoutMs: 500 } });
  });
  after(() => t.close());

  it("verifies one key without adding it", async () => {
    const ok =
      await (await t.admin("POST", "/admin/verify-key", { apiKey: "good-verify-models~kimi-k2:1t+qwen3-coder:480b" }))
        .json();
    assert.equal(ok.valid, true);
    assert.deepEqual(ok.families, ["kimi", "qwen"]);
    assert.equal(ok.apiKey, "good…480b");
    const bad = await (await t.admin("POST", "/admin/verify-key", { apiKey: "bad-verify-0000001" })).json();
    assert.deepEqual([bad.valid, bad.status], [false, 401]);
    assert.equal((await (await t.admin("GET", "/admin/api-keys")).json()).total, 0);
    assert.equal((await t.admin("POST", "/admin/verify-key", {})).status, 400);
  });

  it("adds only valid keys and categorizes each by its own model list", async () => {
    const content = [
      "a@x.io----p----s----good-val-models~llama3.2+llama3.1:70b",
      "b@x.io----p----s----good-val-models~deepseek-v3.1:671b+kimi-k2:1t",
      "c@x.io----p----s----bad-val-00000001",
      "broken----line",
      "d@x.io----p----s----good-val-models~llama3.2+llama3.1:70b",
    ].join("\n");
    const res = await t.admin("POST", "/admin/api-keys/import-with-validation", { content });
    assert.equal(res.status, 200);
    const r = await res.json();
    assert.deepEqual([r.total, r.added, r.existing], [5, 2, 1]);
    assert.deepEqual(r.valid.map((v: { families: string[] }) => v.families), [["llama"], ["deepseek", "kimi"]]);
    assert.deepEqual(r.categories, { llama: 1, deepseek: 1, kimi: 1 });
    assert.deepEqual(r.invalid.map((i: { line: number }) => i.line), [3, 4]);
    assert.match(r.invalid[0].reason, /401/);
    assert.equal((await (await t.admin("GET", "/admin/api-keys")).json()).total, 2);
  });
});
