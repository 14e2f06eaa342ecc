/**
 * Fault suite (issue 12), the probe surfaces: `POST /admin/verify-key` and
 * `POST /admin/keys/health-check` (without `?wait`, the case that ended the process when a probe
 * threw in the background) against every sampled status × framing × encoding cell (see
 * tests/helpers/upstream_matrix.ts), on both transports. Each probe gives a defined verdict,
 * the key never appears in an answer, and nothing escapes to the process.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { collectEscapes, TRANSPORTS } from "../helpers/upstream_faults.ts";
import { keyId } from "../../src/keys/secrets.ts";
import { setupPool, type TestPool } from "../helpers/setup.ts";
import { type Cell, cellKey, finalStatus, sampledCells } from "../helpers/upstream_matrix.ts";
import { within } from "../helpers/poll.ts";
import { skipUnless } from "../helpers/requires.ts";

/** Everything that would have ended the process, had these listeners not been here. */
const escaped = collectEscapes();
const transports = TRANSPORTS;
const cells = sampledCells();

/**
 * Healthy or not, as the pool must judge a cell: any final status below 400 proves the key
 * (a model list it cannot read does not make it unhealthy); 4xx/5xx and statuses outside
 * 200–599 do not. A 100 before the answer is refused by undici's parser (Node), so either.
 */
function verdicts(c: Pick<Cell, "status">): boolean[] {
  const { status, interim } = finalStatus(c);
  const healthy = status >= 200 && status < 400;
  return interim === 100 ? [healthy, false] : [healthy];
}

/** Statuses a health check does not hold against the key (the caller's fault, e.g. 400/404/422). */
function verdictIsClientError(c: Pick<Cell, "status">): boolean {
  const { status } = finalStatus(c);
  return status >= 400 && status < 500 && ![401, 402, 403, 408, 429].includes(status);
}

const matrix = (transport: string): string => `upstream matrix through the probes (${transport})`;
for (const [transport, makeFetch] of transports) {
  describe(matrix(transport), skipUnless(matrix(transport), "time"), () => {
    let t: TestPool;
    const tag = transport === "undiciFetch" ? "u" : "g";
    before(async () => {
      t = await setupPool({
        fetch: makeFetch(),
        mockOptions: { raw: true },
        healthCheck: { timeoutMs: 3_000, concurrency: 8 },
      });
    });
    after(() => t.close());

    it("verify-key: a verdict for every cell, the key masked, nothing escaped", async () => {
      for (let from = 0; from < cells.length; from += 8) {
        await Promise.all(
          cells.slice(from, from + 8).map(async (c, j) => {
            const key = cellKey(c, `v${tag}${from + j}`);
            const where = `${transport} verify ${JSON.stringify(c)}`;
            const res = await t.admin("POST", "/admin/verify-key", { apiKey: key });
            const text = await res.text();
            assert.equal(res.status, 200, `${where}: ${text}`);
            assert.ok(!text.includes(key), `${where}: the key is in the answer`);
            const body = JSON.parse(text);
            assert.ok(verdicts(c).includes(body.valid), `${where}: valid ${body.valid} (${body.error})`);
            if (!body.valid) assert.equal(typeof body.error, "string", where);
            assert.equal(t.mock.hits.get(key), 1, `${where}: probed once`);
          }),
        );
        assert.deepEqual(escaped, []);
      }
    });

    it("health check without ?wait over every cell: the job ends, each key judged, nothing escaped", async () => {
      const keys = cells.map((c, i) => cellKey(c, `h${tag}${i}`));
      await t.setKeys(keys);
      const started = await t.admin("POST", "/admin/keys/health-check", {});
      assert.equal(started.status, 202);
      const { jobId } = await started.json();
      let job = { running: true, total: 0, results: [] } as {
        running: boolean;
        total: number;
        results: Array<{ id: string; healthy: boolean; error: string | null }>;
      };
      await within(20_000, async () => {
        job = await (await t.admin("GET", `/admin/keys/health-check/${jobId}?pageSize=1000`)).json();
        return !job.running;
      }, "the health-check job finished");
      assert.equal(job.results.length, cells.length);
      const text = JSON.stringify(job);
      for (const key of keys) assert.ok(!text.includes(key), `${transport}: key ${key} in the job's results`);
      const list = await (await t.admin("GET", "/admin/api-keys?provider=ollama&pageSize=200")).json();
      const states = new Map<string, string>(
        list.api_keys.map((k: { id: string; status: string }) => [k.id, k.status]),
      );
      const byId = new Map(job.results.map((r) => [r.id, r]));
      for (const [i, c] of cells.entries()) {
        const where = `${transport} health ${JSON.stringify(c)}`;
        const id = keyId("ollama", keys[i]);
        const r = byId.get(id);
        assert.ok(r, `${where}: no result`);
        assert.ok(verdicts(c).includes(r.healthy), `${where}: healthy ${r.healthy} (${r.error})`);
        assert.equal(t.mock.hits.get(keys[i]), 1, `${where}: probed once`);
        // A healthy key is in rotation; one the probe found bad is not.
        assert.equal(
          states.get(id) === "active",
          r.healthy || verdictIsClientError(c),
          `${where}: state ${states.get(id)}`,
        );
      }
      assert.deepEqual(escaped, []);
    });
  });
}
