/**
 * Hostile clients (issue 13), user enumeration: `POST /api/auth/send-code` answers the same for
 * registered, unknown and disabled addresses (mailing only where a code can be used), checks
 * the per-IP throttle before looking anything up, and a password login for an unknown address
 * spends the same PBKDF2 time as one for a known address.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createStorage, type Driver } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { CODES_PER_IP_HOUR } from "../../src/users/codes.ts";
import { type UsersPool, usersPool } from "../helpers/users.ts";

/** Memory storage that counts reads of the address index (`users:email:…`). */
function indexCountingStorage() {
  const inner = memoryDriver();
  let lookups = 0;
  const driver: Driver = {
    ...inner,
    getItem(key, opts) {
      if (key.startsWith("users:email")) lookups++;
      return inner.getItem(key, opts);
    },
  };
  return { storage: createStorage({ driver }), lookups: () => lookups };
}

describe("hostile clients: no user oracle", () => {
  const counted = indexCountingStorage();
  let t: UsersPool;
  before(async () => {
    t = await usersPool({ storage: counted.storage, clientIp: (req) => req.headers.get("x-test-ip") ?? undefined });
    await t.register("known@example.com");
    await t.register("known2@example.com");
    t.clock.t += 120_000;
  });
  after(() => t.close());

  const send = (email: string, purpose: string, ip = "192.0.2.50") =>
    t.api("POST", "/api/auth/send-code", { email, purpose }, undefined, { "x-test-ip": ip });

  it("answers send-code alike for known and unknown addresses, mailing only where the code can be used", async () => {
    const mails = t.mailer.messages.length;
    const answers: Array<[number, string]> = [];
    for (
      const [email, purpose] of [["known@example.com", "login"], ["unknown@example.com", "login"], [
        "known2@example.com",
        "register",
      ], ["fresh@example.com", "register"]]
    ) {
      const res = await send(email, purpose);
      answers.push([res.status, await res.text()]);
    }
    assert.equal(
      new Set(answers.map((a) => JSON.stringify(a))).size,
      1,
      `one answer for all: ${JSON.stringify(answers)}`,
    );
    assert.deepEqual(answers[0], [200, JSON.stringify({ success: true })]);
    assert.deepEqual(t.mailer.messages.slice(mails).map((m) => m.to).sort(), [
      "fresh@example.com",
      "known@example.com",
    ]);
    // A second request within a minute is refused alike too (the resend throttle holds for every address).
    const again = await Promise.all([send("known@example.com", "login"), send("unknown@example.com", "login")]);
    assert.deepEqual(again.map((r) => r.status), [429, 429]);
    // A register code cannot be guessed into telling "already registered" either.
    const reg = await t.api("POST", "/api/auth/register", {
      email: "known@example.com",
      code: "123456",
      password: "long enough pw",
    });
    assert.equal((await reg.json()).error.code, "invalid_code");
  });

  it("checks the per-IP throttle before any lookup", async () => {
    t.clock.t += 3_600_000; // a fresh hour for the per-IP count
    const ip = "198.51.100.77";
    for (let i = 0; i < CODES_PER_IP_HOUR; i++) {
      assert.equal((await send(`probe-${i}@example.com`, "login", ip)).status, 200);
    }
    const before = counted.lookups();
    for (let i = 0; i < 10; i++) {
      const res = await send(`probe-more-${i}@example.com`, "login", ip);
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get("retry-after")) > 0);
    }
    assert.equal(counted.lookups() - before, 0, "refused requests never read the address index");
    assert.equal(
      (await send("other-ip@example.com", "login", "198.51.100.78")).status,
      200,
      "other addresses unaffected",
    );
  });

  it("spends the same hashing time on a password login for an unknown address", async () => {
    const time = async (email: string) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        const res = await t.api("POST", "/api/auth/login", { email, password: "wrong password here" }, undefined, {
          "x-test-ip": `203.0.113.${i}`,
        });
        assert.equal(res.status, 401);
        assert.equal((await res.json()).error.code, "invalid_credentials");
        times.push(performance.now() - start);
      }
      return times.sort((a, b) => a - b)[2];
    };
    const known = await time("known@example.com");
    const unknown = await time("nobody-here@example.com");
    // PBKDF2 dominates both; without the dummy hash the unknown address answered ~50x faster.
    assert.ok(unknown > known * 0.5, `unknown ${unknown.toFixed(1)} ms vs known ${known.toFixed(1)} ms`);
  });
});
