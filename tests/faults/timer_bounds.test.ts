/**
 * A careless operator sets a timeout "very long" (FIRST_BYTE_TIMEOUT_MS=3000000000, 35 days).
 * Timers on Node, Deno and Bun cannot wait more than 2^31-1 ms: a longer one fires after 1 ms, so
 * every attempt "timed out before the first byte", every key was rested, and every request
 * failed. Such a value is refused at start now, naming the setting.
 * @module
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { createPool, ollama } from "../../mod.ts";
import { childEnv } from "../helpers/spawn.ts";
import { skipUnless } from "../helpers/requires.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const ADMIN = "timer-bounds-admin-token-01";
const TOO_LONG = 3_000_000_000;

describe("timeouts longer than a timer can wait", () => {
  it("are refused by createPool, naming the option; the longest a timer can wait passes", () => {
    for (
      const [name, options] of [
        ["failover.firstByteTimeoutMs", { failover: { firstByteTimeoutMs: TOO_LONG } }],
        ["streamIdleTimeoutMs", { streamIdleTimeoutMs: TOO_LONG }],
        ["upstreamBodyTimeoutMs", { upstreamBodyTimeoutMs: TOO_LONG }],
        ["healthCheck.timeoutMs", { healthCheck: { timeoutMs: TOO_LONG } }],
      ] as const
    ) {
      assert.throws(
        () => createPool({ providers: [ollama()], auth: { adminToken: ADMIN }, ...options }),
        (err: Error) => err.message.includes(name) && err.message.includes("2147483647"),
        name,
      );
    }
    assert.ok(createPool({ providers: [ollama()], auth: { adminToken: ADMIN }, streamIdleTimeoutMs: 2 ** 31 - 1 }));
  });

  it(
    "stop the server at start with one line",
    skipUnless("timer bounds on the command line", "processes"),
    async () => {
      const child = spawn("node", ["--import", "tsx", "adapters/cli.ts", "--port", "0", "--storage", "memory:"], {
        cwd: ROOT,
        env: { ...childEnv(), ADMIN_TOKEN: ADMIN, FIRST_BYTE_TIMEOUT_MS: String(TOO_LONG) },
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
      assert.match(out, /firstByteTimeoutMs/);
    },
  );
});
