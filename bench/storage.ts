/**
 * What does each storage backend cost the pool's proxy throughput? Starts one mock upstream,
 * a real Redis, a real Postgres (+ websockify for the Neon driver), the local Upstash REST
 * stand-in (its own process, over a second Redis), and one pool process per backend (memory,
 * file, redis, postgres, upstash), all at once and all pointing at the same mock; then
 * loads each pool with non-stream chat at c=50, interleaved over rounds, and reports medians and
 * the ratio to the memory backend. Same machine, same run, same mock: only the backend differs.
 *
 * Afterwards it checks each pool's statistics: `total_requests` from GET /admin/stats against
 * the 2xx answers the load generator counted for that pool, once immediately (the recorder adds
 * unflushed deltas) and once after 6 s (the 5 s flush to the backend has happened by then).
 * A timed run cuts off up to c requests in flight when its time is up, which the pool may still
 * finish and count, so whole-run totals can only be bounded; an extra fixed-count burst per
 * pool (autocannon `amount`, nothing cut off) gives an exact before/after comparison.
 *
 * `npx tsx bench/storage.ts [--rounds N] [--duration S] [--quick]`; writes
 * bench/results/storage-latest.json. Needs redis-server, PostgreSQL and websockify installed.
 * @module
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startPostgres, startRedis } from "../tests/helpers/services.ts";
import { adminJson, chatSpec, machineFacts, positive, preparePool, runBench, track } from "./common.ts";
import { measure, median, probe, quietly, round1, type Sample } from "./load.ts";
import { type Child, freePort, startChild, startMock } from "./procs.ts";
import { type BackendResult, type StatsCheck, storageTables } from "./storage_report.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BACKENDS = ["memory", "file", "redis", "postgres", "upstash"] as const;
type Backend = (typeof BACKENDS)[number];
const CONNECTIONS = 50;
// 2 s, not 1: four pools start cold, and the first one measured would otherwise still be tiering up.
const WARMUP_S = 2;
// The pool flushes statistics every 5 s (checked by a 1 s timer): 6 s after the last request the
// counters are in the backend, not only in the recorder's pending deltas.
const FLUSH_WAIT_MS = 6000;
const EXACT_REQUESTS = 5000;

const { values: argv } = parseArgs({
  options: { rounds: { type: "string" }, duration: { type: "string" }, quick: { type: "boolean", default: false } },
});
const rounds = argv.quick ? 1 : positive("rounds", argv.rounds ?? "3");
const durationS = argv.quick ? 2 : positive("duration", argv.duration ?? "5");

const children: Child[] = [];

/** redis-server's own PID (from INFO), so its CPU shows up next to the pool's; undefined if unknown. */
function redisPid(port: number): number | undefined {
  const r = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "info", "server"], { encoding: "utf8" });
  const m = /process_id:(\d+)/.exec(r.stdout ?? "");
  return m ? Number(m[1]) : undefined;
}

interface Setup {
  urls: Record<Backend, string>;
  tokens: Record<Backend, string>;
  admin: string;
  pids: Record<string, number>;
}

async function startAll(): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), "pool-bench-file-"));
  track({ name: "file storage dir", stop: () => rm(dir, { recursive: true, force: true }) });
  const mock = track(
    await startMock(ROOT, ["--delay", "0"]),
  );
  children.push(mock);
  const redis = track({ name: "redis", ...(await startRedis()) });
  const pg = track({ name: "postgres", ...(await startPostgres()) });
  // Upstash over REST: the stand-in as its own process (its CPU shows apart), on its own Redis.
  const upstashRedis = track({ name: "redis (upstash)", ...(await startRedis()) });
  const restToken = randomBytes(24).toString("hex");
  const rest = track(
    await startChild({
      name: "upstash-rest",
      cwd: ROOT,
      file: "tests/helpers/upstash_rest_cli.ts",
      args: ["--redis-port", String(upstashRedis.port)],
      env: { UPSTASH_REDIS_REST_TOKEN: restToken },
      ready: /^(http:\/\/\S+)$/m,
    }),
  );
  children.push(rest);
  const admin = randomBytes(24).toString("hex");
  // STORAGE_URL through the environment, not --storage: keeps the Postgres password out of `ps`.
  const storageEnv: Record<Backend, Record<string, string>> = {
    memory: { STORAGE_URL: "memory:" },
    file: { STORAGE_URL: `file:${dir}` },
    redis: { STORAGE_URL: redis.url },
    postgres: { STORAGE_URL: pg.url, NEON_WS_PROXY: pg.wsProxy, NEON_SECURE_WEBSOCKET: "false" },
    upstash: { STORAGE_URL: "upstash:", UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: restToken },
  };
  // All pools compile and start together (allSettled: a failed one must not orphan the others).
  const started = await Promise.allSettled(BACKENDS.map(async (b) =>
    startChild({
      name: `pool-${b}`,
      cwd: ROOT,
      file: "adapters/cli.ts",
      args: ["--port", String(await freePort()), "--host", "127.0.0.1"],
      // Every provider points at the mock: nothing may leave 127.0.0.1.
      env: { ADMIN_TOKEN: admin, OLLAMA_BASE_URL: mock.url, OPENROUTER_BASE_URL: `${mock.url}/api`, ...storageEnv[b] },
      ready: /listening on (http:\/\/\S+)/,
      timeoutMs: 90_000, // five cold tsx compiles at once on 2 cores
    })
  ));
  for (const r of started) if (r.status === "fulfilled") children.push(track(r.value));
  for (const r of started) if (r.status === "rejected") throw r.reason;
  const pools = started.map((r) => (r as PromiseFulfilledResult<Child>).value);
  const urls = Object.fromEntries(BACKENDS.map((b, i) => [b, pools[i].url])) as Record<Backend, string>;
  const tokens = {} as Record<Backend, string>;
  for (const b of BACKENDS) tokens[b] = await preparePool(urls[b], admin);
  const pids: Record<string, number> = { mock: mock.pid, "upstash-rest": rest.pid };
  BACKENDS.forEach((b, i) => (pids[b] = pools[i].pid));
  const rp = redisPid(redis.port);
  if (rp) pids["redis-server"] = rp;
  return { urls, tokens, admin, pids };
}

