/**
 * Ollama Cloud usage caps and 429 back-off: recognising cap bodies, reset-time arithmetic on an
 * injected clock (around 5-hour and week boundaries), and what KeyPool does with both.
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HALF_OPEN_MS, MAX_BACKOFF_MS } from "../src/keys/key_outcomes.ts";
import { KeyPool } from "../src/keys/key_pool.ts";
import type { KeyRecord } from "../src/keys/types.ts";
import { classifyOllama } from "../src/providers/ollama.ts";
import { CAP_CLOCK_MARGIN_MS, nextBoundary, usageCapOf, usageCapWindow } from "../src/providers/usage_caps.ts";

const at = (iso: string): number => Date.parse(iso);
const H = 3_600_000;
const RULES = { rateLimitCooldownMs: 60_000, errorCooldownMs: 5_000 };

describe("usage cap bodies", () => {
  it("recognises Ollama Cloud's wordings, plain or inside JSON", () => {
    const cases: Array<[string, string]> = [
      [
        "you (alice) have reached your weekly usage limit, upgrade for higher limits: https://ollama.com/upgrade (ref: 1f2e3d)",
        "weekly",
      ],
      [
        "you (bob) have reached your session usage limit, upgrade for higher limits: https://ollama.com/upgrade (ref: x)",
        "session",
      ],
      ["you've reached your hourly usage limit, please wait or upgrade to continue", "hourly"],
      ['{"error":"you (carol) have reached your weekly usage limit, upgrade for higher limits"}', "weekly"],
      ['{"error":{"message":"You have reached your Monthly Usage Limit.","type":"rate_limit"}}', "monthly"],
      ["weekly limit reached", "weekly"],
      ["you've hit the daily usage limit", "daily"],
    ];
    for (const [body, window] of cases) assert.equal(usageCapWindow(body), window, body);
  });

  it("leaves ordinary rate limits and other errors alone", () => {
    for (
      const body of [
        "Rate limit reached",
        '{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}',
        "too many requests",
        "",
        "weekly report",
        "upgrade for higher limits",
      ]
    ) {
      assert.equal(usageCapWindow(body), undefined, body);
    }
  });
});

describe("usage cap reset times", () => {
  it("sessions end on 5-hour boundaries of Unix time (epoch seconds divisible by 18,000)", () => {
    // 24 h is no multiple of 5 h: on 2026-11-27 sessions end at 04:00, 09:00, 14:00, 19:00, 24:00.
    assert.equal(nextBoundary("session", at("2026-11-27T17:49:00Z")), at("2026-11-27T19:00:00Z"));
    assert.equal(nextBoundary("session", at("2026-11-27T18:59:59.999Z")), at("2026-11-27T19:00:00Z"));
    assert.equal(nextBoundary("session", at("2026-11-27T19:00:00Z")), at("2026-11-28T00:00:00Z"));
    assert.equal(nextBoundary("session", at("2026-11-28T00:00:00Z")), at("2026-11-28T05:00:00Z"));
    for (const t of [0, 1, 17_999_999, 18_000_000, 1_764_265_000_000]) {
      const b = nextBoundary("session", t);
      assert.ok(b > t && b - t <= 18_000_000 && (b / 1000) % 18_000 === 0, String(t));
    }
  });

  it("weeks end on Monday 00:00 UTC", () => {
    assert.equal(nextBoundary("weekly", at("2026-11-27T17:49:00Z")), at("2026-11-30T00:00:00Z")); // a Friday
    assert.equal(nextBoundary("weekly", at("2026-11-29T23:59:59.999Z")), at("2026-11-30T00:00:00Z")); // Sunday night
    assert.equal(nextBoundary("weekly", at("2026-11-30T00:00:00Z")), at("2026-12-07T00:00:00Z")); // Monday 00:00
    assert.equal(nextBoundary("weekly", at("1970-01-01T00:00:00Z")), at("1970-01-05T00:00:00Z"));
    assert.equal(new Date(nextBoundary("weekly", at("2027-02-28T12:00:00Z"))).getUTCDay(), 1);
  });

  it("hours, days and months end at the top of the hour, midnight and the 1st", () => {
    assert.equal(nextBoundary("hourly", at("2026-11-27T17:49:00Z")), at("2026-11-27T18:00:00Z"));
    assert.equal(nextBoundary("daily", at("2026-11-27T17:49:00Z")), at("2026-11-28T00:00:00Z"));
    assert.equal(nextBoundary("monthly", at("2026-11-27T17:49:00Z")), at("2026-12-01T00:00:00Z"));
    assert.equal(nextBoundary("monthly", at("2026-12-31T23:00:00Z")), at("2027-01-01T00:00:00Z"));
  });

  it("the rest ends a minute after the reset, and names the reset for people", () => {
    const now = at("2026-11-27T17:49:00Z");
    const weekly = usageCapOf("you (a) have reached your weekly usage limit", now)!;
    assert.deepEqual(weekly, {
      window: "weekly",
      until: at("2026-11-30T00:00:00Z") + CAP_CLOCK_MARGIN_MS,
      reason: "weekly usage limit until Mon 00:00 UTC",
    });
    assert.equal(usageCapOf("reached your session usage limit", now)!.reason, "session usage limit until 19:00 UTC");
    assert.equal(usageCapOf("reached your hourly usage limit", now)!.reason, "hourly usage limit until 18:00 UTC");
    assert.equal(
      usageCapOf("reached your monthly usage limit", now)!.reason,
      "monthly usage limit until 1 Dec 00:00 UTC",
    );
  });

  it("a cap seen just after a boundary is the old window closing late: a short rest, not a whole window", () => {
    // The upstream's clock 30 s behind ours: its week has not ended yet when ours has.
    const now = at("2026-11-30T00:00:30Z");
    const cap = usageCapOf("reached your weekly usage limit", now)!;
    assert.equal(cap.until, at("2026-11-30T00:01:00Z"));
    // Tried again after that margin and still capped: the new week is full, rest until the next.
    const later = usageCapOf("reached your weekly usage limit", at("2026-11-30T00:01:00Z"))!;
    assert.equal(later.until, at("2026-12-07T00:01:00Z"));
    const session = usageCapOf("reached your session usage limit", at("2026-11-27T19:00:10Z"))!;
    assert.equal(session.until, at("2026-11-27T19:01:00Z"));
  });

  it("the Ollama classifier reads caps from 429 bodies only", () => {
    const now = at("2026-11-27T17:49:00Z");
    const res = (status: number) => new Response(null, { status });
    const outcome = classifyOllama(res(429), RULES, { now, body: "you have reached your weekly usage limit" });
    assert.equal(outcome?.kind, "cooldown");
    assert.ok(
      outcome?.kind === "cooldown" && outcome.cap === "weekly" && outcome.ms === at("2026-11-30T00:01:00Z") - now,
    );
    assert.equal(classifyOllama(res(429), RULES, { now, body: "Rate limit reached" }), undefined);
    assert.equal(classifyOllama(res(429), RULES, { now }), undefined);
    assert.equal(classifyOllama(res(500), RULES, { now, body: "weekly usage limit" }), undefined);
    assert.equal(classifyOllama(new Error("x"), RULES, { now }), undefined);
  });
});

function makePool(clock: { t: number }, ...ids: string[]) {
  const pool = new KeyPool("p", { failuresBeforeDisable: 3, disableMs: H }, () => clock.t, () => {});
  for (const id of ids) {
    pool.put({ id, provider: "p", secret: `s-${id}`, state: "active", failures: 0, createdAt: 0 } satisfies KeyRecord);
  }
  return pool;
}

describe("KeyPool with usage caps", () => {
  it("a capped key rests until the reset, then gets exactly one half-open try", () => {
    const clock = { t: at("2026-11-27T17:49:00Z") };
    const pool = makePool(clock, "a", "b");
    const cap = usageCapOf("reached your weekly usage limit", clock.t)!;
    pool.report("a", {
      kind: "cooldown",
      ms: cap.until - clock.t,
      reason: cap.reason,
      rateLimited: true,
      cap: "weekly",
    });
    assert.equal(pool.get("a")!.reason, "weekly usage limit until Mon 00:00 UTC");
    assert.equal(pool.get("a")!.cap, "weekly");
    // A request that was in flight with it meanwhile reports a short rest: the cap's stands.
    pool.report("a", { kind: "cooldown", ms: 5_000, reason: "upstream answered 500" });
    pool.report("a", { kind: "cooldown", ms: 60_000, reason: "upstream answered 429", rateLimited: true });
    assert.equal(pool.get("a")!.until, cap.until);
    clock.t = cap.until - 1;
    for (let i = 0; i < 5; i++) assert.equal(pool.pick()!.id, "b");
    clock.t = cap.until;
    const picks = Array.from({ length: 6 }, () => pool.pick()!.id);
    assert.equal(picks.filter((id) => id === "a").length, 1, "one half-open try");
    assert.equal(pool.get("a")!.state, "cooling");
    // The try succeeds: back in rotation, cap forgotten.
    pool.report("a", { kind: "ok" });
    assert.equal(pool.get("a")!.state, "active");
    assert.equal(pool.get("a")!.cap, undefined);
    assert.ok(Array.from({ length: 4 }, () => pool.pick()!.id).includes("a"));
  });

  it("a half-open try that answers the cap again rests until the next reset", () => {
    const clock = { t: at("2026-11-27T19:00:00Z") };
    const pool = makePool(clock, "a");
    let cap = usageCapOf("session usage limit", clock.t)!;
    pool.report("a", { kind: "cooldown", ms: cap.until - clock.t, reason: cap.reason, cap: "session" });
    clock.t = cap.until;
    assert.equal(pool.pick()!.id, "a");
    assert.equal(pool.pick(), undefined, "no second request while the try is out");
    cap = usageCapOf("session usage limit", clock.t)!;
    pool.report("a", { kind: "cooldown", ms: cap.until - clock.t, reason: cap.reason, cap: "session" });
    assert.equal(pool.get("a")!.until, at("2026-11-28T00:01:00Z"));
  });

  it("a half-open try that never reports (its client left) is repeated after a while", () => {
    const clock = { t: 0 };
    const pool = makePool(clock, "a");
    pool.report("a", { kind: "cooldown", ms: H, reason: "hourly usage limit until 01:00 UTC", cap: "hourly" });
    clock.t = H;
    assert.equal(pool.pick()!.id, "a");
    clock.t += HALF_OPEN_MS - 1;
    assert.equal(pool.pick(), undefined);
    clock.t += 1;
    assert.equal(pool.pick()!.id, "a");
  });
});

describe("KeyPool back-off after 429s without Retry-After", () => {
  const limited = {
    kind: "cooldown",
    ms: 60_000,
    reason: "upstream answered 429 (rate limited)",
    rateLimited: true,
  } as const;

  it("rests 60 s, 2 min, 4 min … at most an hour; a success resets it", () => {
    const clock = { t: 1_000_000 };
    const pool = makePool(clock, "a");
    const rests: number[] = [];
    for (let i = 0; i < 9; i++) {
      pool.report("a", limited);
      rests.push(pool.get("a")!.until! - clock.t);
      clock.t = pool.get("a")!.until!;
    }
    assert.deepEqual(rests, [
      60_000,
      120_000,
      240_000,
      480_000,
      960_000,
      1_920_000,
      MAX_BACKOFF_MS,
      MAX_BACKOFF_MS,
      MAX_BACKOFF_MS,
    ]);
    assert.equal(pool.get("a")!.rateLimitStreak, 9);
    pool.report("a", { kind: "ok" });
    assert.equal(pool.get("a")!.rateLimitStreak, undefined);
    pool.report("a", limited);
    assert.equal(pool.get("a")!.until! - clock.t, 60_000);
  });

  it("a 429 with Retry-After rests exactly that and leaves the streak; other rests leave it too", () => {
    const clock = { t: 1_000_000 };
    const pool = makePool(clock, "a");
    pool.report("a", limited);
    pool.report("a", { kind: "cooldown", ms: 2_000, reason: "429", rateLimited: true, retryAfterMs: 2_000 });
    assert.equal(pool.get("a")!.until! - clock.t, 2_000);
    pool.report("a", { kind: "cooldown", ms: 5_000, reason: "500" });
    clock.t += 10_000; // awake again (the 500's rest is over), but within the first step's minute:
    pool.report("a", limited); // a request sent in parallel with the first: the same step, resting again
    assert.equal(pool.get("a")!.until! - clock.t, 60_000);
    clock.t += 60_000;
    pool.report("a", limited);
    assert.equal(pool.get("a")!.until! - clock.t, 120_000);
  });

  it("the streak is part of the stored record (it survives a reload or another instance's sync)", () => {
    const clock = { t: 1_000_000 };
    const pool = makePool(clock, "a");
    pool.report("a", limited);
    clock.t = pool.get("a")!.until!;
    pool.report("a", limited);
    const stored = JSON.parse(JSON.stringify(pool.get("a")));
    const other = new KeyPool("p", { failuresBeforeDisable: 3, disableMs: H }, () => clock.t, () => {});
    other.put(stored);
    other.report("a", limited); // sent before the step's rest ended: the same step
    assert.equal(other.get("a")!.until! - clock.t, 120_000);
    clock.t = other.get("a")!.until!;
    other.report("a", limited);
    assert.equal(other.get("a")!.until! - clock.t, 240_000);
  });
});

describe("KeyPool back-off under concurrency", () => {
  it("429s of requests in flight together count as one step", () => {
    const clock = { t: 1_000_000 };
    const pool = makePool(clock, "a");
    const limited = { kind: "cooldown", ms: 60_000, reason: "429", rateLimited: true } as const;
    for (let i = 0; i < 5; i++) pool.report("a", limited);
    assert.equal(pool.get("a")!.rateLimitStreak, 1);
    assert.equal(pool.get("a")!.until! - clock.t, 60_000);
    clock.t += 60_000;
    for (let i = 0; i < 5; i++) pool.report("a", limited);
    assert.equal(pool.get("a")!.until! - clock.t, 120_000);
  });
});
