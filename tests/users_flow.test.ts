/**
 * The user system end to end: a stranger registers by a mailed code (through a real SMTP server
 * and through a webhook forwarder), gets a client token that works on the proxy, logs in by
 * password or code without getting a new token, checks in daily, and can log out.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { smtpMailer } from "../adapters/smtp.ts";
import { webhookMailer } from "../mod.ts";
import { codeIn, startSmtpSink, startWebhookSink, type UsersPool, usersPool } from "./helpers/users.ts";

const DAY = 86_400_000;

/** Unfolds quoted-printable soft line breaks and `=XX` escapes of a raw mail. */
function unQP(raw: string): string {
  return raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

describe("users: registration through real mail transports", () => {
  it("SMTP (smtp-server sink): code mailed, register, the token answers on /v1/chat/completions", async () => {
    const smtp = await startSmtpSink();
    const t = await usersPool({
      users: {
        mailer: smtpMailer({
          host: "127.0.0.1",
          port: smtp.port,
          secure: false,
          user: "pool",
          pass: "smtp-pass",
          from: "Pool <pool@example.test>",
        }),
      },
    });
    try {
      assert.equal(
        (await t.api("POST", "/api/auth/send-code", { email: "Alice@Example.COM ", purpose: "register" })).status,
        200,
      );
      assert.equal(smtp.received.length, 1);
      const mail = smtp.received[0];
      assert.deepEqual(mail.to, ["alice@example.com"]);
      assert.equal(mail.from, "pool@example.test");
      assert.equal(mail.user, "pool", "authenticated with EMAIL_AUTH_USER / EMAIL_AUTH_PASS");
      const raw = unQP(mail.raw);
      assert.match(raw, /Subject: ollama-api-pool: your registration code/);
      assert.match(raw, /text\/plain/);
      assert.match(raw, /text\/html/);
      const code = codeIn(raw);
      const reg = await t.api("POST", "/api/auth/register", {
        email: "alice@example.com",
        code,
        password: "correct horse battery",
      });
      assert.equal(reg.status, 200);
      const body = await reg.json();
      assert.equal(typeof body.token, "string");
      assert.equal(body.user.email, "alice@example.com");
      assert.match(body.user.keyToken, /^sk-[A-Za-z0-9]{48}$/);
      assert.equal(body.user.keyExpiresAt, t.clock.t + 3 * DAY);
      const res = await t.chatWith(body.user.keyToken);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).object, "chat.completion");
    } finally {
      await t.close();
      await smtp.close();
    }
  });

  it("webhook (EMAIL_FORWARD_URL): a push-all-in-one style JSON body, login mail differs from registration mail", async () => {
    const hook = await startWebhookSink();
    const t = await usersPool({ users: { mailer: webhookMailer(hook.url), appName: "Pool <Test>" } });
    try {
      assert.equal(
        (await t.api("POST", "/api/auth/send-code", { email: "bob@example.com", purpose: "register" })).status,
        200,
      );
      const [first] = hook.bodies as Array<Record<string, string>>;
      assert.equal(first.to, "bob@example.com");
      assert.equal(first.type, "CustomEmail");
      assert.equal(first.title, first.subject);
      assert.match(first.subject, /registration/);
      assert.match(first.html, /Pool &#60;Test&#62;/, "HTML is escaped");
      assert.doesNotMatch(first.html, /<Test>/);
      assert.deepEqual(Object.keys(first.option as unknown as object).sort(), ["html", "subject", "text", "to"]);
      const reg = await t.api("POST", "/api/auth/register", {
        email: "bob@example.com",
        code: codeIn(first.text),
        password: "correct horse battery",
      });
      assert.equal(reg.status, 200);
      t.clock.t += 61_000;
      assert.equal(
        (await t.api("POST", "/api/auth/send-code", { email: "bob@example.com", purpose: "login" })).status,
        200,
      );
      const second = hook.bodies[1] as Record<string, string>;
      assert.match(second.subject, /sign-in/);
      assert.notEqual(second.text.split("\n")[0], first.text.split("\n")[0]);
      hook.status = 500;
      t.clock.t += 61_000;
      const failed = await t.api("POST", "/api/auth/send-code", { email: "bob@example.com", purpose: "login" });
      assert.equal(failed.status, 502);
      const err = (await failed.json()).error;
      assert.equal(err.code, "mail_failed");
      assert.doesNotMatch(err.message, /\/forward/, "the forwarder's path is not echoed");
      hook.status = 200;
      assert.equal(
        (await t.api("POST", "/api/auth/send-code", { email: "bob@example.com", purpose: "login" })).status,
        200,
        "a failed send does not hold the 60 s throttle",
      );
    } finally {
      await t.close();
      await hook.close();
    }
  });
});

