/**
 * The export / import / migrate commands as a user runs them: child processes of the CLI, stdout
 * and stdin, `--out` written 0600, progress and the secrets warning on stderr (never on stdout),
 * `npm start -- export`, a migration from the filesystem to a real Redis, and a cut-off import
 * refused with exit code 1.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fsStorage } from "../adapters/node.ts";
import { createPool, ollama } from "../mod.ts";
import { type RedisServer, startRedis } from "./helpers/services.ts";
import { childEnv, CLI_FROM_SOURCE } from "./helpers/spawn.ts";
import { skipUnless } from "./helpers/requires.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const ADMIN = "transfer-cli-admin-token-0123";

/** Runs a command to its end; stdin from `input`. */
function run(
  cmd: string,
  args: string[],
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...childEnv(), STORAGE_URL: "", ADMIN_TOKEN: "" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}
const cli = (args: string[], input?: string) => run("node", [...CLI_FROM_SOURCE, ...args], input);

describe("export / import / migrate on the command line", {
  timeout: 120_000,
  ...skipUnless("export / import / migrate on the command line", "redis-server", "processes"),
}, () => {
  let dir: string;
  let redis: RedisServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pool-transfer-cli-"));
    redis = await startRedis();
    const pool = createPool({ providers: [ollama()], storage: fsStorage(join(dir, "a")), auth: { adminToken: ADMIN } });
    await pool.ready();
    await pool.state.keys.add(
      "ollama",
      Array.from({ length: 1500 }, (_, i) => ({ secret: `good-cli-${String(i).padStart(5, "0")}` })) as never,
    );
    await pool.close();
  });
  after(async () => {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("export --out writes the file 0600, with the warning and the counts on stderr", async () => {
    const out = join(dir, "pool.ndjson");
    await writeFile(out, "old", { mode: 0o644 }); // an existing, wider file is narrowed
    const r = await cli(["export", "--storage", `file:${join(dir, "a")}`, "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /holds API keys in usable form/);
    assert.match(r.stderr, /1500 records/);
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    const lines = (await readFile(out, "utf8")).trim().split("\n");
    assert.equal(lines.length, 1502);
    assert.deepEqual(JSON.parse(lines.at(-1)!), { end: true, items: 1500, counters: 0 });
  });

  it("export to stdout and import from stdin (also as npm start -- …), then migrate to Redis and back", async () => {
    const exported = await run("npm", ["start", "--silent", "--", "export", "--data-dir", join(dir, "a")]);
    assert.equal(exported.code, 0, exported.stderr);
    const imported = await cli(["import", "--storage", `file:${join(dir, "b")}`], exported.stdout);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stderr, /1500 records and 0 statistics records written/);
    const migrated = await cli(["migrate", "--from", `file:${join(dir, "b")}`, "--to", redis.url]);
    assert.equal(migrated.code, 0, migrated.stderr);
    const back = await cli(["migrate", "--from", redis.url, "--to", `file:${join(dir, "c")}`]);
    assert.equal(back.code, 0, back.stderr);
    const again = await cli(["export", "--storage", `file:${join(dir, "c")}`]);
    const body = (text: string) => text.trim().split("\n").slice(1).sort();
    assert.deepEqual(body(again.stdout), body(exported.stdout));
  });

  it("a cut-off export is refused with exit code 1 and a one-line reason", async () => {
    const full = await cli(["export", "--storage", `file:${join(dir, "a")}`]);
    const cut = full.stdout.split("\n").slice(0, 700).join("\n") + "\n";
    const r = await cli(["import", "--storage", `file:${join(dir, "d")}`], cut);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ollama-api-pool: the input ended before the export's end line/);
    const junk = await cli(["import", "--storage", "memory:"], "hello\n");
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /line 1: not JSON/);
  });
});
