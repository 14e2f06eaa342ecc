/**
 * Soak: the pool under steady load for a long time (default 600 s), its RSS sampled from /proc
 * every 10 s, to see whether memory keeps growing. Load is open-loop at a fixed rate
 * (bench/paced.ts, so it does not rise and fall with the pool's speed): 70 % non-stream and 30 %
 * SSE chat requests, 10 keys, memory storage (so every statistic the pool keeps stays in the
 * process) or `--storage file`. Prints the series and the least-squares slope in MB/min, over
 * the samples under load (the idle one at t = 0 left out) and over the run's second half (the
 * first minutes include the heap growing to its working size, which is not a leak).
 *
 * `npx tsx bench/soak.ts [--duration S] [--rate R] [--interval S] [--storage memory|file]`
 * (`npm run bench:soak`). Writes bench/results/soak-latest.json.
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chatSpec, expectMarker, machineFacts, positive, preparePool, runBench, track } from "./common.ts";
import { round1 } from "./load.ts";
import { measurePaced } from "./paced.ts";
import { freePort, startChild, startMock } from "./procs.ts";
import { rssKb } from "./rss.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: argv } = parseArgs({
  options: {
    duration: { type: "string" },
    rate: { type: "string" },
    interval: { type: "string" },
    storage: { type: "string" },
  },
});
const durationS = positive("duration", argv.duration ?? "600");
const rate = positive("rate", argv.rate ?? "1000");
const intervalS = positive("interval", argv.interval ?? "10");
const storage = argv.storage ?? "memory";
if (storage !== "memory" && storage !== "file") throw new Error(`--storage must be memory or file, got "${storage}"`);

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxy / sxx;
}

async function main(): Promise<void> {
  const machine = machineFacts();
  console.log(
    `machine: ${machine.cpus} CPUs, ${machine.cpuModel}, node ${machine.node}, ${machine.platform}, loadavg ${
      machine.loadavg.join(" ")
    }`,
  );
  console.log(
    `plan: ${durationS} s at ${rate} req/s (70 % non-stream, 30 % stream), RSS every ${intervalS} s, ${storage} storage\n`,
  );
  const mock = track(
    await startMock(ROOT, ["--delay", "0"]),
  );
  let storageUrl = "memory:";
  if (storage === "file") {
    const dir = await mkdtemp(join(os.tmpdir(), "pool-soak-"));
    track({ name: "soak data dir", stop: () => rm(dir, { recursive: true, force: true }) });
    storageUrl = `file:${dir}`;
  }
  const admin = randomBytes(24).toString("hex");
  const pool = track(
    await startChild({
      name: "pool",
      cwd: ROOT,
      file: "adapters/cli.ts",
      args: ["--port", String(await freePort()), "--host", "127.0.0.1", "--storage", storageUrl],
      env: { ADMIN_TOKEN: admin, OLLAMA_BASE_URL: mock.url, OPENROUTER_BASE_URL: `${mock.url}/api` },
      ready: /listening on (http:\/\/\S+)/,
    }),
  );
  const token = await preparePool(pool.url, admin);
  const pids = { mock: mock.pid, pool: pool.pid };

  const series: { s: number; mb: number }[] = [];
  const t0 = performance.now();
  const sample = (): void => {
    if (!pool.alive()) return;
    const s = Math.round((performance.now() - t0) / 1000);
    const mb = round1(rssKb(pool.pid) / 1024);
    series.push({ s, mb });
    console.log(`t=${String(s).padStart(4)} s  RSS ${mb} MB`);
  };
  sample(); // before any load
  const timer = setInterval(sample, intervalS * 1000);
  // Two open-loop generators at once; each sends on its own schedule and connections.
  const [plain, stream] = await Promise.all([
    measurePaced(chatSpec(pool.url, token, false), {
      rate: Math.round(rate * 0.7),
      connections: 35,
      durationS,
      warmupS: 0,
      expect: expectMarker(false),
    }, pids),
    measurePaced(chatSpec(pool.url, token, true), {
      rate: Math.round(rate * 0.3),
      connections: 15,
      durationS,
      warmupS: 0,
      expect: expectMarker(true),
    }, pids),
  ]);
  clearInterval(timer);
  // Right after the last answer, unless the interval's own sample was just taken.
  if (performance.now() - t0 - series[series.length - 1].s * 1000 > 2000) sample();
  if (!pool.alive()) throw new Error(`the pool (pid ${pool.pid}) died during the soak:\n${pool.stderr()}`);

  const perMin = (pts: { s: number; mb: number }[]): number =>
    Math.round(slope(pts.map((p) => ({ x: p.s / 60, y: p.mb }))) * 1000) / 1000;
  // The t = 0 sample is the idle server before any load: growing from it to the working set is
  // not a leak, so both slopes start under load.
  const loaded = series.filter((p) => p.s > 0);
  const half = series.filter((p) => p.s >= durationS / 2);
  const all = perMin(loaded);
  const late = perMin(half);
  const first = series[0].mb;
  const last = series[series.length - 1].mb;
  const peak = Math.max(...series.map((p) => p.mb));
  console.log(`\n### Soak: pool RSS under ${rate} req/s for ${durationS} s (${storage} storage)\n`);
  console.log(
    `| t s | ${series.map((p) => p.s).join(" | ")} |\n|---|${series.map(() => "---:").join("|")}|\n| RSS MB | ${
      series.map((p) => p.mb).join(" | ")
    } |`,
  );
  console.log(
    `\n| RSS idle → first loaded → end (peak) | slope under load | slope, second half | requests | non2xx | errors | p50 / p99 ms non-stream | p50 / p99 ms stream | pool CPU % |`,
  );
  console.log(`|---|---:|---:|---:|---:|---:|---|---|---:|`);
  console.log(
    `| ${first} → ${loaded[0]?.mb} → ${last} (${peak}) MB | **${all} MB/min** | **${late} MB/min** | ${
      (plain.requests + stream.requests).toLocaleString("en-US")
    } | ${plain.non2xx + stream.non2xx} | ${plain.errors + stream.errors} | ` +
      `${plain.p50} / ${plain.p99} | ${stream.p50} / ${stream.p99} | ${plain.cpu.pool ?? "?"} |`,
  );
  console.log(
    `\n(${series.length} samples; "under load" uses the ${loaded.length} from t ≥ ${intervalS} s, "second half" the ${half.length} from t ≥ ${
      durationS / 2
    } s. Generator send lag p99: ${plain.sendLagP99} / ${stream.sendLagP99} ms.)`,
  );
  if (plain.non2xx + stream.non2xx + plain.errors + stream.errors > 0) process.exitCode = 1;
  const out = {
    date: new Date().toISOString(),
    machine,
    settings: { durationS, rate, intervalS, storage },
    series,
    slopeMbPerMin: { all, secondHalf: late },
    plain,
    stream,
  };
  await writeFile(join(ROOT, "bench/results/soak-latest.json"), `${JSON.stringify(out, null, 2)}\n`);
  console.log("wrote bench/results/soak-latest.json");
}

await runBench("soak", main);
