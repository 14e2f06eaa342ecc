/**
 * The coding agents people point at a pool, run for real from npm (offline: they talk only to
 * the pool on 127.0.0.1): Claude Code (`claude -p`, Anthropic Messages, streamed) and Codex CLI
 * (`codex exec` with a custom provider, `wire_api = "responses"`). Each starts a process of a few
 * hundred MB, so this file runs only when asked: `POOL_AGENT_TESTS=1` (`npm run test:agents`).
 * Both keys in front are broken, so the agents also prove failover; usage must be counted.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type RunningServer, serve } from "../adapters/node.ts";
import { createPool, ollama, type Pool } from "../mod.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { skipUnless } from "./helpers/requires.ts";
import { adminRequest } from "./helpers/setup.ts";

const ADMIN = "agents-admin-token";
const BIN = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "node_modules", ".bin");

/** Runs a command with a clean HOME, stdin closed; resolves with its output (rejects on failure). */
function run(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      join(BIN, cmd),
      args,
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stdout}\n${stderr}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end(); // Claude Code waits for stdin otherwise
  });
}

const SUITE = "coding agents through the pool (Claude Code, Codex CLI)";
describe(SUITE, skipUnless(SUITE, "agents", "processes"), () => {
  let mock: MockUpstream;
  let pool: Pool;
  let server: RunningServer;
  let url: string;
  let token: string;
  let home: string;
  const paths: string[] = [];
  const admin = (method: string, path: string, body?: unknown) => pool.fetch(adminRequest(ADMIN, method, path, body));
  const tokens = async (): Promise<[number, number]> => {
    const s = await (await admin("GET", "/admin/stats")).json();
    return [s.prompt_tokens, s.completion_tokens];
  };

  before(async () => {
    mock = await startMockUpstream();
    pool = createPool({
      providers: [ollama({ baseURL: mock.url })],
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
    });
    token = (await (await admin("POST", "/admin/tokens", { name: "agents" })).json()).token;
    await admin("POST", "/admin/api-keys/import?provider=ollama", {
      keys: ["bad-key-agents01", "limited-key-agents1", "good-key-agents01"],
    });
    server = await serve({
      ...pool,
      fetch: (req, env, ctx) => (paths.push(`${req.method} ${new URL(req.url).pathname}`), pool.fetch(req, env, ctx)),
    }, {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    });
    url = `http://127.0.0.1:${server.port}`;
    home = await mkdtemp(join(tmpdir(), "pool-agents-"));
    await mkdir(join(home, ".codex")); // Codex refuses a CODEX_HOME that does not exist
  });
  after(async () => {
    await server?.close();
    await mock?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("Claude Code: claude -p streams /v1/messages through the pool", async () => {
    const [p0, c0] = await tokens();
    const out = await run("claude", ["-p", "say hi", "--model", "llama3.2"], {
      HOME: home,
      ANTHROPIC_BASE_URL: url,
      ANTHROPIC_AUTH_TOKEN: token,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
    });
    assert.match(out, /tok0 tok1 tok2/);
    assert.ok(paths.includes("POST /v1/messages"), paths.join(", "));
    const seen = mock.requests.find((r) => r.path === "/v1/messages" && r.key.startsWith("good-"))!;
    assert.ok(seen.headers["anthropic-version"], "anthropic-version forwarded");
    assert.equal(seen.body?.stream, true);
    const [p1, c1] = await tokens();
    assert.ok(p1 - p0 >= 10 && c1 - c0 >= 3, `usage counted: +${p1 - p0}/+${c1 - c0}`);
  });

  it("Codex CLI: codex exec with wire_api=responses streams /v1/responses through the pool", async () => {
    const [p0, c0] = await tokens();
    const provider = `model_providers.pool={name="pool",base_url="${url}/v1",env_key="POOL_KEY",wire_api="responses"}`;
    const out = await run("codex", [
      "exec",
      "--skip-git-repo-check",
      "-c",
      provider,
      "-c",
      "model_provider=pool",
      "-m",
      "llama3.2",
      "say hi",
    ], {
      HOME: home,
      CODEX_HOME: join(home, ".codex"),
      POOL_KEY: token,
    });
    assert.match(out, /tok0 tok1 tok2/);
    assert.ok(paths.includes("POST /v1/responses"), paths.join(", "));
    const [p1, c1] = await tokens();
    assert.ok(p1 - p0 >= 10 && c1 - c0 >= 3, `usage counted: +${p1 - p0}/+${c1 - c0}`);
  });
});
