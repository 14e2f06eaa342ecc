/**
 * A careless operator's config file: a provider header whose value holds a line break (a value
 * pasted with its newline) or whose name is no header name. The server started, and then every
 * request was a 500 in OpenAI's shape, also on `/v1/messages`, with the header's value (often an
 * organisation id or a second credential) quoted into the log. Now the file is refused at start
 * with one line naming the header's path, never its value.
 * @module
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readConfig } from "../../src/settings/config_file.ts";
import { childEnv } from "../helpers/spawn.ts";
import { skipUnless } from "../helpers/requires.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("node", ["--import", "tsx", "adapters/cli.ts", ...args], {
      cwd: ROOT,
      env: { ...childEnv(), ADMIN_TOKEN: "config-headers-admin-token-01" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (out += b));
    child.once("error", reject);
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("close", (code) => (clearTimeout(timer), resolve({ code, out })));
  });
}

const withHeaders = (headers: Record<string, string>) => ({
  providers: [{ id: "groq", type: "openai-compatible", baseURL: "http://127.0.0.1:9/v1", prefix: "/groq/v1", headers }],
});

describe("provider headers in the config file", () => {
  it("refuses values with line breaks or control characters and names that are no header names", () => {
    for (
      const headers of <Array<Record<string, string>>> [
        { "x-org": "org-SECRET-1\nx-evil: 1" },
        { "x-org": "org-SECRET-1\r" },
        { "x-org": "org-SECRET-1\u0000" },
        { "x org": "fine" },
        { "": "fine" },
      ]
    ) {
      assert.throws(() => readConfig(withHeaders(headers)), (err: Error) => {
        assert.match(err.message, /^providers\[0\]\.headers/);
        assert.doesNotMatch(err.message, /SECRET/);
        return true;
      }, JSON.stringify(headers));
    }
    // Ordinary values pass, tabs and non-ASCII Latin-1 text included.
    assert.ok(readConfig(withHeaders({ "x-title": "My App\tv2 café", "HTTP-Referer": "https://a.example" })));
  });

  describe("on the command line", skipUnless("config headers on the command line", "processes"), () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "pool-config-headers-"));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it("stops start-up with one line that names the header, not its value", async () => {
      const file = join(dir, "pool.json");
      await writeFile(file, JSON.stringify(withHeaders({ "x-org": "org-SECRET-1\nx-evil: 1" })));
      const r = await run(["--port", "0", "--host", "127.0.0.1", "--storage", "memory:", "--config", file]);
      assert.equal(r.code, 1, r.out);
      assert.equal(r.out.trim().split("\n").length, 1, r.out);
      assert.match(r.out, /providers\[0\]\.headers/);
      assert.doesNotMatch(r.out, /SECRET/);
    });

    it("a file that is not JSON: one line without the file's text (the parser quotes it)", async () => {
      const file = join(dir, "broken.json");
      await writeFile(file, '{"providers": [{"type": "ollama", "headers": {"x-org": org-SECRET-1}}]}');
      const r = await run(["--port", "0", "--host", "127.0.0.1", "--storage", "memory:", "--config", file]);
      assert.equal(r.code, 1, r.out);
      assert.equal(r.out.trim().split("\n").length, 1, r.out);
      assert.match(r.out, /not valid JSON/);
      assert.doesNotMatch(r.out, /SECRET/);
    });
  });
});
