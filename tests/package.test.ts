/**
 * The npm package as users get it: `npm pack` (prepack builds dist/ with tsc), installed from the
 * tarball into a fresh project outside this repository, then used the three ways users use it:
 * the `npx ollama-api-pool` CLI, imports from Node, Deno and Bun, and TypeScript's view of the
 * exports map.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { VERSION } from "../mod.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { chat, httpFetcher } from "./helpers/smoke.ts";
import { skipUnless } from "./helpers/requires.ts";
import { childEnv, spawnServer } from "./helpers/spawn.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
const ADMIN = "package-admin-token";

/**
 * Runs a command to completion and returns its stdout and stderr; rejects with them when it fails. Asynchronous: the mock
 * upstream lives in this process and must keep answering while the command runs.
 */
function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...childEnv(), ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (b: Uint8Array) => (out += new TextDecoder().decode(b)));
    child.stderr!.on("data", (b: Uint8Array) => (err += new TextDecoder().decode(b)));
    child.on("error", reject);
    child.on("close", (code, sig) => {
      if (code === 0) resolve({ out, err });
      else reject(new Error(`${cmd} ${args.join(" ")} failed (${code ?? sig}):\n${out}\n${err}`));
    });
  });
}

// Every public entry point; the probe imports them all by package name and serves one request.
const PROBE = `import process from "node:process";
import { createPool, ollama, VERSION } from "ollama-api-pool";
import { fsStorage, serve } from "ollama-api-pool/node";
import { redisStorage } from "ollama-api-pool/redis";
import { neonStorage } from "ollama-api-pool/neon";
import { upstashStorage } from "ollama-api-pool/upstash";
import { kvStorage } from "ollama-api-pool/cloudflare";
import { smtpMailer } from "ollama-api-pool/smtp";
for (const f of [fsStorage, serve, redisStorage, neonStorage, upstashStorage, kvStorage, smtpMailer]) if (typeof f !== "function") throw new Error("missing export");
const pool = createPool({ providers: [ollama({ baseURL: process.env.OLLAMA_BASE_URL })], auth: { adminToken: "probe-admin-token-16" }, logger: { info() {}, warn() {}, error() {} } });
const call = (path, token, body) => pool.fetch(new Request("http://probe" + path, { method: "POST", headers: { authorization: "Bearer " + token }, body: JSON.stringify(body) }));
await call("/admin/api-keys/import", "probe-admin-token-16", { keys: ["good-key-probe-0001"] });
const { token } = await (await call("/admin/tokens", "probe-admin-token-16", { name: "probe" })).json();
const res = await call("/v1/chat/completions", token, { model: "llama3.2", messages: [] });
console.log(JSON.stringify({ version: VERSION, status: res.status, content: (await res.json()).choices[0].message.content }));
await pool.close();
`;

// Compiled against the installed package's .d.ts files through its exports map.
const CONSUMER_TS = `import { createPool, ollama, type Pool } from "ollama-api-pool";
import { kvStorage } from "ollama-api-pool/cloudflare";
import { smtpMailer } from "ollama-api-pool/smtp";
export const mailer: { send(m: { to: string; subject: string; text: string; html: string }): Promise<void> } = smtpMailer({ host: "127.0.0.1", from: "a@b.c" });
export const pool: Pool = createPool({ providers: [ollama()], storage: kvStorage({}) });
// @ts-expect-error -- createPool needs providers: the types are real, not any
createPool({});
`;

