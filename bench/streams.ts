/**
 * Many long SSE streams at once: N concurrent streams (default 1,000) of C chunks each from a
 * slow mock (C × delay ms per stream, a few seconds), to `direct` (the mock), `bare` and `pool`,
 * interleaved over rounds. Reports time to first byte (p50/p99, and added over bare), the time
 * until every stream ended, and the proxy's resident memory per open stream: RSS sampled from
 * /proc every 100 ms while all N streams are open (median), minus its RSS just before, ÷ N.
 * Each bare/pool round gets a fresh process, warmed up with N/10 streams and then left idle for
 * 2 s: V8 keeps the pages a previous round's garbage used, so a reused process has a baseline
 * that shifts by tens of MB from round to round (seen: −22 to +38 KB per stream).
 *
 * Streams start evenly over `--ramp-ms` (default 1 s), not in one instant: 1,000 SYNs at once
 * overflow Node's accept backlog (511) and the retransmits, 1 s later, would be all the p99
 * says. Default 200 chunks × 40 ms: streams of ~8 s, ~25,000 chunks/s through the proxy at
 * 1,000 streams (an LLM's 25 tokens/s each), and a few seconds with all N open at once.
 *
 * The pool runs as bench/pool_server.ts with as many upstream connections as streams, and the
 * bare proxy with as many sockets: the CLI's default cap (256 per upstream) would queue 744 of
 * 1,000 streams instead of measuring them open. `--upstream-connections 256` shows that case.
 *
 * `npx tsx bench/streams.ts [--streams N] [--chunks C] [--delay MS] [--ramp-ms MS] [--rounds R] [--quick]`
 * Writes bench/results/streams-latest.json. The client is raw node:http (a socket per stream).
 * @module
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chatSpec, machineFacts, positive, preparePool, runBench, track } from "./common.ts";
import { median, type RequestSpec, waitQuiet } from "./load.ts";
import { type Child, freePort, startBareProxy, startChild, startMock } from "./procs.ts";
import { type Round, runRound } from "./streams_round.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TARGETS = ["direct", "bare", "pool"] as const;
type Target = (typeof TARGETS)[number];
const { values: argv } = parseArgs({
  options: {
    streams: { type: "string" },
    chunks: { type: "string" },
    delay: { type: "string" },
    "ramp-ms": { type: "string" },
    rounds: { type: "string" },
    quick: { type: "boolean", default: false },
    "upstream-connections": { type: "string" },
  },
});
const N = positive("streams", argv.streams ?? "1000");
const chunks = positive("chunks", argv.chunks ?? "200");
const delay = positive("delay", argv.delay ?? "40");
const rampMs = positive("ramp-ms", argv["ramp-ms"] ?? "1000");
const rounds = argv.quick ? 1 : positive("rounds", argv.rounds ?? "3");
const upstreamConnections = positive("upstream-connections", argv["upstream-connections"] ?? String(N + 64));
const WARMUP = Math.max(1, Math.ceil(N / 10));
const MAX_OTHER = 25; // % of a core used by other jobs during a round before it is measured again
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Soft limit on open files of this process (children inherit it), from /proc. */
function openFilesLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync("/proc/self/limits", "utf8"));
  return m?.[1] === "unlimited" ? Infinity : Number(m?.[1] ?? 1024);
}

/** A fresh bare proxy or pool in front of the mock, and the request to send it. */
async function startProxy(t: "bare" | "pool", mockUrl: string): Promise<{ child: Child; spec: RequestSpec }> {
  if (t === "bare") {
    const child = track(
      await startBareProxy(ROOT, mockUrl, ["--max-sockets", String(upstreamConnections)]),
    );
    return { child, spec: chatSpec(child.url, "key-aaaaaaaa1", true) };
  }
  const admin = randomBytes(24).toString("hex");
  const child = track(
    await startChild({
      name: "pool",
      cwd: ROOT,
      file: "bench/pool_server.ts",
      args: ["--port", String(await freePort()), "--connections", String(upstreamConnections)],
      env: { ADMIN_TOKEN: admin, OLLAMA_BASE_URL: mockUrl, OPENROUTER_BASE_URL: `${mockUrl}/api` },
      ready: /listening on (http:\/\/\S+)/,
    }),
  );
  return { child, spec: chatSpec(child.url, await preparePool(child.url, admin), true) };
}

