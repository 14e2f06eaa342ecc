/**
 * Which runtime serves the pool fastest? Starts one mock upstream (Node) and, for each of Node,
 * Bun and Deno, the pool and a bare proxy of that same runtime as separate processes on
 * 127.0.0.1, then loads all six with the same chat request from the same load generator
 * (autocannon, closed loop, as bench/overhead.ts), interleaved over several rounds.
 *
 * - Node: the pool is the CLI (adapters/cli.ts: @hono/node-server, undici transport); bare is
 *   bench/bare_proxy.ts (`node:http` in, `http.request` out).
 * - Bun: the pool is examples/bun/server.ts (`Bun.serve`, Bun's `fetch`); bare is
 *   bench/bare_fetch_proxy.ts on Bun.
 * - Deno: the pool is examples/deno/main.ts (`Deno.serve`, Deno's `fetch`); bare is
 *   bench/bare_fetch_proxy.ts on Deno.
 *
 * Reports per scenario and runtime: req/s, pool / bare of the same runtime, and each runtime's
 * pool against Node's pool. All pools on memory storage with the same 10 keys.
 *
 * `npx tsx bench/runtimes.ts [--rounds N] [--duration S] [--quick] [--runtimes node,bun,deno] [--quiet-wait S] [--retries N]`
 * Writes bench/results/runtimes-latest.json. Compare ratios within one run: the load generator
 * and the mock share the machine's cores with the servers.
 * @module
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chatSpec, machineFacts, positive, preparePool, runBench, track } from "./common.ts";
import { measure, probe, type RequestSpec, type Sample, waitQuiet } from "./load.ts";
import { type Child, freePort, startChild, startMock } from "./procs.ts";
import {
  type Kind,
  type Runtime,
  RUNTIMES,
  type RuntimesScenario,
  runtimesTable,
  summarizeRuntimes,
  type TargetName,
  targetName,
} from "./runtimes_report.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUN = `${ROOT}node_modules/.bin/bun`;
const DENO = `${ROOT}node_modules/.bin/deno`;
// A healthy mock key: the bare proxies pass it straight to the mock, which only checks its prefix.
const UPSTREAM_KEY = "key-aaaaaaaa1";
const WARMUP_S = 1;

const { values: argv } = parseArgs({
  options: {
    rounds: { type: "string" },
    duration: { type: "string" },
    quick: { type: "boolean", default: false },
    runtimes: { type: "string" },
    // How long to wait for other work on the machine to stop before each measurement.
    "quiet-wait": { type: "string" },
    // How often to measure again when other processes used more than a quarter core meanwhile.
    retries: { type: "string" },
  },
});
const rounds = argv.quick ? 1 : positive("rounds", argv.rounds ?? "3");
const durationS = argv.quick ? 2 : positive("duration", argv.duration ?? "5");
const quietWaitS = positive("quiet-wait", argv["quiet-wait"] ?? "10");
const retries = Number(argv.retries ?? "1");
if (!Number.isInteger(retries) || retries < 0) throw new Error(`--retries must be 0 or more, got "${argv.retries}"`);
const runtimes = (argv.runtimes?.split(",").map((s) => s.trim()) ?? [...RUNTIMES]) as Runtime[];
const unknown = runtimes.filter((r) => !RUNTIMES.includes(r));
if (unknown.length) throw new Error(`--runtimes: unknown ${unknown.join(", ")}; known: ${RUNTIMES.join(", ")}`);

const children: Child[] = [];
const register = (c: Child): Child => {
  children.push(c);
  return track(c);
};

/** How each server starts: which program, which file, and its settings. */
function launch(runtime: Runtime, kind: Kind, mockUrl: string, port: number, admin: string) {
  const name = targetName(runtime, kind);
  const url = /^(http:\/\/\S+)$/m;
  if (kind === "bare") {
    const args = ["--target", mockUrl, "--port", String(port)];
    if (runtime === "node") return { name, file: "bench/bare_proxy.ts", args, ready: url };
    const command = runtime === "bun" ? [BUN] : [DENO, "run", "-A"];
    return { name, command, file: "bench/bare_fetch_proxy.ts", args, ready: url };
  }
  // Every provider points at the mock: nothing may leave 127.0.0.1. Memory storage everywhere
  // (Bun's example keeps nothing without DATA_DIR; blank counts as unset).
  const env = {
    ADMIN_TOKEN: admin,
    OLLAMA_BASE_URL: mockUrl,
    OPENROUTER_BASE_URL: `${mockUrl}/api`,
    PORT: String(port),
    HOST: "127.0.0.1",
    STORAGE_URL: "memory:",
    DATA_DIR: "",
  };
  const ready = /listening on (http:\/\/\S+)/;
  if (runtime === "node") return { name, file: "adapters/cli.ts", args: ["--storage", "memory:"], env, ready };
  if (runtime === "bun") return { name, command: [BUN], file: "examples/bun/server.ts", env, ready };
  return {
    name,
    command: [DENO, "run", "-A", "--unstable-kv", "--unstable-no-legacy-abort"],
    file: "examples/deno/main.ts",
    env,
    ready,
  };
}

