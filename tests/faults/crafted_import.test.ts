/**
 * A careless operator imports a crafted (or hand-edited) export with the CLI, then starts the
 * server on that store. A key record whose secret is no usable key (a line break in it, not a
 * string) made every request that picked it a 500 in OpenAI's shape, also on `/v1/messages`, and
 * wrote the secret into the server's log (the `Headers` error quotes the value). Such a record is
 * now set aside at load like any unreadable record: the log names it without its content, the
 * pool answers as a pool without that key, `/health` says "degraded".
 * @module
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { childEnv, type Spawned, spawnServer } from "../helpers/spawn.ts";
import { type MockUpstream, startMockUpstream } from "../helpers/mock_upstream.ts";
import { skipUnless } from "../helpers/requires.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const ADMIN = "crafted-import-admin-token-01";
const SECRET = "sk-crafted-SECRET-0123456789";

function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("node", ["--import", "tsx", "adapters/cli.ts", ...args], {
      cwd: ROOT,
      env: { ...childEnv(), STORAGE_URL: "", ADMIN_TOKEN: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (out += b));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, out }));
  });
}

const record = (id: string, secret: unknown) => ({
  item: `keys:ollama:${id}`,
  value: { id, provider: "ollama", secret, state: "active", failures: 0, createdAt: 1 },
});

describe("a crafted export imported with the CLI", {
  timeout: 120_000,
  ...skipUnless("a crafted export imported with the CLI", "processes"),
}, () => {
  let dir: string;
  let mock: MockUpstream;
  let server: Spawned;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pool-crafted-"));
    mock = await startMockUpstream();
    const lines = [
      { format: "ollama-api-pool-export", version: 1, exportedAt: new Date().toISOString(), source: "fs" },
      record("c0ffee0000000001", `${SECRET}\nx-injected: 1`),
      record("c0ffee0000000002", 12345678901),
      { end: true, items: 2, counters: 0 },
    ];
    await writeFile(join(dir, "export.ndjson"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const imported = await cli([
      "import",
      "--storage",
      `file:${join(dir, "data")}`,
      "--in",
      join(dir, "export.ndjson"),
    ]);
    assert.equal(imported.code, 0, imported.out);
    server = await spawnServer("node", [
      "--import",
      "tsx",
      "adapters/cli.ts",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--storage",
      `file:${join(dir, "data")}`,
    ], { cwd: ROOT, env: { ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: mock.url, DISCOVER_MODELS: "false" } });
  });
  after(async () => {
    await server?.stop();
    await mock?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("sets the records aside: no 500, no secret in the log, answers in the route's own shape", async () => {
    const { token } = await (await fetch(`${server.url}/admin/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "crafted" }),
    })).json();
    const body = JSON.stringify({ model: "llama3.2", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });
    for (const path of ["/v1/messages", "/v1/chat/completions"]) {
      const res = await fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "x-api-key": token, "content-type": "application/json" },
        body,
      });
      const text = await res.text();
      assert.notEqual(res.status, 500, `${path}: ${text}`);
      assert.equal(res.status, 503, `${path}: ${text}`); // a pool without usable keys
      const json = JSON.parse(text);
      if (path === "/v1/messages") assert.equal(json.type, "error", text);
      else assert.equal(json.error.code, "no_keys", text);
    }
    assert.equal(mock.requests.length, 0, "no request went upstream with a crafted secret");
    const health = await (await fetch(`${server.url}/health`)).json();
    assert.equal(health.storage.quarantined, 2, JSON.stringify(health.storage));
    const keys = await (await fetch(`${server.url}/admin/api-keys`, { headers: { authorization: `Bearer ${ADMIN}` } }))
      .json();
    assert.equal(keys.total, 0);
    assert.doesNotMatch(server.output(), /crafted-SECRET/);
    assert.match(server.output(), /keys:ollama:c0ffee0000000001/); // named, so the operator can look
  });
});