describe("npm package (pack, install, use)", skipUnless("npm package (pack, install, use)", "processes"), () => {
  let mock: MockUpstream;
  let dir: string;
  let app: string;
  let version: string;
  before(async () => {
    mock = await startMockUpstream();
    dir = await mkdtemp(join(tmpdir(), "pool-pkg-"));
    app = join(dir, "app");
    await run("npm", ["pack", "--silent", "--pack-destination", dir], ROOT);
    const tarball = (await readdir(dir)).find((f) => f.endsWith(".tgz"));
    assert.ok(tarball, "npm pack wrote a tarball");
    version = /-(\d+\.\d+\.\d+[^/]*)\.tgz$/.exec(tarball)![1];
    await mkdir(app);
    await writeFile(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    // Deno: resolve bare imports from this project's node_modules, as `npm install` left it.
    await writeFile(join(app, "deno.json"), JSON.stringify({ nodeModulesDir: "manual" }));
    // The dependencies come from npm's cache (filled by this repository's own install); the
    // registry is asked only for what the cache lacks.
    await run(
      "npm",
      ["install", join(dir, tarball), "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
      app,
    );
  });
  after(async () => {
    await mock?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("ships dist/ and bin/, not the sources or tests", async () => {
    const pkg = join(app, "node_modules", "ollama-api-pool");
    const top = (await readdir(pkg)).sort();
    assert.deepEqual(top, ["LICENSE", "README.md", "bin", "dist", "package.json"]);
    assert.ok((await readdir(join(pkg, "dist", "adapters"))).includes("cli.d.ts"));
  });

  it("npx ollama-api-pool --keys FILE --port 0 serves through the mock upstream", { timeout: 60_000 }, async () => {
    const keys = join(dir, "ollama.txt");
    await writeFile(keys, "me@x.io----pw----s----good-key-pkg-000001\n");
    const server = await spawnServer("npx", [
      "ollama-api-pool",
      "--keys",
      keys,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--storage",
      "memory:",
    ], {
      cwd: app,
      env: { ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: mock.url },
    });
    try {
      assert.match(server.output(), /1 lines, 1 added/);
      const f = httpFetcher(server.url);
      const health = await (await f("/health")).json();
      assert.equal(health.version, version);
      const created = await f("/admin/tokens", {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}` },
        body: JSON.stringify({ name: "npx" }),
      });
      const { token } = await created.json();
      await chat(f, token, true);
    } finally {
      await server.stop(); // the server itself, found under npx's PID
    }
  });

  for (
    const [runtime, cmd, args] of [
      ["Node", "node", ["probe.mjs"]],
      ["Deno", join(BIN, "deno"), ["run", "-A", "probe.mjs"]],
      ["Bun", join(BIN, "bun"), ["probe.mjs"]],
    ] as const
  ) {
    it(
      `${runtime} imports every entry point by package name and serves a request in-process`,
      { timeout: 60_000 },
      async () => {
        await writeFile(join(app, "probe.mjs"), PROBE);
        const { out } = await run(cmd, [...args], app, { OLLAMA_BASE_URL: mock.url });
        assert.deepEqual(JSON.parse(out.trim().split("\n").pop()!), {
          version,
          status: 200,
          content: "tok0 tok1 tok2 ",
        });
      },
    );
  }

  it("TypeScript resolves the exports map to the shipped .d.ts files", { timeout: 60_000 }, async () => {
    await writeFile(join(app, "consumer.ts"), CONSUMER_TS);
    const tsconfig = {
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
        lib: ["es2022", "dom"],
      },
      files: ["consumer.ts"],
    };
    await writeFile(join(app, "tsconfig.json"), JSON.stringify(tsconfig));
    await run("node", [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], app);
  });
});

describe("JSR package (deno.json)", skipUnless("JSR package (deno.json)", "processes"), () => {
  it("has the version of package.json and of /health", async () => {
    const [pkg, deno] = await Promise.all(
      ["package.json", "deno.json"].map(async (f) => JSON.parse(await readFile(join(ROOT, f), "utf8"))),
    );
    assert.equal(deno.version, pkg.version);
    assert.equal(VERSION, pkg.version);
  });

  it("passes deno publish --dry-run (explicit public types, license, file list)", { timeout: 60_000 }, async () => {
    // --allow-dirty: the check is about the package, not about uncommitted work.
    const { out, err } = await run(join(BIN, "deno"), ["publish", "--dry-run", "--allow-dirty"], ROOT, {
      NO_COLOR: "1",
    });
    const root = pathToFileURL(ROOT).href;
    const files = [...(out + err).matchAll(/(file:\/\/\S+) \(/g)].map((m) => m[1].slice(root.length));
    assert.ok(files.includes("mod.ts") && files.includes("adapters/cloudflare.ts"), files.join(", "));
    assert.deepEqual(
      files.filter((f) => !/^(mod\.ts|deno\.json|README\.md|src\/.*|adapters\/.*)$/.test(f)),
      [],
      "only the library is published",
    );
  });
});
