/**
 * Medians across rounds, the ratios and the Markdown report of bench/runtimes.ts.
 * @module
 */
import { median, round1, type Sample } from "./load.ts";
import type { MachineFacts } from "./report.ts";

export const RUNTIMES = ["node", "bun", "deno"] as const;
export type Runtime = (typeof RUNTIMES)[number];
export type Kind = "bare" | "pool";
/** A measured server: `node-bare`, `bun-pool`, … */
export type TargetName = `${Runtime}-${Kind}`;
export const targetName = (r: Runtime, k: Kind): TargetName => `${r}-${k}`;

/** Medians of one target in one scenario; error counts are sums, since any one is too many. */
export interface RuntimeTarget {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Median percent of one core: `proxy` is the measured server, `mock`, `loadgen`, `other`. */
  cpu: Record<string, number>;
  /**
   * Median of req/s ÷ the proxy's share of a core: requests per second of the server's own CPU.
   * Less sensitive to the rest of the machine than req/s, which depends on how much CPU the
   * scheduler gave the server (Bun and Deno run more threads than Node, so get more of a busy
   * machine).
   */
  perCore: number;
  rounds: Sample[];
}

/** One runtime's figures in one scenario. */
export interface RuntimeRow {
  runtime: Runtime;
  bare: RuntimeTarget;
  pool: RuntimeTarget;
  /** pool req/s ÷ this runtime's bare req/s, percent. */
  poolVsBarePct: number;
  /** pool req/s ÷ the Node pool's req/s, percent. */
  poolVsNodePoolPct?: number;
  /** bare req/s ÷ the Node bare proxy's req/s, percent. */
  bareVsNodeBarePct?: number;
  /** pool ÷ bare in requests per second of their own CPU, percent. */
  poolVsBarePerCorePct: number;
  /** pool ÷ Node pool in requests per second of their own CPU, percent. */
  poolVsNodePoolPerCorePct?: number;
}

/** One scenario: every runtime measured, interleaved. */
export interface RuntimesScenario {
  name: string;
  stream: boolean;
  connections: number;
  rows: RuntimeRow[];
}

function summarizeTarget(samples: Sample[], self: TargetName): RuntimeTarget {
  // Each sample metered every server; keep the one measured as `proxy`, plus the mock and the rest.
  const cpuOf = (s: Sample): Record<string, number> => ({
    proxy: s.cpu[self] ?? NaN,
    mock: s.cpu.mock ?? NaN,
    loadgen: s.cpu.loadgen ?? NaN,
    other: s.cpu.other ?? NaN,
  });
  const cpus = samples.map(cpuOf);
  return {
    rps: Math.round(median(samples.map((s) => s.rps))),
    p50: round1(median(samples.map((s) => s.p50))),
    p99: round1(median(samples.map((s) => s.p99))),
    non2xx: samples.reduce((n, s) => n + s.non2xx, 0),
    errors: samples.reduce((n, s) => n + s.errors, 0),
    cpu: Object.fromEntries(Object.keys(cpus[0] ?? {}).map((k) => [k, round1(median(cpus.map((c) => c[k])))])),
    perCore: Math.round(median(samples.map((s, i) => s.rps / (cpus[i].proxy / 100)))),
    rounds: samples,
  };
}

/** Reduces one scenario's rounds to medians and ratios, per runtime present in `samples`. */
export function summarizeRuntimes(
  name: string,
  stream: boolean,
  connections: number,
  samples: Partial<Record<TargetName, Sample[]>>,
): RuntimesScenario {
  const rows: RuntimeRow[] = [];
  for (const runtime of RUNTIMES) {
    const b = samples[targetName(runtime, "bare")];
    const p = samples[targetName(runtime, "pool")];
    if (!b?.length || !p?.length) continue;
    const bare = summarizeTarget(b, targetName(runtime, "bare"));
    const pool = summarizeTarget(p, targetName(runtime, "pool"));
    rows.push({
      runtime,
      bare,
      pool,
      poolVsBarePct: round1((pool.rps / bare.rps) * 100),
      poolVsBarePerCorePct: round1((pool.perCore / bare.perCore) * 100),
    });
  }
  const node = rows.find((r) => r.runtime === "node");
  if (node) {
    for (const r of rows) {
      r.poolVsNodePoolPct = round1((r.pool.rps / node.pool.rps) * 100);
      r.bareVsNodeBarePct = round1((r.bare.rps / node.bare.rps) * 100);
      r.poolVsNodePoolPerCorePct = round1((r.pool.perCore / node.pool.perCore) * 100);
    }
  }
  return { name, stream, connections, rows };
}

const fmt = (n: number): string => n.toLocaleString("en-US");
const pct = (n: number | undefined): string => (n === undefined ? "–" : `${n} %`);
const warn = (n: number): string => (n > 0 ? `${n} ⚠` : "0");

/** The Markdown report: one line per scenario and runtime. */
export function runtimesTable(
  scenarios: RuntimesScenario[],
  m: MachineFacts,
  versions: Record<string, string>,
  s: { rounds: number; durationS: number },
): string {
  const lines = [
    `### The pool and a bare proxy on each runtime`,
    ``,
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.platform}, load average at start ${m.loadavg.join(" ")}. ` +
    `${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(", ")}. ` +
    `Medians of ${s.rounds} round(s) × ${s.durationS} s per target, all targets interleaved; one Node mock upstream, ` +
    `autocannon in the same machine. CPU % is of one core; "other" is the rest of the machine (high = disturbed run). ` +
    `"per core": req/s ÷ the server's own share of a core, which a busy machine skews less than req/s.`,
    ``,
    `| scenario | runtime | bare req/s | pool req/s | **pool / bare** | pool / Node pool | bare / Node bare | ` +
    `per core bare / pool | pool / bare per core | pool / Node pool per core | ` +
    `pool p50 / p99 ms | CPU % bare / pool | CPU % other (bare / pool) | non2xx + errors |`,
    `|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const sc of scenarios) {
    for (const r of sc.rows) {
      const cells = [
        sc.name,
        r.runtime,
        fmt(r.bare.rps),
        fmt(r.pool.rps),
        `**${r.poolVsBarePct} %**`,
        pct(r.poolVsNodePoolPct),
        pct(r.bareVsNodeBarePct),
        `${fmt(r.bare.perCore)} / ${fmt(r.pool.perCore)}`,
        `${r.poolVsBarePerCorePct} %`,
        pct(r.poolVsNodePoolPerCorePct),
        `${r.pool.p50} / ${r.pool.p99}`,
        `${r.bare.cpu.proxy} / ${r.pool.cpu.proxy}`,
        `${r.bare.cpu.other} / ${r.pool.cpu.other}`,
        `${warn(r.bare.non2xx + r.bare.errors)} / ${warn(r.pool.non2xx + r.pool.errors)}`,
      ];
      lines.push(`| ${cells.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}