function version(bin: string): string {
  return execFileSync(bin, ["--version"], { encoding: "utf8" }).split("\n")[0].replace(/^deno /, "").trim();
}

async function startAll(): Promise<
  { specs: Record<string, Record<TargetName, RequestSpec>>; pids: Record<string, number> }
> {
  const mock = register(
    await startMock(ROOT, ["--delay", "0"]),
  );
  const admin = randomBytes(24).toString("hex");
  const plans = [];
  for (const r of runtimes) {
    for (const k of ["bare", "pool"] as const) plans.push(launch(r, k, mock.url, await freePort(), admin));
  }
  // allSettled, so that when one fails the others are still registered for cleanup.
  const started = await Promise.allSettled(plans.map((p) => startChild({ cwd: ROOT, ...p })));
  for (const s of started) if (s.status === "fulfilled") register(s.value);
  for (const s of started) if (s.status === "rejected") throw s.reason;
  const servers = started.map((s) => (s as PromiseFulfilledResult<Child>).value);
  const pids: Record<string, number> = { mock: mock.pid };
  const specs: Record<string, Record<TargetName, RequestSpec>> = { false: {} as never, true: {} as never };
  for (const c of servers) {
    pids[c.name] = c.pid;
    console.log(`started ${c.name.padEnd(9)} ${c.url} (pid ${c.pid})`);
    const bearer = c.name.endsWith("-pool") ? await preparePool(c.url, admin) : UPSTREAM_KEY;
    for (const stream of [false, true]) specs[String(stream)][c.name as TargetName] = chatSpec(c.url, bearer, stream);
  }
  return { specs, pids };
}

/** Throws when a server died: measuring a dead server only produces a wall of connection errors. */
function checkAlive(where: string): void {
  const dead = children.find((c) => !c.alive());
  if (dead) throw new Error(`${dead.name} (pid ${dead.pid}) died during ${where}; its stderr is above`);
}

/**
 * One measurement once the machine is quiet (at most `quietWaitS` of waiting: the machine is
 * shared), measured again (`retries` times at most) when other processes took more than a
 * quarter core meanwhile. On a machine that stays busy, retrying only doubles the run's length.
 */
async function settled(label: string, once: () => Promise<Sample>): Promise<Sample> {
  for (let i = 0;; i++) {
    await waitQuiet(quietWaitS * 1000);
    const s = await once();
    if ((s.cpu.other ?? 0) <= 25 || i >= retries) return s;
    console.log(`  (${label}: other processes used ${s.cpu.other} % of a core meanwhile; measuring again)`);
  }
}

