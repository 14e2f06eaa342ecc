/**
 * A careless operator puts a user and password into an upstream's base URL (an Ollama behind a
 * proxy with HTTP basic auth: `https://admin:pw@ollama.example`). Node's fetch refuses such a URL
 * with an error that quotes it, and that error became the attempt's reason: the password went to
 * the client in the 503's message, into the request log and into the key's reason. (Credentials in
 * the URL cannot work anyway: the key's `Authorization` header is the only one sent, or Deno's
 * fetch replaces it with the URL's.) Such URLs are refused at start now, the password not shown.
 * @module
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { createPool, ollama, openaiCompatible } from "../../mod.ts";
import { readConfig } from "../../src/settings/config_file.ts";
import { childEnv } from "../helpers/spawn.ts";
import { skipUnless } from "../helpers/requires.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const ADMIN = "credentials-url-admin-token-01";
const URL_WITH_PASSWORD = "http://admin:hunter2SECRET@127.0.0.1:9";

describe("credentials in an upstream URL", () => {
  it("are refused by createPool, without showing the password", () => {
    for (
      const provider of [
        () => ollama({ baseURL: URL_WITH_PASSWORD }),
        () => openaiCompatible({ id: "groq", baseURL: `${URL_WITH_PASSWORD}/v1`, prefix: "/groq/v1" }),
        () => ollama({ baseURL: "http://token@127.0.0.1:9" }),
      ]
    ) {
      assert.throws(
        () => createPool({ providers: [provider()], auth: { adminToken: ADMIN } }),
        (err: Error) => /user or password/.test(err.message) && !/hunter2SECRET|token@/.test(err.message),
      );
    }
  });

  it("are refused in the config file, naming the path", () => {
    assert.throws(
      () => readConfig({ providers: [{ type: "ollama", baseURL: URL_WITH_PASSWORD }] }),
      (err: Error) => err.message.startsWith("providers[0].baseURL") && !err.message.includes("hunter2SECRET"),
    );
  });

  it("stop the server at start with one line", skipUnless("credentials in OLLAMA_BASE_URL", "processes"), async () => {
    const child = spawn("node", ["--import", "tsx", "adapters/cli.ts", "--port", "0", "--storage", "memory:"], {
      cwd: ROOT,
      env: { ...childEnv(), ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: URL_WITH_PASSWORD },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (out += b));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const code = await new Promise((resolve) => child.once("close", resolve));
    clearTimeout(timer);
    assert.equal(code, 1, out);
    assert.equal(out.trim().split("\n").length, 1, out);
    assert.match(out, /OLLAMA_BASE_URL/);
    assert.doesNotMatch(out, /hunter2SECRET/);
  });
});
