/**
 * Fault suite (issue 12), the proxy surface: what an upstream sends — odd statuses, every body
 * framing, compressed or corrupt bodies, answers that echo the key — never ends the process,
 * always gives the client a defined answer, never shows the key, and is counted exactly once.
 * The sampling of the status × framing × encoding × body-kind product is explained in
 * tests/helpers/upstream_matrix.ts; both transports, and the file runs on Node, Deno and Bun.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { collectEscapes, TRANSPORTS } from "../helpers/upstream_faults.ts";
import { setupPool, type TestPool } from "../helpers/setup.ts";
import {
  bodyBreaks,
  type Cell,
  cellKey,
  finalStatus,
  pairsMissing,
  proxyStatuses,
  sampledCells,
} from "../helpers/upstream_matrix.ts";
import { skipUnless } from "../helpers/requires.ts";

/** Everything that would have ended the process, had these listeners not been here. */
const escaped = collectEscapes();
const transports = TRANSPORTS;
const cells = sampledCells();

/** The request a cell's body kind needs. */
function request(c: Cell): [string, RequestInit] {
  const messages = [{ role: "user", content: "hi" }];
  if (c.kind === "ndjson") {
    return ["/api/chat", { method: "POST", body: JSON.stringify({ model: "llama3.2", messages }) }];
  }
  return ["/v1/chat/completions", {
    method: "POST",
    body: JSON.stringify({ model: "llama3.2", messages, stream: c.kind === "sse" }),
  }];
}

/** Headers an upstream may set that must never reach the client. */
const WITHHELD = ["www-authenticate", "set-cookie", "x-echo-key", "access-control-allow-origin", "x-internal-debug"];

/** The body is what its status and type promise: an error object, a whole or in-band-ended stream, JSON, or nothing. */
function assertDefinedBody(where: string, res: Response, text: string): void {
  const type = res.headers.get("content-type") ?? "";
  if (res.status === 204 || res.status === 205 || res.status === 304) return assert.equal(text, "", where);
  if (res.status >= 400) {
    const body = JSON.parse(text);
    return assert.equal(typeof body.error?.message, "string", where);
  }
  if (type.includes("event-stream")) {
    return assert.ok(
      text.endsWith("data: [DONE]\n\n") || /"code":"stream_interrupted"\}\}\n\n$/.test(text),
      `${where}: ${text.slice(-200)}`,
    );
  }
  if (type.includes("ndjson")) {
    const last = JSON.parse(text.trimEnd().split("\n").at(-1)!);
    return assert.ok(last.done === true || typeof last.error === "string", `${where}: ${text.slice(-200)}`);
  }
  assert.ok(JSON.parse(text).model, where);
}

describe("upstream matrix: the sampling", () => {
  it("brings every pair of axis values together at least once", () => {
    assert.deepEqual(pairsMissing(cells), []);
    assert.equal(cells.length, 120);
  });
});

const matrix = (transport: string): string => `upstream matrix through the proxy (${transport})`;
for (const [transport, makeFetch] of transports) {
  describe(matrix(transport), skipUnless(matrix(transport), "time"), () => {
    let t: TestPool;
    const totals = async () => {
      const s = await (await t.admin("GET", "/admin/stats?provider=ollama")).json();
      return {
        total: s.total_requests as number,
        parts: (s.success_count + s.failure_count + s.client_error_count) as number,
      };
    };
    before(async () => {
      t = await setupPool({
        fetch: makeFetch(),
        mockOptions: { raw: true },
        streamIdleTimeoutMs: 2_000,
        failover: { firstByteTimeoutMs: 5_000 },
      });
    });
    after(() => t.close());

    it("every sampled cell: a defined answer, no key, counted once, process up", async () => {
      let expectedTotal = (await totals()).total;
      for (const [i, c] of cells.entries()) {
        const key = cellKey(c, `${transport === "undiciFetch" ? "u" : "g"}${i}`);
        const where = `${transport} ${JSON.stringify(c)}`;
        await t.setKeys([key]);
        const [path, init] = request(c);
        const started = Date.now();
        const res = await t.call(path, init);
        const text = await res.text();
        assert.ok((t.mock.hits.get(key) ?? 0) >= 1, `${where}: the upstream was asked`);
        assert.ok(proxyStatuses(c).includes(res.status), `${where}: got ${res.status} ${text.slice(0, 200)}`);
        assertDefinedBody(where, res, text);
        assert.ok(!text.includes(key), `${where}: the key is in the body`);
        res.headers.forEach((v, k) => assert.ok(!v.includes(key), `${where}: the key is in header ${k}`));
        for (const name of WITHHELD) assert.equal(res.headers.get(name), null, `${where}: ${name} passed`);
        if (res.status === finalStatus(c).status && res.status < 300 && res.status !== 204) {
          // The pool names the request itself; the upstream's id moves to x-upstream-request-id.
          assert.equal(res.headers.get("x-upstream-request-id"), "req-odd-1", `${where}: request id`);
          assert.equal(res.headers.get("x-ratelimit-remaining-requests"), "99", `${where}: rate-limit information`);
        }
        if (res.status === 200 && !bodyBreaks(c)) {
          assert.match(text, /you sent \[redacted\]/, `${where}: the echoed key redacted`);
        }
        assert.ok(Date.now() - started < 4_000, `${where}: took ${Date.now() - started} ms`);
        expectedTotal++;
        const now = await totals();
        assert.equal(now.total, expectedTotal, `${where}: counted once`);
        assert.equal(now.parts, now.total, `${where}: outcomes add up`);
        assert.deepEqual(escaped, [], `${where}: nothing escaped`);
      }
    });
  });
}