const ok2xx = (s: Sample): number =>
  Object.entries(s.statuses).reduce((n, [code, c]) => n + (code.startsWith("2") ? c : 0), 0);

function checkAlive(where: string): void {
  const dead = children.find((c) => !c.alive());
  if (dead) throw new Error(`${dead.name} (pid ${dead.pid}) died during ${where}; its stderr is above`);
}

/** Interleaved rounds; `seen` counts every 2xx each pool answered (probe and warm-up included). */
async function run(
  setup: Setup,
  samples: Record<Backend, Sample[]>,
  seen: Record<Backend, { ok: number; sent: number }>,
): Promise<void> {
  const specs = Object.fromEntries(BACKENDS.map((b) => [b, chatSpec(setup.urls[b], setup.tokens[b], false)])) as Record<
    Backend,
    ReturnType<typeof chatSpec>
  >;
  for (const b of BACKENDS) {
    const problem = await probe(specs[b], false);
    seen[b].sent++;
    if (problem) throw new Error(`${b}: the pool does not answer correctly: ${problem}`);
    seen[b].ok++;
  }
  // Every run counts, also one that quietly() discards: the pool answered those requests too.
  const count = (b: Backend, s: Sample): Sample => {
    seen[b].ok += ok2xx(s);
    seen[b].sent += s.sent;
    return s;
  };
  for (const b of BACKENDS) count(b, await measure(specs[b], CONNECTIONS, WARMUP_S, setup.pids));
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round so no backend always runs first (cold) or last (warm, hot CPU).
    const order = BACKENDS.map((_, i) => BACKENDS[(i + r) % BACKENDS.length]);
    for (const b of order) {
      const s = await quietly(b, async () => count(b, await measure(specs[b], CONNECTIONS, durationS, setup.pids)));
      samples[b].push(s);
      const bad = s.non2xx + s.errors > 0
        ? `  !!! non2xx ${s.non2xx} errors ${s.errors} ${JSON.stringify(s.statuses)}`
        : "";
      console.log(
        `round ${r + 1}/${rounds} ${b.padEnd(8)} ${
          String(Math.round(s.rps)).padStart(6)
        } req/s  p50 ${s.p50} ms  p99 ${s.p99} ms  cpu% ${JSON.stringify(s.cpu)}${bad}`,
      );
      checkAlive(`${b} round ${r + 1}`);
    }
  }
}

function summarize(b: Backend, samples: Sample[], memory: Sample[]): BackendResult {
  const med = (f: (s: Sample) => number): number => median(samples.map(f));
  const rps = Math.round(med((s) => s.rps));
  return {
    backend: b,
    rps,
    p50: round1(med((s) => s.p50)),
    p99: round1(med((s) => s.p99)),
    vsMemoryPct: round1((rps / median(memory.map((s) => s.rps))) * 100),
    // Each round's ratio to that same round's memory run: their spread shows the run-to-run noise.
    vsMemoryByRound: samples.map((s, i) => round1((s.rps / memory[i].rps) * 100)),
    poolCpu: round1(med((s) => s.cpu[b] ?? NaN)),
    redisCpu: round1(med((s) => s.cpu["redis-server"] ?? NaN)),
    restCpu: round1(med((s) => s.cpu["upstash-rest"] ?? NaN)),
    otherCpu: round1(med((s) => s.cpu.other ?? NaN)),
    non2xx: samples.reduce((n, s) => n + s.non2xx, 0),
    errors: samples.reduce((n, s) => n + s.errors, 0),
    rounds: samples,
  };
}

async function statsTotals(
  setup: Setup,
): Promise<Record<Backend, { total: number; success: number; storage: string }>> {
  const out = {} as Record<Backend, { total: number; success: number; storage: string }>;
  for (const b of BACKENDS) {
    const s = await adminJson("GET", `${setup.urls[b]}/admin/stats`, setup.admin);
    out[b] = { total: Number(s.total_requests), success: Number(s.success_count), storage: String(s.storage) };
  }
  return out;
}

