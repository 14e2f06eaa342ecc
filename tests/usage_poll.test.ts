/** Ollama usage polling (best effort) against the mock upstream over real HTTP. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readOllamaUsage, windowReset } from "../src/keys/usage_poll.ts";
import { chat, setupPool } from "./helpers/setup.ts";

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("usage polling", () => {
  it("reads only the shape it knows; anything else is unknown", () => {
    assert.deepEqual(
      readOllamaUsage({ limits: { session: { usage: 0.046, resets_at: "x" }, weekly: { usage: 0.05 } } }),
      { session: 0.046, weekly: 0.05 },
    );
    assert.deepEqual(readOllamaUsage({ limits: { weekly: { usage: 1 } } }), { weekly: 1 });
    for (
      const odd of [null, "x", {}, { limits: null }, { limits: { session: { usage: 46 } } }, {
        limits: { session: { usage: "0.4" } },
      }, { usage: 0.5 }]
    ) {
      assert.equal(readOllamaUsage(odd), undefined, JSON.stringify(odd));
    }
  });

  it("knows when windows reset: every 5 hours of Unix time, and Monday 00:00 UTC", () => {
    const t = Date.UTC(2026, 10, 27, 17, 40); // a Friday
    // 5-hour periods counted from the epoch: 2026-11-27 has boundaries at 04:00, 09:00, 14:00, 19:00.
    assert.equal(new Date(windowReset("session", t)).toISOString(), "2026-11-27T19:00:00.000Z");
    assert.equal(windowReset("session", Date.UTC(2026, 10, 27, 19)), Date.UTC(2026, 10, 28, 0));
    assert.equal(new Date(windowReset("weekly", t)).toISOString(), "2026-11-30T00:00:00.000Z");
    assert.equal(new Date(windowReset("weekly", Date.UTC(2026, 10, 30))).toISOString(), "2026-12-07T00:00:00.000Z");
  });

  it("shows each key's usage, rests a key at its limit until the window resets, ignores keys without the endpoint", async () => {
    const t = await setupPool({
      healthCheck: { usageIntervalMs: 60_000 },
      keys: ["acct-usage~0.25~0.5", "full-usage~0.99~0.4", "plain-key-0001"],
    });
    try {
      const pool = t.pool.state.keys.pool("ollama");
      await until(() => {
        t.pool.tick();
        return [...pool.values()].every((r) => t.pool.state.usage!.get("ollama", r.id) !== undefined);
      });
      // deno-lint-ignore no-explicit-any -- a JSON answer read field by field below
      const keys = (await (await t.admin("GET", "/admin/api-keys")).json()).api_keys as Array<Record<string, any>>;
      const idOf = (secret: string) => [...pool.values()].find((r) => r.secret === secret)!.id;
      const by = (secret: string) => keys.find((k) => k.id === idOf(secret))!;
      assert.deepEqual({ ...by("acct-usage~0.25~0.5").usage, checked_at: 0 }, {
        session: 0.25,
        weekly: 0.5,
        checked_at: 0,
      });
      assert.deepEqual(
        { ...by("plain-key-0001").usage, checked_at: 0 },
        { session: null, weekly: null, checked_at: 0 },
        "no endpoint: unknown",
      );
      const full = by("full-usage~0.99~0.4");
      assert.equal(full.status, "cooling");
      assert.match(full.reason, /session usage at 99 %/);
      // At the window's boundary; the key pool reads the clock again when it records the rest, so
      // a busy machine can put it a few milliseconds past.
      assert.ok(full.until % (5 * 3600_000) < 1_000, `rests until ${new Date(full.until).toISOString()}`);
      // Requests keep working on the other keys, and nobody asks /api/usage again within the interval.
      t.mock.reset();
      for (let i = 0; i < 4; i++) assert.equal((await t.call("/v1/chat/completions", chat())).status, 200);
      t.pool.tick();
      const polled = t.mock.requests.filter((r) => r.path === "/api/usage");
      assert.equal(polled.length, 0, `polled again: ${JSON.stringify(polled.map((r) => r.key))}`);
      assert.equal(t.mock.hits.get("full-usage~0.99~0.4"), undefined);
    } finally {
      await t.close();
    }
  });

  it("is off unless asked: no /api/usage request at all", async () => {
    const t = await setupPool({ keys: ["acct-usage~0.25~0.5"] });
    try {
      t.pool.tick();
      assert.equal((await t.call("/v1/chat/completions", chat())).status, 200);
      const polled = t.mock.requests.filter((r) => r.path === "/api/usage");
      assert.equal(polled.length, 0, `polled again: ${JSON.stringify(polled.map((r) => r.key))}`);
      assert.equal((await (await t.admin("GET", "/admin/api-keys")).json()).api_keys[0].usage, null);
    } finally {
      await t.close();
    }
  });
});
