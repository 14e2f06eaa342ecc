/**
 * A hostile upstream whose model list (`GET /v1/models`, within the 32 MiB answer bound) names
 * 100,000 distinct models. Every probe kept the whole list, and each health-check result kept
 * one "model family" per name: the latest 20 jobs are kept, so each scheduled or requested check
 * held ~850 MB more (24 keys × 600,000 names; 1.4 GB after three checks), on the way to an
 * out-of-memory end. A probe now keeps at most one name more than a key's list may hold (a longer
 * list means "serves any model", as before), so results and answers stay small.
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type RunningServer, serve } from "../../adapters/node.ts";
import { undiciFetch } from "../../adapters/node_fetch.ts";
import { createPool, ollama, type Pool } from "../../mod.ts";
import { MAX_MODELS_PER_KEY } from "../../src/keys/models.ts";

const ADMIN = "huge-model-list-admin-01";
const NAMES = 100_000;

/** Distinct names without digits: each one its own model family. */
const name = (i: number): string => {
  let s = "";
  do {
    s = String.fromCharCode(97 + (i % 26)) + s;
    i = Math.floor(i / 26);
  } while (i > 0);
  return `fam${s}`;
};

describe("an upstream listing 100,000 models", () => {
  let upstream: Server;
  let pool: Pool;
  let server: RunningServer;
  let base: string;
  const admin = async (method: string, path: string, body?: unknown) =>
    (await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    })).json();
  before(async () => {
    const list = JSON.stringify({ object: "list", data: Array.from({ length: NAMES }, (_, i) => ({ id: name(i) })) });
    upstream = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(list);
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    pool = createPool({
      providers: [ollama({ baseURL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` })],
      fetch: undiciFetch(),
      healthCheck: { discoverModels: false },
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
    });
    server = await serve(pool, { port: 0, hostname: "127.0.0.1", handleSignals: false });
    base = `http://127.0.0.1:${server.port}`;
    await admin("POST", "/admin/api-keys/import", { keys: ["huge-list-key-0001", "huge-list-key-0002"] });
  });
  after(async () => {
    await server.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  it("keeps each probe's names and families bounded; the keys count as serving any model", async () => {
    const bound = MAX_MODELS_PER_KEY + 1;
    const verified = await admin("POST", "/admin/verify-key", { apiKey: "huge-list-key-0003" });
    assert.equal(verified.valid, true);
    assert.ok(verified.models.length <= bound, `${verified.models.length} names in the answer`);
    assert.ok(verified.families.length <= bound, `${verified.families.length} families in the answer`);
    const job = await admin("POST", "/admin/keys/health-check?wait=true", {});
    assert.equal(job.results.length, 2);
    for (const r of job.results) assert.ok(r.families.length <= bound, `${r.families.length} families kept`);
    const keys = await admin("GET", "/admin/api-keys");
    assert.deepEqual(keys.api_keys.map((k: { models: unknown }) => k.models), [null, null]);
  });
});