describe("users: login, sessions, check-in", () => {
  let t: UsersPool;
  let session: string;
  let keyToken: string;
  before(async () => {
    t = await usersPool();
    ({ session, user: { keyToken } } = await t.register("carol@example.com", "carol password 1"));
  });
  after(() => t.close());

  it("logs in by password; the client token is the same one (login mints nothing)", async () => {
    const tokensBefore = (await (await t.admin("GET", "/admin/tokens")).json()).total;
    const res = await t.api("POST", "/api/auth/login", { email: "CAROL@example.com", password: "carol password 1" });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.user.keyToken, keyToken);
    assert.equal(body.expiresAt, Math.floor(t.clock.t / 1000) * 1000 + 7 * DAY);
    assert.equal((await (await t.admin("GET", "/admin/tokens")).json()).total, tokensBefore);
    const wrong = await t.api("POST", "/api/auth/login", { email: "carol@example.com", password: "carol password 2" });
    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).error.code, "invalid_credentials");
    const unknown = await t.api("POST", "/api/auth/login", {
      email: "nobody@example.com",
      password: "carol password 1",
    });
    assert.equal(unknown.status, 401);
  });

  it("logs in by a login code, once", async () => {
    const early = await t.api("POST", "/api/auth/send-code", { email: "carol@example.com", purpose: "login" });
    assert.equal(
      early.status,
      429,
      "the registration code was sent less than 60 s ago, and using it does not lift that",
    );
    t.clock.t += 60_000;
    assert.equal(
      (await t.api("POST", "/api/auth/send-code", { email: "carol@example.com", purpose: "login" })).status,
      200,
    );
    const code = t.mailer.code("carol@example.com");
    const res = await t.api("POST", "/api/auth/login", { email: "carol@example.com", code });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).user.keyToken, keyToken);
    const replay = await t.api("POST", "/api/auth/login", { email: "carol@example.com", code });
    assert.equal(replay.status, 401, "a used code does not work twice");
  });

  it("profile has the original's fields plus the check-in zone and next reset", async () => {
    const res = await t.api("GET", "/api/auth/profile", undefined, session);
    assert.equal(res.status, 200);
    const { user } = await res.json();
    for (
      const k of [
        "id",
        "email",
        "role",
        "keyToken",
        "keyProvider",
        "keyExpiresAt",
        "createdAt",
        "lastLoginAt",
        "lastSignInAt",
        "keyRequestCount",
      ]
    ) assert.ok(k in user, k);
    assert.equal(user.keyProvider, "ollama");
    assert.equal(user.role, "user");
    assert.deepEqual(user.checkIn, {
      timeZone: "UTC",
      today: "2025-01-15",
      signedToday: false,
      nextResetAt: Date.UTC(2025, 0, 16),
    });
    assert.equal("password" in user || "tokenSealed" in user, false);
    assert.equal((await t.chatWith(keyToken)).status, 200);
    await t.pool.flush();
    const again = (await (await t.api("GET", "/api/auth/profile", undefined, session)).json()).user;
    assert.equal(again.keyRequestCount, 1);
  });

  it("check-in extends by 24 h from max(now, expiry); twice in a day is 400; history is paged", async () => {
    const before = (await (await t.api("GET", "/api/auth/profile", undefined, session)).json()).user.keyExpiresAt;
    const res = await t.api("POST", "/api/auth/sign", undefined, session);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body, { success: true, keyExpiresAt: before + DAY });
    const twice = await t.api("POST", "/api/auth/sign", undefined, session);
    assert.equal(twice.status, 400);
    assert.equal((await twice.json()).error.code, "already_signed_in");
    // Let the token lapse: the next check-in counts from now, not from the old expiry.
    t.clock.t = before + 2 * DAY;
    assert.equal((await t.chatWith(keyToken)).status, 401, "expired");
    const revived = await (await t.api("POST", "/api/auth/sign", undefined, session)).json();
    assert.equal(revived.keyExpiresAt, t.clock.t + DAY);
    assert.equal((await t.chatWith(keyToken)).status, 200);
    const page = await (await t.api("GET", "/api/auth/signins?page=1&limit=1", undefined, session)).json();
    assert.equal(page.total, 2);
    assert.deepEqual([page.page, page.limit, page.pageCount, page.hasNext, page.hasPrev], [1, 1, 2, true, false]);
    assert.equal(page.items[0].signDay, new Date(t.clock.t).toISOString().slice(0, 10), "newest first");
    assert.deepEqual(Object.keys(page.items[0]).sort(), ["createdAt", "id", "signDay"]);
    const p2 = await (await t.api("GET", "/api/auth/signins?page=2&limit=1", undefined, session)).json();
    assert.deepEqual([p2.items[0].signDay, p2.hasNext, p2.hasPrev], ["2025-01-15", false, true]);
  });

  it("logout ends the session (and every other of the user)", async () => {
    const other =
      (await (await t.api("POST", "/api/auth/login", { email: "carol@example.com", password: "carol password 1" }))
        .json()).token;
    assert.equal((await t.api("POST", "/api/auth/logout", undefined, other)).status, 200);
    for (const s of [session, other]) {
      const res = await t.api("GET", "/api/auth/profile", undefined, s);
      assert.equal(res.status, 401);
      assert.equal((await res.json()).error.code, "invalid_session");
    }
    assert.equal((await t.chatWith(keyToken)).status, 200, "the client token is not a session: it keeps working");
  });
});
