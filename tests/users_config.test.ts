/**
 * Configuring the user system: off by default, option validation, the server's environment
 * (AUTH_SECRET required, mailer choice, Turnstile without a secret refused), and Turnstile itself
 * against a local verifier stub (pass, fail, missing token, verifier unreachable = refused).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { usersFromEnv } from "../adapters/users_env.ts";
import { createPool, ollama, type UsersOptions } from "../mod.ts";
import { freePort } from "./helpers/services.ts";
import { setupPool } from "./helpers/setup.ts";
import {
  SECRET,
  startSmtpSink,
  startTurnstileStub,
  startWebhookSink,
  type UsersPool,
  usersPool,
} from "./helpers/users.ts";
import { skipUnless } from "./helpers/requires.ts";

const quiet = { info() {}, warn() {}, error() {} };
const build = (users: Partial<UsersOptions>) => () =>
  createPool({ providers: [ollama()], logger: quiet, users: { secret: SECRET, ...users } as UsersOptions });

describe("users: configuration", () => {
  it("is off unless configured: config says so, the routes are 404", async () => {
    const t = await setupPool();
    try {
      const config = await t.pool.fetch(new Request("http://pool/api/auth/config"));
      assert.deepEqual(await config.json(), { enabled: false });
      const reg = await t.pool.fetch(new Request("http://pool/api/auth/register", { method: "POST", body: "{}" }));
      assert.equal(reg.status, 404);
      const admin = await t.admin("GET", "/admin/users");
      assert.equal(admin.status, 404);
      assert.equal((await admin.json()).error.code, "users_disabled");
    } finally {
      await t.close();
    }
  });

  it("validates options with messages naming the field", () => {
    assert.throws(build({ secret: "short" }), /users\.secret: at least 32/);
    assert.throws(build({ timeZone: "Mars/Olympus" }), /users\.timeZone/);
    assert.throws(build({ pbkdf2Iterations: 50_000 }), /users\.pbkdf2Iterations/);
    assert.throws(build({ tokenValidityDays: 5, maxValidityDays: 2 }), /users\.maxValidityDays/);
    assert.throws(build({ keyProvider: "groq" }), /users\.keyProvider/);
    assert.throws(build({ mailer: {} as never }), /users\.mailer/);
    assert.throws(build({ turnstile: { enabled: true } }), /users\.turnstile\.secretKey.*refusing/);
    assert.doesNotThrow(build({ turnstile: { enabled: false } }));
  });

  it("environment: ENABLE_USERS needs AUTH_SECRET; Turnstile needs its secret; the mailer follows EMAIL_*", async () => {
    const logs: string[] = [];
    const log = (m: string) => logs.push(m);
    assert.equal(usersFromEnv({ AUTH_SECRET: SECRET }, log), undefined, "off without ENABLE_USERS");
    assert.throws(() => usersFromEnv({ ENABLE_USERS: "true" }, log), /needs AUTH_SECRET/);
    assert.throws(
      () => usersFromEnv({ ENABLE_USERS: "true", AUTH_SECRET: "too-short" }, log),
      /AUTH_SECRET must have at least 32/,
    );
    assert.throws(
      () => usersFromEnv({ ENABLE_USERS: "true", AUTH_SECRET: SECRET, ENABLE_TURNSTILE: "true" }, log),
      /TURNSTILE_SECRET_KEY/,
    );
    assert.throws(
      () => usersFromEnv({ ENABLE_USERS: "maybe", AUTH_SECRET: SECRET }, log),
      /ENABLE_USERS must be true or false/,
    );
    assert.ok(
      usersFromEnv({ ENABLE_USERS: "yes", AUTH_SECRET: SECRET }, log),
      "booleans read alike everywhere: yes is on",
    );
    assert.throws(
      () => usersFromEnv({ ENABLE_USERS: "true", AUTH_SECRET: SECRET, USER_TOKEN_DAYS: "0" }, log),
      /USER_TOKEN_DAYS/,
    );
    const o = usersFromEnv({
      ENABLE_USERS: "true",
      AUTH_SECRET: SECRET,
      USER_TOKEN_DAYS: "5",
      USER_MAX_TOKEN_DAYS: "30",
      USER_TIME_ZONE: "Asia/Shanghai",
      ENABLE_TURNSTILE: "true",
      TURNSTILE_SECRET_KEY: "ts-secret",
      TURNSTILE_SITE_KEY: "site-1",
    }, log)!;
    assert.deepEqual(
      [o.tokenValidityDays, o.maxValidityDays, o.timeZone, o.turnstile?.secretKey, o.turnstile?.siteKey],
      [5, 30, "Asia/Shanghai", "ts-secret", "site-1"],
    );
    assert.match(logs.join("\n"), /printed here/, "console mailer announced");

    const hook = await startWebhookSink();
    const smtp = await startSmtpSink();
    try {
      const viaHook = usersFromEnv({
        ENABLE_USERS: "true",
        AUTH_SECRET: SECRET,
        EMAIL_FORWARD_URL: hook.url,
        EMAIL_HOST: "127.0.0.1",
      }, log)!;
      await viaHook.mailer!.send({ to: "a@example.com", subject: "s", text: "t", html: "h" });
      assert.equal(hook.bodies.length, 1, "EMAIL_FORWARD_URL wins");
      const viaSmtp = usersFromEnv({
        ENABLE_USERS: "true",
        AUTH_SECRET: SECRET,
        EMAIL_HOST: "127.0.0.1",
        EMAIL_PORT: String(smtp.port),
        EMAIL_SECURE: "false",
        EMAIL_AUTH_USER: "pool",
        EMAIL_AUTH_PASS: "smtp-pass",
        EMAIL_FROM: "bot@example.test",
      }, log)!;
      await viaSmtp.mailer!.send({ to: "b@example.com", subject: "s", text: "t", html: "h" });
      assert.deepEqual([smtp.received[0].to, smtp.received[0].from, smtp.received[0].user], [
        ["b@example.com"],
        "bot@example.test",
        "pool",
      ]);
    } finally {
      await hook.close();
      await smtp.close();
    }
  });

  const refuses = "the server refuses to start with ENABLE_USERS=true and no AUTH_SECRET";
  it(refuses, { timeout: 30_000, ...skipUnless(refuses, "processes") }, async () => {
    const port = await freePort();
    const child = spawn("node", [
      "--import",
      "tsx",
      "adapters/cli.ts",
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "--storage",
      "memory:",
    ], {
      env: { ...process.env, ADMIN_TOKEN: "users-config-admin-01", ENABLE_USERS: "true", AUTH_SECRET: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr!.on("data", (b: Uint8Array) => (err += new TextDecoder().decode(b)));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    assert.equal(code, 1);
    assert.match(err, /AUTH_SECRET/);
  });
});

describe("users: Turnstile", () => {
  let stub: Awaited<ReturnType<typeof startTurnstileStub>>;
  let t: UsersPool;
  before(async () => {
    stub = await startTurnstileStub();
    t = await usersPool({
      clientIp: (req) => req.headers.get("cf-connecting-ip") ?? undefined,
      users: { turnstile: { secretKey: "ts-secret", siteKey: "site-key-1", verifyUrl: stub.url } },
    });
  });
  after(async () => {
    await t.close();
    await stub.close();
  });
  const send = (email: string, turnstileToken?: string) =>
    t.api("POST", "/api/auth/send-code", { email, purpose: "register", turnstileToken }, undefined, {
      "cf-connecting-ip": "203.0.113.9",
    });

  it("the site key is public in /api/auth/config", async () => {
    const c = await (await t.api("GET", "/api/auth/config")).json();
    assert.deepEqual([c.enabled, c.turnstile, c.timeZone, c.passwordMinLength], [
      true,
      { enabled: true, siteKey: "site-key-1" },
      "UTC",
      8,
    ]);
    assert.ok(!JSON.stringify(c).includes("ts-secret"));
  });

  it("send-code: a missing or failing token is 403, a passing one goes through", async () => {
    const missing = await send("ts1@example.com");
    assert.equal(missing.status, 403);
    assert.equal((await missing.json()).error.code, "turnstile_required");
    const failed = await send("ts1@example.com", "fail");
    assert.equal(failed.status, 403);
    assert.equal((await failed.json()).error.code, "turnstile_failed");
    assert.equal(t.mailer.messages.length, 0);
    assert.equal((await send("ts1@example.com", "pass")).status, 200);
    const form = stub.forms.at(-1)!;
    assert.deepEqual([form.get("secret"), form.get("response"), form.get("remoteip")], [
      "ts-secret",
      "pass",
      "203.0.113.9",
    ]);
  });

  it("register verifies too", async () => {
    const code = t.mailer.code("ts1@example.com");
    const body = { email: "ts1@example.com", code, password: "long enough pw" };
    assert.equal((await t.api("POST", "/api/auth/register", { ...body, turnstileToken: "fail" })).status, 403);
    assert.equal((await t.api("POST", "/api/auth/register", { ...body, turnstileToken: "pass" })).status, 200);
  });

  it("fails closed when the verifier cannot be reached", async () => {
    const c = await usersPool({
      users: { turnstile: { secretKey: "ts-secret", verifyUrl: `http://127.0.0.1:${await freePort()}/siteverify` } },
    });
    try {
      const res = await c.api("POST", "/api/auth/send-code", {
        email: "ts2@example.com",
        purpose: "register",
        turnstileToken: "pass",
      });
      assert.equal(res.status, 503);
      assert.equal((await res.json()).error.code, "turnstile_unavailable");
      assert.equal(c.mailer.messages.length, 0);
    } finally {
      await c.close();
    }
  });

  it("off: no token needed, the verifier is not asked", async () => {
    const asked = stub.forms.length;
    const c = await usersPool({
      users: { turnstile: { enabled: false, secretKey: "ts-secret", verifyUrl: stub.url } },
    });
    try {
      assert.equal(
        (await c.api("POST", "/api/auth/send-code", { email: "ts3@example.com", purpose: "register" })).status,
        200,
      );
      assert.equal(stub.forms.length, asked);
      assert.deepEqual((await (await c.api("GET", "/api/auth/config")).json()).turnstile, {
        enabled: false,
        siteKey: null,
      });
    } finally {
      await c.close();
    }
  });
});
