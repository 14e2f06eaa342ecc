/**
 * Where the pool's latency tail after load comes from: the pool runs with bench/gc_observer.ts
 * preloaded (every garbage collection logged), and is measured at a fixed rate (bench/paced.ts)
 * fresh, then saturated with autocannon as bench/overhead.ts's throughput rounds do, then at the
 * fixed rate again; the bare proxy is measured beside it in each paced phase. Prints per phase
 * the p50/p99 of both and the pool's collections (count, total and longest pause per kind) and
 * heap size, so a p99 that grew after load can be put beside what the collector did.
 *
 * `npx tsx bench/gc_tail.ts [--rate R] [--connections C] [--duration S] [--saturate S] [--stream]`
 * (extra node flags for the pool: `--pool-node-args "--max-semi-space-size=32"`; extra settings:
 * `--pool-env LOG_RETENTION_DAYS=0,FLUSH_INTERVAL_MS=1000`)
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chatSpec, expectMarker, machineFacts, positive, preparePool, runBench, track } from "./common.ts";
import { measure } from "./load.ts";
import { measurePaced, type PacedSample } from "./paced.ts";
import { freePort, startBareProxy, startChild, startMock } from "./procs.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: argv } = parseArgs({
  options: {
    rate: { type: "string" },
    connections: { type: "string" },
    duration: { type: "string" },
    saturate: { type: "string" },
    stream: { type: "boolean", default: false },
    "pool-node-args": { type: "string" },
    "pool-env": { type: "string" },
  },
});
const rate = positive("rate", argv.rate ?? "1000");
const connections = positive("connections", argv.connections ?? "200");
const durationS = positive("duration", argv.duration ?? "8");
const saturateS = positive("saturate", argv.saturate ?? "40");
const stream = argv.stream;

interface GcLine {
  t: number;
  kind: string;
  ms: number;
}

/** The pool's collections between `from` and `to` (epoch ms), per kind. */
function gcBetween(lines: GcLine[], from: number, to: number): string {
  const by = new Map<string, number[]>();
  for (const l of lines) if (l.t >= from && l.t <= to) by.set(l.kind, [...(by.get(l.kind) ?? []), l.ms]);
  const s = (to - from) / 1000;
  return [...by].map(([k, ms]) => {
    const total = ms.reduce((a, b) => a + b, 0);
    return `${k} ${(ms.length / s).toFixed(1)}/s, ${(total / s).toFixed(1)} ms/s, max ${
      Math.max(...ms).toFixed(2)
    } ms, >1 ms ${ms.filter((x) => x > 1).length}`;
  }).join("; ");
}

async function main(): Promise<void> {
  const m = machineFacts();
  console.log(`machine: ${m.cpus} CPUs, node ${m.node}, loadavg ${m.loadavg.join(" ")}`);
  const dir = await mkdtemp(join(tmpdir(), "gc-tail-"));
  const traceFile = join(dir, "gc.tsv");
  const mock = track(
    await startMock(ROOT, ["--chunks", "3", "--delay", "0"]),
  );
  const bare = track(
    await startBareProxy(ROOT, mock.url),
  );
  const admin = randomBytes(24).toString("hex");
  const extra = argv["pool-node-args"]?.split(/\s+/).filter(Boolean) ?? [];
  const pool = track(
    await startChild({
      name: "pool",
      cwd: ROOT,
      file: "adapters/cli.ts",
      nodeArgs: ["--import", "./bench/gc_observer.ts", ...extra],
      args: ["--port", String(await freePort()), "--host", "127.0.0.1", "--storage", "memory:"],
      env: {
        ADMIN_TOKEN: admin,
        OLLAMA_BASE_URL: mock.url,
        GC_TRACE_FILE: traceFile,
        ...Object.fromEntries((argv["pool-env"] ?? "").split(",").filter(Boolean).map((kv) => kv.split("="))),
      },
      ready: /listening on (http:\/\/\S+)/,
    }),
  );
  const token = await preparePool(pool.url, admin);
  const specs = { bare: chatSpec(bare.url, "key-aaaaaaaa1", stream), pool: chatSpec(pool.url, token, stream) };
  const pids = { bare: bare.pid, pool: pool.pid, mock: mock.pid };
  const windows: Array<{ name: string; from: number; to: number; s: PacedSample }> = [];
  const paced = async (phase: string): Promise<void> => {
    for (const t of ["bare", "pool"] as const) {
      const from = Date.now();
      const s = await measurePaced(specs[t], {
        rate,
        connections,
        durationS,
        warmupS: 1,
        expect: expectMarker(stream),
      }, pids);
      windows.push({ name: `${phase} ${t}`, from: from + 1000, to: Date.now(), s });
      console.log(
        `${phase.padEnd(10)} ${t.padEnd(5)} p50 ${s.p50.toFixed(3)} p90 ${s.p90.toFixed(3)} p99 ${
          s.p99.toFixed(3)
        } max ${s.max.toFixed(1)} ms  errors ${s.errors + s.non2xx}  cpu ${JSON.stringify(s.cpu)}`,
      );
    }
  };
  await paced("fresh");
  const from = Date.now();
  for (const st of [false, true]) {
    const r = await measure(chatSpec(pool.url, token, st), 200, saturateS / 2, pids);
    console.log(`saturate  pool ${st ? "stream" : "non-stream"} ${Math.round(r.rps)} req/s`);
  }
  windows.push({ name: "saturating", from, to: Date.now(), s: undefined as unknown as PacedSample });
  await paced("after");
  await new Promise((r) => setTimeout(r, 700)); // the observer writes every 500 ms
  const lines = (await readFile(traceFile, "utf8")).trim().split("\n").map((l) => l.split("\t"));
  const gcs: GcLine[] = lines.filter((l) => l[1] !== "heap").map((l) => ({ t: +l[0], kind: l[1], ms: +l[2] }));
  const heaps = lines.filter((l) => l[1] === "heap").map((l) => ({ t: +l[0], used: +l[2], total: +l[3], old: +l[4] }));
  console.log(`\npool collections per window (trace: ${traceFile}):`);
  for (const w of windows) {
    const h = heaps.filter((x) => x.t >= w.from && x.t <= w.to);
    const heap = h.length
      ? `heap used ${h[0].used}→${h.at(-1)!.used} MB, total ${h.at(-1)!.total}, old ${h.at(-1)!.old}`
      : "";
    console.log(`${w.name.padEnd(12)} ${gcBetween(gcs, w.from, w.to)}\n${"".padEnd(12)} ${heap}`);
  }
}

await runBench("gc_tail", main);
