/**
 * The stand-alone server's start: --version, --help, a config file with a third provider and an
 * alias, `--keys FILE --provider ID`, and the start-up errors (one line naming the setting and
 * the address, exit code 1, no stack trace).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { VERSION } from "../mod.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { skipUnless } from "./helpers/requires.ts";
import { childEnv, CLI_FROM_SOURCE, serverArgs, spawnServer } from "./helpers/spawn.ts";

const ADMIN = "cli-start-admin-token";

/** Runs the CLI to its end: exit code and everything it printed. */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const child = spawn("node", [...CLI_FROM_SOURCE, ...args], {
    env: { ...childEnv(), ADMIN_TOKEN: ADMIN, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const take = (b: Uint8Array) => void (out += new TextDecoder().decode(b));
  child.stdout!.on("data", take);
  child.stderr!.on("data", take);
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    })
  );
}

/** One line, naming what it must name, and no stack trace. */
function assertOneLine(out: string, ...parts: RegExp[]): void {
  const lines = out.trim().split("\n");
  assert.equal(lines.length, 1, out);
  assert.doesNotMatch(out, /^\s+at /m, "no stack trace");
  for (const p of parts) assert.match(lines[0], p);
}

describe("CLI start", skipUnless("CLI start", "processes"), () => {
  let dir: string;
  let mock: MockUpstream;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pool-cli-start-"));
    mock = await startMockUpstream();
  });
  after(async () => {
    await mock.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("--version prints the version; --help lists the settings", async () => {
    const v = await run(["--version"]);
    assert.equal(v.code, 0);
    assert.equal(v.out.trim(), VERSION);
    const h = await run(["--help"]);
    assert.equal(h.code, 0);
    assert.match(h.out, /--config POOL_CONFIG/);
    assert.match(h.out, /--provider KEYS_PROVIDER/);
  });

  it("a port in use: one line naming PORT, the port and the address", { timeout: 30_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await run(["--host", "127.0.0.1", "--storage", "memory:"], { PORT: String(port) });
      assert.equal(r.code, 1);
      assertOneLine(r.out, new RegExp(`PORT ${port} on --host 127\\.0\\.0\\.1 is in use`));
    } finally {
      taken.close();
    }
  });

  it("a store that does not answer: one line naming STORAGE_URL and its address", { timeout: 30_000 }, async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await run(["--port", "0"], { STORAGE_URL: `redis://user:secret@127.0.0.1:${port}` });
    assert.equal(r.code, 1);
    assertOneLine(r.out, new RegExp(`STORAGE_URL redis://\\*\\*\\*@127\\.0\\.0\\.1:${port}: storage unreachable`));
    assert.doesNotMatch(r.out, /secret/, "credentials are not printed");
  });

  it("bad URLs and numbers: one line naming the setting", { timeout: 30_000 }, async () => {
    const bad = await run(["--port", "0", "--storage", "memory:"], { OLLAMA_BASE_URL: "ollama.com" });
    assert.equal(bad.code, 1);
    assertOneLine(bad.out, /^ollama-api-pool: OLLAMA_BASE_URL: must be an http\(s\) URL, got "ollama\.com"/);
    const port = await run(["--port", "http", "--storage", "memory:"]);
    assert.equal(port.code, 1);
    assertOneLine(port.out, /--port must be a port from 0 to 65535/);
    const config = join(dir, "bad.json");
    await writeFile(
      config,
      JSON.stringify({
        providers: [{ type: "ollama" }, {
          id: "g",
          type: "openai-compatible",
          baseURL: "api.groq.com",
          prefix: "/g/v1",
        }],
      }),
    );
    const file = await run(["--port", "0", "--storage", "memory:", "--config", config]);
    assert.equal(file.code, 1);
    assertOneLine(file.out, /bad\.json: providers\[1\]\.baseURL: must be an http\(s\) URL/);
    const missing = await run(["--port", "0", "--storage", "memory:"], { POOL_CONFIG: join(dir, "nope.json") });
    assertOneLine(missing.out, /POOL_CONFIG .*nope\.json: cannot read it \(ENOENT\)/);
  });

  it(
    "serves a third provider and an alias from --config, and imports --keys into --provider",
    { timeout: 30_000 },
    async () => {
      const config = join(dir, "pool.json");
      await writeFile(
        config,
        JSON.stringify({
          providers: [{ type: "ollama" }, {
            id: "groq",
            type: "openai-compatible",
            baseURL: `${mock.url}/v1`,
            prefix: "/groq/v1",
          }],
          models: { fast: [{ provider: "groq", model: "llama3.2" }] },
        }),
      );
      const keys = join(dir, "groq.txt");
      await writeFile(keys, "groq-cli-key-0001\n");
      const server = await spawnServer(
        "node",
        serverArgs("--storage", "memory:", "--config", config, "--keys", keys, "--provider", "groq"),
        { env: { ...childEnv(), ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: mock.url } },
      );
      try {
        assert.match(server.output(), /imported .*groq\.txt into groq: 1 lines, 1 added/);
        const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
        const health = await (await fetch(`${server.url}/health`)).json();
        assert.deepEqual(Object.keys(health.providers), ["ollama", "groq"]);
        assert.equal(health.providers.groq.keys.total, 1);
        const { token } = await (await fetch(`${server.url}/admin/tokens`, {
          method: "POST",
          headers: admin,
          body: JSON.stringify({ name: "cli" }),
        })).json();
        mock.reset();
        const res = await fetch(`${server.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "fast", messages: [{ role: "user", content: "hi" }] }),
        });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
        assert.deepEqual(mock.requests.filter((r) => r.method === "POST").map((r) => [r.key, r.body?.model]), [[
          "groq-cli-key-0001",
          "llama3.2",
        ]]);
      } finally {
        await server.stop();
      }
    },
  );
});
