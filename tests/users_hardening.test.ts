/** Hardening from the security review: body limits, mailer errors, client addresses. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeClientIp } from "../adapters/node.ts";
import { usersPool } from "./helpers/users.ts";

describe("user system hardening", () => {
  it("anonymous auth routes read at most 16 KiB", async () => {
    const t = await usersPool();
    try {
      const res = await t.api("POST", "/api/auth/login", { email: "a@example.com", password: "x".repeat(20_000) });
      assert.equal(res.status, 413);
      assert.equal((await res.json()).error.type, "invalid_request_error");
    } finally {
      await t.close();
    }
  });

  it("a mailer failure is logged for the operator and answered without its details", async () => {
    const logged: string[] = [];
    const t = await usersPool({
      users: {
        mailer: {
          send: () =>
            Promise.reject(
              new Error(
                "Invalid login: 535 auth failed for bot@corp.example on smtp.internal.corp.example (10.20.0.5:587)",
              ),
            ),
        },
      },
      logger: { info() {}, warn() {}, error: (m: string) => void logged.push(m) },
    });
    try {
      const res = await t.api("POST", "/api/auth/send-code", { email: "a@example.com", purpose: "register" });
      assert.equal(res.status, 502);
      const err = (await res.json()).error;
      assert.equal(err.code, "mail_failed");
      assert.doesNotMatch(err.message, /smtp\.internal|10\.20|bot@corp/);
      assert.ok(logged.some((l) => l.includes("smtp.internal.corp.example")), "the operator still sees why");
    } finally {
      await t.close();
    }
  });

  it("believes cf-connecting-ip only on Workers requests, so a forged one cannot dodge or aim per-IP limits", async () => {
    const t = await usersPool();
    try {
      const ip = t.pool.state.options.clientIp;
      const forged = new Request("http://pool/", { headers: { "cf-connecting-ip": "198.51.100.7" } });
      assert.equal(ip(forged, undefined), undefined);
      const onWorkers = Object.assign(
        new Request("http://pool/", { headers: { "cf-connecting-ip": "198.51.100.7" } }),
        { cf: {} },
      );
      assert.equal(ip(onWorkers, undefined), "198.51.100.7");
    } finally {
      await t.close();
    }
  });

  it("nodeClientIp behind a proxy takes the entry that proxy added, not the client's", () => {
    const env = { incoming: { socket: { remoteAddress: "10.0.0.2" } } };
    const req = new Request("http://pool/", { headers: { "x-forwarded-for": "1.2.3.4, 203.0.113.50" } });
    assert.equal(nodeClientIp(true)(req, env), "203.0.113.50");
    assert.equal(nodeClientIp(false)(req, env), "10.0.0.2");
  });
});