/** One measured round of `t`; bare and pool in a fresh, warmed-up process; again when disturbed. */
async function measureTarget(t: Target, mock: Child): Promise<Round> {
  for (let attempt = 1;; attempt++) {
    let proxy: { child: Child; spec: RequestSpec } | undefined;
    if (t !== "direct") {
      proxy = await startProxy(t, mock.url);
      await runRound({ target: t, spec: proxy.spec, pid: proxy.child.pid, pids: {}, streams: WARMUP, rampMs });
      await sleep(2000); // let the warm-up's garbage be collected before the idle baseline
    }
    await waitQuiet();
    const pid = proxy?.child.pid ?? mock.pid;
    const pids = { mock: mock.pid, ...(proxy ? { [t]: proxy.child.pid } : {}) };
    const s = await runRound({
      target: t,
      spec: proxy?.spec ?? chatSpec(mock.url, "key-aaaaaaaa1", true),
      pid,
      pids,
      streams: N,
      rampMs,
    });
    const dead = proxy && !proxy.child.alive();
    await proxy?.child.stop(3000);
    if (dead) throw new Error(`${t} (pid ${proxy!.child.pid}) died during the round:\n${proxy!.child.stderr()}`);
    if ((s.cpu.other ?? 0) <= MAX_OTHER || attempt >= 3) return s;
    console.log(`  (${t}: other jobs used ${s.cpu.other} % of a core meanwhile; measuring again)`);
  }
}

async function main(): Promise<void> {
  const machine = machineFacts();
  const limit = openFilesLimit();
  console.log(
    `machine: ${machine.cpus} CPUs, ${machine.cpuModel}, node ${machine.node}, ${machine.platform}, loadavg ${
      machine.loadavg.join(" ")
    }`,
  );
  console.log(
    `plan: ${N} streams × ${chunks} chunks, ${delay} ms apart (≥ ${
      (chunks * delay) / 1000
    } s per stream), started over ${rampMs} ms; ${rounds} round(s); upstream connections ${upstreamConnections}; open files limit ${limit}`,
  );
  // A proxy holds two sockets per stream (client side and upstream side), plus its own files.
  if (limit < 2 * N + 256) {
    throw new Error(`open files limit ${limit} is too low for ${N} streams: run \`ulimit -n ${2 * N + 1024}\` first`);
  }

  const mock = track(
    await startMock(ROOT, ["--chunks", String(chunks), "--delay", String(delay)]),
  );
  const w = await runRound({
    target: "direct",
    spec: chatSpec(mock.url, "key-aaaaaaaa1", true),
    pid: mock.pid,
    pids: {},
    streams: WARMUP,
    rampMs,
  });
  console.log(`warm-up of the mock: ${WARMUP} streams in ${w.totalS} s, ${w.failed} failed`);
  const results: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round so no target always runs first or last.
    for (const t of TARGETS.map((_, i) => TARGETS[(i + r) % TARGETS.length])) {
      const s = await measureTarget(t, mock);
      results.push(s);
      const mem = s.kbPerStream === undefined
        ? "never all open at once"
        : `RSS ${s.idleMb} → ${s.openMb} (max ${s.openMaxMb}) MB = ${s.kbPerStream} KB/stream (${s.samples} samples)`;
      const perChunk = t === "direct" ? "" : `, ${chunkUs(s, t)} µs CPU per chunk`;
      console.log(
        `round ${r + 1}/${rounds} ${
          t.padEnd(6)
        } TTFB p50 ${s.ttfbP50} p99 ${s.ttfbP99} ms, all done ${s.totalS} s, failed ${s.failed}, ${mem}, cpu% ${
          JSON.stringify(s.cpu)
        }${perChunk}`,
      );
    }
  }
  console.log(`\n${streamsTable(results)}`);
  if (results.some((x) => x.failed)) process.exitCode = 1;
  await mkdir(new URL("./results/", import.meta.url), { recursive: true });
  const settings = { streams: N, chunks, delayMs: delay, rampMs, rounds, upstreamConnections, warmup: WARMUP };
  await writeFile(
    new URL("./results/streams-latest.json", import.meta.url),
    `${JSON.stringify({ date: new Date().toISOString(), machine, settings, results }, null, 2)}\n`,
  );
  console.log("wrote bench/results/streams-latest.json");
}

