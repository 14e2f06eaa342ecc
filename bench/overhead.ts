/**
 * What does the pool cost over a bare reverse proxy? Starts the mock upstream, the bare proxy
 * (bench/bare_proxy.ts) and the pool (adapters/cli.ts) as separate processes on 127.0.0.1,
 * then loads `direct` (the mock), `bare` and `pool` with the same chat request, interleaved
 * over several rounds, and reports medians plus pool/bare ratios. Two kinds of scenario:
 * max throughput (autocannon, closed loop: every target saturated) and latency at a fixed
 * moderate rate (bench/latency.ts: nothing saturated, so pool − bare is per-request cost).
 * The throughput scenarios also load a peer gateway, Portkey (bench/portkey.ts), as `portkey`:
 * same request, same interleaving, its own ratio to bare (`--skip-portkey` leaves it out).
 *
 * `npx tsx bench/overhead.ts [--rounds N] [--duration S] [--rate R] [--only throughput|latency] [--quick] [--skip-portkey]`
 * Writes bench/results/overhead-latest.json. Compare ratios, not absolute numbers: the load
 * generator shares the machine's cores with the three servers.
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chatSpec, expectMarker, machineFacts, positive, preparePool, runBench, track } from "./common.ts";
import { type LatencyScenario, latencyTable, runLatencyScenarios, type Target, TARGETS } from "./latency.ts";
import { measure, probe, quietly, type RequestSpec, type Sample } from "./load.ts";
import { blockedConnections, portkeyEntry, portkeySpec, startPortkey } from "./portkey.ts";
import { type Child, freePort, startBareProxy, startChild, startMock } from "./procs.ts";
import { type ScenarioResult, summarize, table } from "./report.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
// A healthy mock key: direct and bare pass it straight to the mock, which only checks its prefix.
const UPSTREAM_KEY = "key-aaaaaaaa1";
const WARMUP_S = 1;

const { values: argv } = parseArgs({
  options: {
    rounds: { type: "string" },
    duration: { type: "string" },
    quick: { type: "boolean", default: false },
    chunks: { type: "string" }, // streamed chunks per answer (the mock's default is 3)
    rate: { type: "string" }, // offered req/s of the latency scenarios
    only: { type: "string" }, // "throughput" or "latency": run one kind of scenario
    "skip-portkey": { type: "boolean", default: false },
  },
});
const rounds = argv.quick ? 1 : positive("rounds", argv.rounds ?? "3");
const durationS = argv.quick ? 2 : positive("duration", argv.duration ?? "5");
const chunks = positive("chunks", argv.chunks ?? "3");
// 1,000 req/s is ~10-20 % of what the pool sustains at max rate on 2 cores: moderate for all.
const rate = positive("rate", argv.rate ?? "1000");
if (argv.only !== undefined && argv.only !== "throughput" && argv.only !== "latency") {
  throw new Error(`--only must be "throughput" or "latency", got "${argv.only}"`);
}

/** The throughput targets: the latency ones plus the peer gateway when it runs. */
type TpTarget = Target | "portkey";
const children: Child[] = [];
/** Why the peer is not measured, when it is not. */
let portkeyMissing: string | undefined = argv["skip-portkey"]
  ? "--skip-portkey"
  : argv.only === "latency"
  ? "--only latency"
  : undefined;
const register = (c: Child): Child => {
  children.push(c);
  return track(c);
};

