/**
 * How many store commands does one pool instance send per hour, idle and under light load? Upstash
 * bills per command, so an idle pool's background work (sync every `syncIntervalMs`, flush every
 * `flushIntervalMs`) is its operator's standing cost.
 *
 * One pool per scenario, on a simulated clock: every simulated second it runs what the Node
 * server's 1 s timer runs (`state.tick()`) and waits for that work, so an hour takes seconds and
 * the count does not depend on how busy the machine is. Commands are counted where they arrive:
 * by the local Upstash REST stand-in (each command of a `/pipeline` on its own, as Upstash bills),
 * and for Redis by the server's own `INFO commandstats`.
 *
 * Scenarios: idle with 10 keys; idle with 1,000 keys (a SCAN-based poll grows with the database);
 * light load, one chat request per simulated second (real requests to a local mock upstream).
 *
 * `npx tsx bench/feed_cost.ts [--minutes N]` (default 60). Needs redis-server.
 * @module
 */
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { redisStorage } from "../adapters/redis.ts";
import { upstashStorage } from "../adapters/upstash.ts";
import { createPool, ollama, type Pool } from "../mod.ts";
import type { ExecutionContextLike } from "../src/state.ts";
import { startMockUpstream } from "../tests/helpers/mock_upstream.ts";
import { startRedis } from "../tests/helpers/services.ts";
import { startUpstashRest } from "../tests/helpers/upstash_rest.ts";
import { machineFacts, positive } from "./common.ts";

const ADMIN = "feed-cost-admin-0123";
const quiet = { info() {}, warn() {}, error() {} };

/** Runs due background work at simulated time `t` and waits for all of it. */
async function tickAt(pool: Pool, clock: { t: number }, t: number): Promise<void> {
  clock.t = t;
  const work: Promise<unknown>[] = [];
  const ctx: ExecutionContextLike = { waitUntil: (p) => void work.push(p) };
  pool.state.tick(() => ctx);
  await Promise.all(work);
}

/** Commands the Redis server has run so far, from its own statistics (minus our INFO calls). */
async function redisCommands(r: Redis): Promise<number> {
  const info = await r.info("commandstats");
  let n = 0;
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (m[1] !== "info") n += Number(m[2]);
  return n;
}

interface Scenario {
  name: string;
  keys: number;
  requestsPerSecond: number;
}

async function run(
  backend: "upstash" | "redis",
  scenario: Scenario,
  minutes: number,
  upstreamUrl: string,
): Promise<number> {
  const server = await startRedis();
  const rest = backend === "upstash" ? await startUpstashRest(server.port) : undefined;
  const storage = rest ? upstashStorage({ url: rest.url, token: rest.token }) : redisStorage(server.url);
  const probe = new Redis(server.url);
  const clock = { t: Date.parse("2026-01-05T00:00:00Z") };
  const pool = createPool({
    providers: [ollama({ baseURL: upstreamUrl })],
    storage,
    auth: { adminToken: ADMIN },
    now: () => clock.t,
    logger: quiet,
  });
  try {
    const admin = (path: string, body: unknown) =>
      pool.fetch(
        new Request(`http://pool${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN}` },
          body: JSON.stringify(body),
        }),
      );
    const keys = Array.from({ length: scenario.keys }, (_, i) => `good-feedcost-${String(i).padStart(6, "0")}`);
    await admin("/admin/api-keys/import", { keys });
    const { token } = await (await admin("/admin/tokens", { name: "feed-cost" })).json();
    // Settle for 70 s, so setup's own writes, and the minute of listing the feed that follows a
    // change, are not counted: the figures are an instance's steady state.
    await pool.flush();
    for (let s = 1; s <= 70; s++) await tickAt(pool, clock, clock.t + 1000);
    rest?.commands.reset();
    const before = await redisCommands(probe);
    const start = clock.t;
    for (let s = 1; s <= minutes * 60; s++) {
      for (let i = 0; i < scenario.requestsPerSecond; i++) {
        const res = await pool.fetch(
          new Request("http://pool/v1/chat/completions", {
            method: "POST",
            headers: { authorization: `Bearer ${token}` },
            body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
          }),
        );
        if (res.status !== 200) throw new Error(`chat answered ${res.status}`);
        await res.text();
      }
      await tickAt(pool, clock, start + s * 1000);
    }
    const counted = rest ? rest.commands.total : await redisCommands(probe) - before;
    if (rest) console.error(`  ${scenario.name}: ${JSON.stringify(Object.fromEntries(rest.commands))}`);
    return counted;
  } finally {
    probe.disconnect();
    await pool.close().catch(() => {});
    await storage.dispose();
    await rest?.close();
    await server.stop();
  }
}

const { values: argv } = parseArgs({ options: { minutes: { type: "string" } } });
const minutes = positive("minutes", argv.minutes ?? "60");
const scenarios: Scenario[] = [
  { name: "idle, 10 keys", keys: 10, requestsPerSecond: 0 },
  { name: "idle, 1,000 keys", keys: 1000, requestsPerSecond: 0 },
  { name: "1 request/s, 10 keys", keys: 10, requestsPerSecond: 1 },
];
const upstream = await startMockUpstream();
console.log(JSON.stringify(machineFacts()));
console.log(`| backend | scenario | commands/hour | commands/day |`);
console.log(`|---|---|---|---|`);
try {
  for (const backend of ["upstash", "redis"] as const) {
    for (const s of scenarios) {
      const n = await run(backend, s, minutes, upstream.url);
      const perHour = Math.round((n * 60) / minutes);
      console.log(
        `| ${backend} | ${s.name} | ${perHour.toLocaleString("en")} | ${(perHour * 24).toLocaleString("en")} |`,
      );
    }
  }
} finally {
  await upstream.close();
}