/**
 * The proxy's CPU per forwarded content chunk, µs: its CPU share over the round times the
 * round's length, over N × chunks (per-stream work — accepting, the upstream request — included).
 */
function chunkUs(x: Round, t: Target): number | undefined {
  const pct = x.cpu[t];
  return pct === undefined ? undefined : Math.round(((pct / 100) * x.totalS * 1e6) / (N * chunks) * 10) / 10;
}

/** The Markdown table: medians over rounds per target, and what the pool adds over bare. */
function streamsTable(results: Round[]): string {
  const med = (t: Target, f: (x: Round) => number | undefined): number | undefined => {
    const xs = results.filter((x) => x.target === t).map(f).filter((x): x is number => x !== undefined);
    return xs.length ? Math.round(median(xs) * 100) / 100 : undefined;
  };
  const sign = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;
  const lines = [
    `### ${
      N.toLocaleString("en-US")
    } concurrent SSE streams (${chunks} chunks × ${delay} ms), medians of ${rounds} round(s)`,
    ``,
    `| target | TTFB p50 ms | TTFB p99 ms | added p50 / p99 vs bare | all streams done s | failed | RSS idle → all open MB | **KB per open stream** | CPU % proxy / mock / client / softirq / other | proxy CPU µs per chunk |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---|---:|`,
  ];
  for (const t of TARGETS) {
    const d = (f: (x: Round) => number | undefined): number | undefined => med(t, f);
    const added = (f: (x: Round) => number): string => sign((d(f) ?? NaN) - (med("bare", f) ?? NaN));
    const failed = results.filter((x) => x.target === t).reduce((a, x) => a + x.failed, 0);
    const kb = t === "direct" ? `(mock: ${d((x) => x.kbPerStream) ?? "–"})` : `**${d((x) => x.kbPerStream) ?? "–"}**`;
    const cpu = (p: string): string => String(d((x) => x.cpu[p]) ?? "?");
    lines.push(
      `| ${t} | ${d((x) => x.ttfbP50)} | ${d((x) => x.ttfbP99)} | ${
        t === "pool" ? `${added((x) => x.ttfbP50)} / ${added((x) => x.ttfbP99)}` : "–"
      } | ${d((x) => x.totalS)} | ` +
        `${failed ? `${failed} ⚠` : 0} | ${d((x) => x.idleMb)} → ${d((x) => x.openMb) ?? "–"} | ${kb} | ${
          t === "direct" ? "–" : cpu(t)
        } / ${cpu("mock")} / ${cpu("loadgen")} / ${cpu("softirq")} / ${cpu("other")} | ` +
        `${t === "direct" ? "–" : d((x) => chunkUs(x, t))} |`,
    );
  }
  lines.push(
    ``,
    `Target: ≤ 50 KB RSS per open stream. RSS: median /proc VmRSS sample while all ${N} streams were open, minus VmRSS just before the round; bare and pool fresh each round after ${WARMUP} warm-up streams.`,
  );
  return lines.join("\n");
}

await runBench("streams", main);