async function startAll(): Promise<{ urls: Record<string, string>; pids: Record<string, number>; token: string }> {
  const mock = await startMock(ROOT, ["--chunks", String(chunks), "--delay", "0"]);
  register(mock);
  const admin = randomBytes(24).toString("hex");
  // Bare and pool compile independently; starting them together halves the wait. allSettled, so
  // that when one fails the other is still registered for cleanup (else its pipes keep us alive).
  const started = await Promise.allSettled([
    startBareProxy(ROOT, mock.url),
    startChild({
      name: "pool",
      cwd: ROOT,
      file: "adapters/cli.ts",
      args: ["--port", String(await freePort()), "--host", "127.0.0.1", "--storage", "memory:"],
      // Every provider points at the mock: nothing may leave 127.0.0.1.
      env: { ADMIN_TOKEN: admin, OLLAMA_BASE_URL: mock.url, OPENROUTER_BASE_URL: `${mock.url}/api` },
      ready: /listening on (http:\/\/\S+)/,
    }),
  ]);
  for (const r of started) if (r.status === "fulfilled") register(r.value);
  for (const r of started) if (r.status === "rejected") throw r.reason;
  const [bare, pool] = started.map((r) => (r as PromiseFulfilledResult<Child>).value);
  const token = await preparePool(pool.url, admin);
  const urls: Record<string, string> = { direct: mock.url, bare: bare.url, pool: pool.url };
  const pids: Record<string, number> = { mock: mock.pid, bare: bare.pid, pool: pool.pid };
  // The peer is extra: when it cannot run, say why and measure the rest.
  const entry = portkeyEntry(ROOT);
  if (!portkeyMissing && !entry.file) portkeyMissing = entry.why;
  if (!portkeyMissing) {
    try {
      const pk = register(await startPortkey(ROOT, entry.file!));
      urls.portkey = pk.url;
      pids.portkey = pk.pid;
      console.log(
        `peer: @portkey-ai/gateway ${entry.version} (pid ${pk.pid}) at ${pk.url}, routed by x-portkey-provider/x-portkey-custom-host to the mock`,
      );
    } catch (err) {
      portkeyMissing = `Portkey did not start: ${(err as Error).message}`;
    }
  }
  if (portkeyMissing) console.log(`peer: Portkey not measured (${portkeyMissing})`);
  return { urls, pids, token };
}

// Direct and bare pass the upstream key straight to the mock; the pool gets its client token;
// Portkey passes the upstream key on, and is told by headers where the upstream is.
function spec(target: TpTarget, urls: Record<string, string>, token: string, stream: boolean): RequestSpec {
  if (target === "portkey") return portkeySpec(urls.portkey, urls.direct, UPSTREAM_KEY, stream);
  return chatSpec(urls[target], target === "pool" ? token : UPSTREAM_KEY, stream);
}

/** Throws when a server died: measuring a dead server only produces a wall of connection errors. */
function checkAlive(where: string): void {
  const dead = children.find((c) => !c.alive());
  if (dead) throw new Error(`${dead.name} (pid ${dead.pid}) died during ${where}; its stderr is above`);
}

/** Runs every scenario, appending each finished one to `out`. */
async function runScenarios(
  urls: Record<string, string>,
  pids: Record<string, number>,
  token: string,
  out: ScenarioResult[],
): Promise<void> {
  const targets: TpTarget[] = urls.portkey ? [...TARGETS, "portkey"] : [...TARGETS];
  for (const stream of [false, true]) {
    for (const connections of [50, 200]) {
      const name = `${stream ? "stream" : "non-stream"} c=${connections}`;
      const specs = Object.fromEntries(targets.map((t) => [t, spec(t, urls, token, stream)])) as Record<
        TpTarget,
        RequestSpec
      >;
      for (const t of targets) {
        const problem = await probe(specs[t], stream);
        if (problem) throw new Error(`${name}: ${t} does not answer correctly: ${problem}`);
      }
      for (const t of targets) await measure(specs[t], connections, WARMUP_S, pids);
      const samples: Record<TpTarget, Sample[]> = { direct: [], bare: [], pool: [], portkey: [] };
      for (let r = 0; r < rounds; r++) {
        // Rotate the order each round so no target always runs first (cold) or last (warm, hot CPU).
        const order = targets.map((_, i) => targets[(i + r) % targets.length]);
        for (const t of order) {
          const s = await quietly(`${name} ${t}`, () => measure(specs[t], connections, durationS, pids));
          samples[t].push(s);
          const bad = s.non2xx + s.errors > 0
            ? `  !!! non2xx ${s.non2xx} errors ${s.errors} ${JSON.stringify(s.statuses)}`
            : "";
          console.log(
            `${name.padEnd(18)} round ${r + 1}/${rounds} ${t.padEnd(6)} ${
              String(Math.round(s.rps)).padStart(6)
            } req/s  p50 ${s.p50} ms  p99 ${s.p99} ms  cpu% ${JSON.stringify(s.cpu)}${bad}`,
          );
          checkAlive(`"${name}" ${t} round ${r + 1}`);
        }
      }
      out.push(summarize(name, stream, connections, samples));
    }
  }
}

