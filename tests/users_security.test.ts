/**
 * The user system's defences: code attempts, expiry and replay, resend and login throttles,
 * password hashing, constant-time comparison, sessions (wrong, tampered, expired), and the
 * time-zone edge of the daily check-in.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { randomDigits, timingSafeEqualHex } from "../src/auth/crypto.ts";
import { hashPassword, verifyPassword } from "../src/auth/password.ts";
import { CODES_PER_DAY, MAX_CODE_ATTEMPTS } from "../src/users/codes.ts";
import { LOGIN_PER_EMAIL, LOGIN_PER_IP } from "../src/users/accounts.ts";
import { sign } from "hono/jwt";
import { setupPool } from "./helpers/setup.ts";
import { SECRET, TEST_ITERATIONS, type UsersPool, usersPool } from "./helpers/users.ts";

const MIN = 60_000;
const wrongCode = (code: string): string => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

describe("users: verification codes", () => {
  let t: UsersPool;
  before(async () => {
    t = await usersPool();
  });
  after(() => t.close());
  const send = (email: string, purpose = "register", headers?: Record<string, string>) =>
    t.api("POST", "/api/auth/send-code", { email, purpose }, undefined, headers);
  const register = (email: string, code: string) =>
    t.api("POST", "/api/auth/register", { email, code, password: "long enough pw" });

  it("codes are 6 uniformly drawn digits", () => {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 5000; i++) {
      const c = randomDigits(6);
      assert.match(c, /^\d{6}$/);
      counts[Number(c[0])]++;
    }
    for (const n of counts) assert.ok(n > 380 && n < 620, `leading digit counts ${counts}`);
  });

  it(`${MAX_CODE_ATTEMPTS} wrong codes void the code: the right one then fails`, async () => {
    assert.equal((await send("dave@example.com")).status, 200);
    const code = t.mailer.code("dave@example.com");
    for (let i = 0; i < MAX_CODE_ATTEMPTS; i++) {
      const res = await register("dave@example.com", wrongCode(code));
      assert.equal(res.status, 400);
      assert.equal((await res.json()).error.code, "invalid_code");
    }
    assert.equal((await register("dave@example.com", code)).status, 400, "void after 5 wrong attempts");
  });

  it("4 wrong codes in parallel and then the right one still works (the count is per attempt, not lost)", async () => {
    assert.equal((await send("erin@example.com")).status, 200);
    const code = t.mailer.code("erin@example.com");
    const results = await Promise.all([1, 2, 3, 4].map(() => register("erin@example.com", wrongCode(code))));
    assert.deepEqual(results.map((r) => r.status), [400, 400, 400, 400]);
    assert.equal((await register("erin@example.com", code)).status, 200);
  });

  it("parallel guesses cannot exceed the attempt limit", async () => {
    t.clock.t += MIN;
    assert.equal((await send("frank@example.com")).status, 200);
    const code = t.mailer.code("frank@example.com");
    const guesses = Array.from({ length: 12 }, (_, i) => (i === 11 ? code : wrongCode(code)));
    const results = await Promise.all(guesses.map((g) => register("frank@example.com", g)));
    assert.equal(results.at(-1)!.status, 400, "the right code came after 5 wrong ones: void");
  });

  it("a code expires after 10 minutes and is single-use", async () => {
    t.clock.t += MIN;
    assert.equal((await send("gina@example.com")).status, 200);
    const code = t.mailer.code("gina@example.com");
    t.clock.t += 10 * MIN;
    assert.equal((await register("gina@example.com", code)).status, 400, "expired");
    assert.equal((await send("gina@example.com")).status, 200);
    const fresh = t.mailer.code("gina@example.com");
    t.clock.t += 9 * MIN;
    assert.equal((await register("gina@example.com", fresh)).status, 200);
  });

  it("a register code does not log in, and send-code answers alike whatever the registration state", async () => {
    t.clock.t += MIN;
    const mails = t.mailer.messages.length;
    assert.equal((await send("gina@example.com", "register")).status, 200, "registered: no register code, same answer");
    assert.equal((await send("nobody@example.com", "login")).status, 200, "unknown: no login code, same answer");
    assert.equal(t.mailer.messages.length, mails, "neither was mailed");
    assert.equal((await send("not-an-email", "login")).status, 400);
    assert.equal((await send("gina@example.com", "signup")).status, 400);
    assert.equal((await send("hank@example.com", "register")).status, 200);
    const res = await t.api("POST", "/api/auth/login", {
      email: "hank@example.com",
      code: t.mailer.code("hank@example.com"),
    });
    assert.equal(res.status, 401);
  });

  it("resend throttle: one code per 60 s per address (429 + Retry-After), at most 10 a day", async () => {
    const email = "ivan@example.com";
    assert.equal((await send(email)).status, 200);
    t.clock.t += 30_000;
    const early = await send(email);
    assert.equal(early.status, 429);
    assert.equal(early.headers.get("retry-after"), "30");
    assert.equal((await early.json()).error.type, "rate_limit_error");
    // The rest of the day: the daily count is per UTC day.
    t.clock.t = Date.UTC(2025, 0, 20, 0, 0, 1);
    let sent = 0;
    for (let i = 0; i < CODES_PER_DAY + 2; i++) {
      t.clock.t += MIN;
      const res = await send(email);
      if (res.status === 200) sent++;
      else assert.equal(res.status, 429);
    }
    assert.equal(sent, CODES_PER_DAY);
    t.clock.t = Date.UTC(2025, 0, 21, 0, 0, 1);
    assert.equal((await send(email)).status, 200, "a new day");
  });
});

describe("users: login throttles and password storage", () => {
  let t: UsersPool;
  before(async () => {
    t = await usersPool({ clientIp: (req) => req.headers.get("cf-connecting-ip") ?? undefined });
    await t.register("judy@example.com", "judy password 1");
  });
  after(() => t.close());
  const login = (email: string, password: string, ip = "203.0.113.1") =>
    t.api("POST", "/api/auth/login", { email, password }, undefined, { "cf-connecting-ip": ip });

  it(`per address: after ${LOGIN_PER_EMAIL} attempts in 15 min even the right password gets 429`, async () => {
    for (let i = 0; i < LOGIN_PER_EMAIL; i++) {
      assert.equal((await login("judy@example.com", "wrong password", `198.51.100.${i}`)).status, 401);
    }
    const res = await login("judy@example.com", "judy password 1", "198.51.100.99");
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get("retry-after")) > 0);
    t.clock.t += 15 * MIN;
    assert.equal((await login("judy@example.com", "judy password 1")).status, 200);
  });

  it(`per IP: ${LOGIN_PER_IP} attempts over many addresses, then 429 from that IP only`, async () => {
    t.clock.t += 15 * MIN;
    for (let i = 0; i < LOGIN_PER_IP; i++) {
      assert.equal((await login(`spray${i}@example.com`, "whatever pw", "192.0.2.7")).status, 401);
    }
    assert.equal((await login("judy@example.com", "judy password 1", "192.0.2.7")).status, 429);
    assert.equal((await login("judy@example.com", "judy password 1", "192.0.2.8")).status, 200);
  });

  it("passwords are PBKDF2-SHA256 with a per-password salt and a stored iteration count", async () => {
    const a = await hashPassword("same password", TEST_ITERATIONS);
    const b = await hashPassword("same password", TEST_ITERATIONS);
    assert.match(a, /^pbkdf2-sha256\$100000\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    assert.notEqual(a, b, "different salts");
    assert.equal(await verifyPassword("same password", a), true);
    assert.equal(await verifyPassword("same passwore", a), false);
    assert.equal(
      await verifyPassword("same password", a.replace("$100000$", "$100001$")),
      false,
      "the count is part of the hash",
    );
    assert.equal(await verifyPassword("x", "sha256$abc"), false);
    const users = await t.pool.state.store.storage.getKeys("users:rec");
    const stored = await t.pool.state.store.storage.getItem<{ password: string }>(users[0]);
    assert.match(stored!.password, /^pbkdf2-sha256\$100000\$/);
    assert.doesNotMatch(JSON.stringify(stored), /judy password/);
  });

  it("a higher configured count re-hashes at the next password login", async () => {
    const raised = await setupPool({
      storage: t.pool.state.store.storage,
      users: { secret: SECRET, pbkdf2Iterations: 120_000 },
      now: () => t.clock.t,
    });
    try {
      t.clock.t += 15 * MIN;
      const res = await raised.pool.fetch(
        new Request("http://pool/api/auth/login", {
          method: "POST",
          body: JSON.stringify({ email: "judy@example.com", password: "judy password 1" }),
        }),
      );
      assert.equal(res.status, 200);
      const [name] = await t.pool.state.store.storage.getKeys("users:rec");
      assert.match(
        (await t.pool.state.store.storage.getItem<{ password: string }>(name))!.password,
        /^pbkdf2-sha256\$120000\$/,
      );
    } finally {
      await raised.close();
    }
  });

  it("secret comparison looks at every character whatever the first difference", () => {
    const a = "a".repeat(64);
    assert.equal(timingSafeEqualHex(a, a), true);
    assert.equal(timingSafeEqualHex(a, "b" + a.slice(1)), false);
    assert.equal(timingSafeEqualHex(a, a.slice(1)), false);
    assert.equal(timingSafeEqualHex(a, a + "0"), false);
    const original = String.prototype.charCodeAt;
    let calls = 0;
    String.prototype.charCodeAt = function (this: string, i: number) {
      calls++;
      return original.call(this, i);
    };
    try {
      timingSafeEqualHex(a, "b".repeat(64));
      const early = calls;
      calls = 0;
      timingSafeEqualHex(a, a.slice(0, 63) + "b");
      assert.equal(early, calls, "the same work for a first-character and a last-character difference");
      assert.equal(calls, 128);
    } finally {
      String.prototype.charCodeAt = original;
    }
  });
});

describe("users: sessions", () => {
  let t: UsersPool;
  let session: string;
  before(async () => {
    t = await usersPool({ users: { sessionTtlSeconds: 3600 } });
    ({ session } = await t.register("kim@example.com"));
  });
  after(() => t.close());
  const profile = (s?: string, raw?: string) =>
    t.api("GET", "/api/auth/profile", undefined, s, raw ? { authorization: raw } : {});

  it("missing, malformed, tampered, foreign-key and expired sessions are 401, OpenAI-shaped", async () => {
    assert.equal((await profile(session)).status, 200);
    const [h, p, s] = session.split(".");
    const claims = JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/")));
    const forged = await sign({ ...claims, exp: claims.exp + 86_400 }, "some other secret", "HS256");
    const none = `${btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=+$/, "")}.${p}.`;
    for (
      const bad of [
        undefined,
        "garbage",
        `${h}.${p}.${s.slice(0, -2)}xx`,
        `${h}.${btoa(JSON.stringify({ ...claims, sub: "u0" })).replace(/=+$/, "")}.${s}`,
        forged,
        none,
      ]
    ) {
      const res = await profile(bad);
      assert.equal(res.status, 401, String(bad));
      const body = await res.json();
      assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "type"]);
      assert.equal(body.error.code, "invalid_session");
      assert.equal(body.error.type, "authentication_error");
    }
    assert.equal((await profile(undefined, "Basic abc")).status, 401);
    t.clock.t += 3600_000;
    assert.equal((await profile(session)).status, 401, "expired (pool clock)");
  });

  it("a session route refuses a caller without one before it reads the request (401, not 400)", async () => {
    const doc = await (await t.pool.fetch(new Request("http://pool/openapi.json"))).json();
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown }>>)) {
      for (const [method, op] of Object.entries(item)) {
        if (!JSON.stringify(op.security ?? "").includes("userSession")) continue;
        // Every query parameter out of range and a body that is not JSON: only the session may decide.
        const res = await t.pool.fetch(
          new Request(`http://pool${path}?page=0&limit=0&pageSize=0`, {
            method: method.toUpperCase(),
            body: method === "get" ? undefined : "{",
          }),
        );
        const { error } = await res.json();
        assert.deepEqual([res.status, error.code], [401, "invalid_session"], `${method} ${path}`);
        checked++;
      }
    }
    assert.ok(checked >= 4, `only ${checked} session routes`);
  });

  it("a session is not a client token, nor a client token a session", async () => {
    const { session: s2, user } = await t.register("lee@example.com");
    assert.equal((await t.chatWith(s2)).status, 401);
    assert.equal((await profile(user.keyToken)).status, 401);
  });
});

describe("users: check-in days in a time zone", () => {
  let t: UsersPool;
  let session: string;
  before(async () => {
    // 23:59 in Shanghai (UTC+8) on 15 January.
    t = await usersPool({ start: Date.UTC(2025, 0, 15, 15, 59), users: { timeZone: "Asia/Shanghai" } });
    ({ session } = await t.register("mia@example.com"));
  });
  after(() => t.close());
  const sign = () => t.api("POST", "/api/auth/sign", undefined, session);

  it("23:59 and 00:01 local are two days; 00:02 is the second check-in of that day", async () => {
    const p = (await (await t.api("GET", "/api/auth/profile", undefined, session)).json()).user;
    assert.deepEqual(p.checkIn, {
      timeZone: "Asia/Shanghai",
      today: "2025-01-15",
      signedToday: false,
      nextResetAt: Date.UTC(2025, 0, 15, 16),
    });
    assert.equal((await sign()).status, 200);
    t.clock.t = Date.UTC(2025, 0, 15, 16, 1);
    assert.equal((await sign()).status, 200, "00:01 the next local day (still 15 January in UTC)");
    t.clock.t = Date.UTC(2025, 0, 15, 16, 2);
    assert.equal((await sign()).status, 400);
    const q = (await (await t.api("GET", "/api/auth/profile", undefined, session)).json()).user;
    assert.deepEqual([q.checkIn.today, q.checkIn.signedToday, q.checkIn.nextResetAt], [
      "2025-01-16",
      true,
      Date.UTC(2025, 0, 16, 16),
    ]);
    const days = (await (await t.api("GET", "/api/auth/signins", undefined, session)).json()).items.map((
      i: { signDay: string },
    ) => i.signDay);
    assert.deepEqual(days, ["2025-01-16", "2025-01-15"]);
  });

  it("the optional cap bounds how far check-ins push the expiry", async () => {
    const c = await usersPool({ users: { maxValidityDays: 4 } });
    try {
      const { session: s, user } = await c.register("ned@example.com");
      const start = c.clock.t;
      assert.equal(user.keyExpiresAt, start + 3 * 86_400_000);
      const first = await (await c.api("POST", "/api/auth/sign", undefined, s)).json();
      assert.equal(first.keyExpiresAt, start + 4 * 86_400_000);
      c.clock.t += 86_400_000;
      const second = await (await c.api("POST", "/api/auth/sign", undefined, s)).json();
      assert.equal(second.keyExpiresAt, c.clock.t + 4 * 86_400_000, "capped at now + 4 days");
    } finally {
      await c.close();
    }
  });
});