async function runScenarios(
  specs: Record<string, Record<TargetName, RequestSpec>>,
  pids: Record<string, number>,
  out: RuntimesScenario[],
): Promise<void> {
  const targets = runtimes.flatMap((r) => [targetName(r, "bare"), targetName(r, "pool")]);
  for (const stream of [false, true]) {
    for (const connections of [50, 200]) {
      const name = `${stream ? "stream" : "non-stream"} c=${connections}`;
      const spec = specs[String(stream)];
      for (const t of targets) {
        const problem = await probe(spec[t], stream);
        if (problem) throw new Error(`${name}: ${t} does not answer correctly: ${problem}`);
      }
      for (const t of targets) await measure(spec[t], connections, WARMUP_S, pids);
      const samples: Partial<Record<TargetName, Sample[]>> = {};
      for (let r = 0; r < rounds; r++) {
        // Rotate the order each round so no target always runs first (cold) or last (warm, hot CPU).
        const order = targets.map((_, i) => targets[(i + r) % targets.length]);
        for (const t of order) {
          const s = await settled(`${name} ${t}`, () => measure(spec[t], connections, durationS, pids));
          (samples[t] ??= []).push(s);
          const bad = s.non2xx + s.errors > 0
            ? `  !!! non2xx ${s.non2xx} errors ${s.errors} ${JSON.stringify(s.statuses)}`
            : "";
          console.log(
            `${name.padEnd(18)} round ${r + 1}/${rounds} ${t.padEnd(9)} ${
              String(Math.round(s.rps)).padStart(6)
            } req/s  ` +
              `p50 ${s.p50} ms  p99 ${s.p99} ms  cpu% ${t} ${s.cpu[t]} mock ${s.cpu.mock} loadgen ${s.cpu.loadgen} ` +
              `other ${s.cpu.other}${bad}`,
          );
          checkAlive(`"${name}" ${t} round ${r + 1}`);
        }
      }
      out.push(summarizeRuntimes(name, stream, connections, samples));
    }
  }
}

async function main(): Promise<void> {
  const machine = machineFacts();
  const versions: Record<string, string> = { node: process.version };
  if (runtimes.includes("bun")) versions.bun = version(BUN);
  if (runtimes.includes("deno")) versions.deno = version(DENO);
  console.log(
    `machine: ${machine.cpus} CPUs, ${machine.cpuModel}, ${machine.platform}, loadavg ${machine.loadavg.join(" ")}`,
  );
  console.log(`runtimes: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  console.log(
    `plan: ${rounds} round(s) × ${durationS} s per target, ${WARMUP_S} s warm-up per target per scenario\n`,
  );
  const { specs, pids } = await startAll();
  console.log("");

  // A failure mid-way (e.g. a server crashing) still reports the scenarios that completed.
  const scenarios: RuntimesScenario[] = [];
  let error: string | undefined;
  try {
    await runScenarios(specs, pids, scenarios);
  } catch (err) {
    error = (err as Error).message;
    console.error(`\n!!! benchmark aborted: ${error}`);
    process.exitCode = 1;
  }
  const loadavgAtEnd = machineFacts().loadavg;
  if (scenarios.length) console.log(`\n${runtimesTable(scenarios, machine, versions, { rounds, durationS })}`);
  console.log(`\nload average at the end: ${loadavgAtEnd.join(" ")}`);
  const broken = scenarios.flatMap((s) =>
    s.rows.flatMap((r) =>
      (["bare", "pool"] as const).filter((k) => r[k].non2xx + r[k].errors > 0).map((k) => `${s.name} ${r.runtime}-${k}`)
    )
  );
  if (broken.length) {
    console.error(`\n!!! NON-2XX RESPONSES OR ERRORS in: ${broken.join(", ")}; those numbers are not valid`);
    process.exitCode = 1;
  }
  // Servers only write to stderr when something is wrong; a dead child's was printed when it died.
  const stderr = Object.fromEntries(children.map((c) => [c.name, c.stderr().trim()]).filter(([, t]) => t));
  for (const c of children) {
    if (c.alive() && stderr[c.name]) console.error(`\n--- ${c.name} stderr (tail) ---\n${stderr[c.name]}`);
  }
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  await mkdir(dir, { recursive: true });
  const command = `npx tsx bench/runtimes.ts ${process.argv.slice(2).join(" ")}`.trim();
  const settings = { rounds, durationS, warmupS: WARMUP_S, quietWaitS, retries, runtimes };
  const out = {
    date: new Date().toISOString(),
    command,
    machine,
    loadavgAtEnd,
    versions,
    settings,
    error,
    scenarios,
    stderr,
  };
  await writeFile(`${dir}runtimes-latest.json`, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote bench/results/runtimes-latest.json`);
}

await runBench("runtimes", main, children);
