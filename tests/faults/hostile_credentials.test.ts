/**
 * Hostile clients (issue 13), credential guessing: wrong admin tokens on `/admin/*` and
 * `/metrics` and wrong client tokens on the proxy routes are counted per client address through
 * the store (so two instances on one store share the count) and answered 429 with Retry-After
 * past the limit (admin tokens: right and wrong alike; client tokens: only wrong ones, a token
 * that verifies always passes); other addresses and successful requests are unaffected, and a successful check touches no storage. A short ADMIN_TOKEN is refused.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createStorage, type Driver } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { createPool, ollama } from "../../mod.ts";
import { ADMIN_GUESSES_PER_WINDOW, TOKEN_GUESSES_PER_WINDOW } from "../../src/limits/guesses.ts";
import type { Pool } from "../../src/pool.ts";

const ADMIN = "hostile-admin-token-0123";
const quiet = { info() {}, warn() {}, error() {} };

/** A memory driver that counts every call, to prove successful checks do no storage I/O. */
function countingDriver(): { driver: Driver; calls: () => number } {
  const inner = memoryDriver() as unknown as Record<string, unknown>;
  let n = 0;
  const driver: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inner)) {
    driver[k] = typeof v === "function"
      ? (...args: unknown[]) => (n++, (v as (...a: unknown[]) => unknown)(...args))
      : v;
  }
  return { driver: driver as unknown as Driver, calls: () => n };
}

describe("hostile clients: credential guessing", () => {
  const counting = countingDriver();
  const storage = createStorage({ driver: counting.driver });
  const make = (): Pool =>
    createPool({
      providers: [ollama({ baseURL: "http://127.0.0.1:9" })], // never reached: no keys
      storage,
      auth: { adminToken: ADMIN },
      clientIp: (req) => req.headers.get("x-test-ip") ?? undefined,
      syncIntervalMs: 3_600_000,
      flushIntervalMs: 3_600_000,
      logger: quiet,
    });
  let a: Pool;
  let b: Pool;
  let token: string;
  before(async () => {
    a = make();
    b = make();
    const res = await a.fetch(req("/admin/tokens", "10.0.0.1", ADMIN, { name: "guess" }));
    token = (await res.json()).token;
    await b.ready();
    await b.flush(); // b learns the token
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  function req(path: string, ip: string | undefined, bearer?: string, body?: unknown): Request {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (ip) headers["x-test-ip"] = ip;
    if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
    return new Request(
      `http://pool${path}`,
      body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) },
    );
  }
  const status = async (pool: Pool, r: Request) => {
    const res = await pool.fetch(r);
    await res.arrayBuffer();
    return res;
  };

  it("refuses an admin token shorter than 16 characters, naming the setting", () => {
    assert.throws(
      () => createPool({ providers: [ollama()], auth: { adminToken: "x" } }),
      /ADMIN_TOKEN.*at least 16 characters/,
    );
    assert.throws(() => createPool({ providers: [ollama()], auth: { adminToken: "fifteen-chars-x" } }), /ADMIN_TOKEN/);
    assert.ok(createPool({ providers: [ollama()], auth: { adminToken: "sixteen-chars-xx" }, logger: quiet }));
  });

  it("answers 429 with Retry-After past the limit of wrong admin tokens, across instances and /metrics", async () => {
    const ip = "192.0.2.10";
    // The wrong guesses are spread over two instances sharing one store.
    for (let i = 0; i < ADMIN_GUESSES_PER_WINDOW; i++) {
      const pool = i % 2 ? b : a;
      assert.equal(
        (await status(pool, req(i % 3 ? "/admin/stats" : "/metrics", ip, `wrong-guess-${i}`))).status,
        401,
        `guess ${i}`,
      );
    }
    const refused = await status(b, req("/admin/stats", ip, "wrong-guess-final"));
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    // Refused from now on, the right token included (a correct guess must look like a wrong one).
    assert.equal((await status(b, req("/admin/stats", ip, ADMIN))).status, 429);
    assert.equal((await status(b, req("/metrics", ip, ADMIN))).status, 429);
    // The other instance sees the shared count on its next wrong guess.
    assert.equal((await status(a, req("/admin/api-keys", ip, "another-wrong-one"))).status, 429);
    assert.equal((await status(a, req("/admin/stats", ip, ADMIN))).status, 429);
    // Other addresses are unaffected.
    assert.equal((await status(a, req("/admin/stats", "192.0.2.11", ADMIN))).status, 200);
    assert.equal((await status(b, req("/metrics", "192.0.2.11", ADMIN))).status, 200);
    assert.equal((await status(a, req("/admin/stats", "192.0.2.11", "wrong"))).status, 401);
    // No credential at all is not a guess.
    assert.equal((await status(a, req("/admin/stats", "192.0.2.12"))).status, 401);
  });

  it("answers 429 past the limit of wrong client tokens on the proxy routes, never to a token that verifies", async () => {
    const ip = "198.51.100.7";
    const chat = { model: "llama3.2", messages: [{ role: "user", content: "hi" }] };
    for (let i = 0; i < TOKEN_GUESSES_PER_WINDOW; i++) {
      const res = await status(i % 2 ? b : a, req("/v1/chat/completions", ip, `sk-guess-${i}`, chat));
      assert.equal(res.status, 401);
    }
    const refused = await status(a, req("/v1/chat/completions", ip, "sk-guess-last", chat));
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    // A token that verifies still passes from the locked address, on both instances (503: the
    // pool has no keys): clients sharing an address with a guesser (a NAT, a proxy without
    // TRUST_PROXY, a web page making the guesses) are not locked out. Wrong ones stay refused.
    assert.equal((await status(a, req("/v1/chat/completions", ip, token, chat))).status, 503);
    assert.equal((await status(b, req("/v1/chat/completions", ip, token, chat))).status, 503);
    assert.equal((await status(b, req("/v1/chat/completions", ip, "sk-guess-after", chat))).status, 429);
    assert.equal((await status(a, req("/v1/chat/completions", ip, "sk-guess-after", chat))).status, 429);
    // The right token from another address passes the check too.
    assert.equal((await status(a, req("/v1/chat/completions", "198.51.100.8", token, chat))).status, 503);
    // Admin guessing and token guessing are counted apart.
    assert.equal((await status(a, req("/admin/stats", ip, ADMIN))).status, 200);
  });

  it("does no storage I/O for a successful check", async () => {
    const chat = { model: "llama3.2", messages: [{ role: "user", content: "hi" }] };
    const before = counting.calls();
    for (let i = 0; i < 20; i++) {
      assert.equal((await status(a, req("/metrics", "203.0.113.5", ADMIN))).status, 200);
      assert.equal((await status(a, req("/v1/chat/completions", "203.0.113.5", token, chat))).status, 503);
      assert.equal((await status(a, req("/admin/api-keys", "203.0.113.5", ADMIN))).status, 200);
    }
    assert.equal(counting.calls() - before, 0, "storage calls during 60 successful requests");
  });
});