async function main(): Promise<void> {
  const machine = machineFacts();
  console.log(
    `machine: ${machine.cpus} CPUs, ${machine.cpuModel}, node ${machine.node}, ${machine.platform}, loadavg ${
      machine.loadavg.join(" ")
    }`,
  );
  console.log(
    `plan: ${rounds} round(s) × ${durationS} s per target, ${WARMUP_S} s warm-up per target per scenario, mock chunks ${chunks}, latency at ${rate} req/s\n`,
  );

  const { urls, pids, token } = await startAll();
  console.log(
    `started: mock ${urls.direct} (pid ${pids.mock}), bare ${urls.bare} (pid ${pids.bare}), pool ${urls.pool} (pid ${pids.pool})${
      urls.portkey ? `, portkey ${urls.portkey} (pid ${pids.portkey})` : ""
    }\n`,
  );

  // A failure mid-way (e.g. the pool crashing) still reports the scenarios that completed.
  const scenarios: ScenarioResult[] = [];
  const latency: LatencyScenario[] = [];
  let error: string | undefined;
  try {
    if (argv.only !== "latency") await runScenarios(urls, pids, token, scenarios);
    // After the throughput runs, so the servers are warm (JIT, sockets) when latency is measured.
    if (argv.only !== "throughput") {
      const specs = (stream: boolean) =>
        Object.fromEntries(TARGETS.map((t) => [t, spec(t, urls, token, stream)])) as Record<Target, RequestSpec>;
      await runLatencyScenarios({
        specs,
        expect: expectMarker,
        pids,
        rate,
        rounds,
        durationS,
        warmupS: WARMUP_S,
        check: checkAlive,
      }, latency);
    }
  } catch (err) {
    error = (err as Error).message;
    console.error(`\n!!! benchmark aborted: ${error}`);
    process.exitCode = 1;
  }

  if (scenarios.length) console.log(`\n${table(scenarios, machine, { rounds, durationS })}`);
  if (latency.length) console.log(`\n${latencyTable(latency, { rounds, durationS, warmupS: WARMUP_S })}`);
  const all = [...scenarios, ...latency];
  const each = (s: (typeof all)[number]) =>
    Object.entries(s.targets as Record<string, { non2xx: number; errors: number; cpu: Record<string, number> }>);
  const broken = all.flatMap((s) => each(s).filter(([, r]) => r.non2xx + r.errors > 0).map(([t]) => `${s.name} ${t}`));
  if (broken.length) {
    console.error(
      `\n${"!".repeat(72)}\n!!! NON-2XX RESPONSES OR ERRORS in: ${
        broken.join(", ")
      }\n!!! those numbers are not a valid measurement\n${"!".repeat(72)}`,
    );
    process.exitCode = 1;
  }
  // Other work on the machine steals CPU from one target and not another, skewing the ratios.
  const busy = all.flatMap((s) =>
    each(s).filter(([, r]) => (r.cpu.other ?? 0) > 25).map(([t, r]) => `${s.name} ${t} (${r.cpu.other} %)`)
  );
  if (busy.length) {
    console.error(`\n!!! other processes used much CPU during: ${busy.join(", ")}; treat those ratios with care`);
  }
  // The guard refuses any non-loopback connection the peer tries; one attempt is a failed run.
  const pk = children.find((c) => c.name === "portkey");
  const blocked = pk ? blockedConnections(pk) : [];
  if (blocked.length) {
    console.error(`\n!!! Portkey tried to connect outside 127.0.0.1 (refused):\n${blocked.join("\n")}`);
    process.exitCode = 1;
  }
  if (portkeyMissing) console.log(`\nPortkey not measured: ${portkeyMissing}`);
  // Servers only write to stderr when something is wrong (e.g. the bare proxy's upstream errors);
  // a dead child's stderr was already printed when it died.
  const stderr = Object.fromEntries(children.map((c) => [c.name, c.stderr().trim()]).filter(([, t]) => t));
  for (const c of children) {
    if (c.alive() && stderr[c.name]) console.error(`\n--- ${c.name} stderr (tail) ---\n${stderr[c.name]}`);
  }
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  await mkdir(dir, { recursive: true });
  const settings = { rounds, durationS, warmupS: WARMUP_S, chunks, latencyRate: rate };
  const peer = { measured: !portkeyMissing, why: portkeyMissing, version: portkeyEntry(ROOT).version, blocked };
  const out = { date: new Date().toISOString(), machine, settings, error, scenarios, latency, peer, stderr };
  await writeFile(`${dir}overhead-latest.json`, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote bench/results/overhead-latest.json`);
}

await runBench("overhead", main, children);