async function main(): Promise<void> {
  const machine = machineFacts();
  console.log(
    `machine: ${machine.cpus} CPUs, ${machine.cpuModel}, node ${machine.node}, ${machine.platform}, loadavg ${
      machine.loadavg.join(" ")
    }`,
  );
  console.log(
    `plan: ${rounds} round(s) × ${durationS} s per backend, non-stream, c=${CONNECTIONS}, ${WARMUP_S} s warm-up per backend\n`,
  );
  const setup = await startAll();
  console.log(
    `started: ${
      BACKENDS.map((b) => `${b} ${setup.urls[b]} (pid ${setup.pids[b]})`).join(", ")
    }; mock pid ${setup.pids.mock}, redis-server pid ${setup.pids["redis-server"] ?? "?"}\n`,
  );

  const samples = { memory: [], file: [], redis: [], postgres: [], upstash: [] } as Record<Backend, Sample[]>;
  const seen = Object.fromEntries(BACKENDS.map((b) => [b, { ok: 0, sent: 0 }])) as Record<
    Backend,
    { ok: number; sent: number }
  >;
  let error: string | undefined;
  try {
    await run(setup, samples, seen);
  } catch (err) {
    error = (err as Error).message;
    console.error(`\n!!! benchmark aborted: ${error}`);
    process.exitCode = 1;
  }
  const complete = BACKENDS.every((b) => samples[b].length === rounds);
  const results = complete ? BACKENDS.map((b) => summarize(b, samples[b], samples.memory)) : [];

  let stats: StatsCheck[] = [];
  if (!error) {
    await new Promise((r) => setTimeout(r, 1000)); // requests cut off by the last run finish in the pool
    const now = await statsTotals(setup);
    // The exact check: a fixed number of requests per pool, every one answered before the run ends.
    const exact = {} as Record<Backend, Sample>;
    for (const b of BACKENDS) {
      exact[b] = await measure(
        chatSpec(setup.urls[b], setup.tokens[b], false),
        CONNECTIONS,
        0,
        setup.pids,
        EXACT_REQUESTS,
      );
    }
    console.log(`\nwaiting ${FLUSH_WAIT_MS / 1000} s for the statistics flush…`);
    await new Promise((r) => setTimeout(r, FLUSH_WAIT_MS));
    const later = await statsTotals(setup);
    stats = BACKENDS.map((b) => ({
      backend: b,
      storage: later[b].storage,
      seen2xx: seen[b].ok,
      sent: seen[b].sent,
      totalNow: now[b].total,
      exact2xx: ok2xx(exact[b]),
      exactNon2xx: exact[b].non2xx + exact[b].errors,
      exactDelta: later[b].total - now[b].total,
      totalAfterFlush: later[b].total,
      successAfterFlush: later[b].success,
    }));
  }
  if (results.length || stats.length) {
    console.log(`\n${storageTables(results, stats, machine, { rounds, durationS, connections: CONNECTIONS })}`);
  }

  const broken = results.filter((r) => r.non2xx + r.errors > 0).map((r) => r.backend);
  if (broken.length) {
    console.error(
      `\n!!! NON-2XX RESPONSES OR ERRORS for: ${broken.join(", ")}; those numbers are not a valid measurement`,
    );
    process.exitCode = 1;
  }
  const miscounted = stats.filter((c) => c.exactDelta !== c.exact2xx || c.exactNon2xx > 0).map((c) => c.backend);
  if (miscounted.length) {
    console.error(`\n!!! statistics do not match the fixed-count burst for: ${miscounted.join(", ")}`);
  }
  // Other work on the machine during a round steals CPU from that backend only and skews its ratio.
  const busy = results.flatMap((r) => r.rounds.map((s, i) => [r.backend, i + 1, s.cpu.other ?? 0] as const))
    .filter(([, , o]) => o > 25); // the pools touch no storage per request: Postgres/Redis stay near 0
  if (busy.length) {
    console.error(
      `\n!!! much CPU in "other" during: ${
        busy.map(([b, i, o]) => `${b} round ${i} (${o} %)`).join(", ")
      }; treat those numbers with care`,
    );
  }
  const stderr = Object.fromEntries(children.map((c) => [c.name, c.stderr().trim()]).filter(([, t]) => t));
  for (const c of children) {
    if (c.alive() && stderr[c.name]) console.error(`\n--- ${c.name} stderr (tail) ---\n${stderr[c.name]}`);
  }
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  await mkdir(dir, { recursive: true });
  const out = {
    date: new Date().toISOString(),
    machine,
    settings: { rounds, durationS, warmupS: WARMUP_S, connections: CONNECTIONS },
    error,
    results,
    stats,
    stderr,
  };
  await writeFile(`${dir}storage-latest.json`, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote bench/results/storage-latest.json`);
}

await runBench("storage", main, children);
