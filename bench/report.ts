/**
 * Medians across rounds and the Markdown report of the overhead benchmark.
 * @module
 */
import { median, round1, type Sample } from "./load.ts";

/** Medians of one target in one scenario; error counts are sums, since any one is too many. */
export interface TargetSummary {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Median CPU percent of one core per process. */
  cpu: Record<string, number>;
  rounds: Sample[];
}

/** One scenario's results. */
export interface ScenarioResult {
  name: string;
  stream: boolean;
  connections: number;
  /** `portkey` (the peer gateway) is there when it was measured. */
  targets: Record<"direct" | "bare" | "pool", TargetSummary> & { portkey?: TargetSummary };
  /** pool req/s ÷ bare req/s, percent. */
  poolVsBarePct: number;
  /** portkey req/s ÷ bare req/s, percent, when measured. */
  portkeyVsBarePct?: number;
  /** pool p99 − bare p99, ms. */
  addedP99Ms: number;
  /** bare req/s ÷ direct req/s, percent: what any Node proxy hop costs. */
  bareVsDirectPct: number;
}

function summarizeTarget(samples: Sample[]): TargetSummary {
  const procs = [...new Set(samples.flatMap((s) => Object.keys(s.cpu)))];
  return {
    rps: Math.round(median(samples.map((s) => s.rps))),
    p50: round1(median(samples.map((s) => s.p50))),
    p99: round1(median(samples.map((s) => s.p99))),
    non2xx: samples.reduce((n, s) => n + s.non2xx, 0),
    errors: samples.reduce((n, s) => n + s.errors, 0),
    cpu: Object.fromEntries(procs.map((p) => [p, round1(median(samples.map((s) => s.cpu[p] ?? 0)))])),
    rounds: samples,
  };
}

/** Reduces the rounds of one scenario to medians and ratios. */
export function summarize(
  name: string,
  stream: boolean,
  connections: number,
  samples: Record<"direct" | "bare" | "pool", Sample[]> & { portkey?: Sample[] },
): ScenarioResult {
  const targets: ScenarioResult["targets"] = {
    direct: summarizeTarget(samples.direct),
    bare: summarizeTarget(samples.bare),
    pool: summarizeTarget(samples.pool),
  };
  if (samples.portkey?.length) targets.portkey = summarizeTarget(samples.portkey);
  return {
    name,
    stream,
    connections,
    targets,
    poolVsBarePct: round1((targets.pool.rps / targets.bare.rps) * 100),
    portkeyVsBarePct: targets.portkey ? round1((targets.portkey.rps / targets.bare.rps) * 100) : undefined,
    addedP99Ms: round1(targets.pool.p99 - targets.bare.p99),
    bareVsDirectPct: round1((targets.bare.rps / targets.direct.rps) * 100),
  };
}

/** Machine facts printed above the tables. */
export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  loadavg: number[];
}

const fmt = (n: number): string => n.toLocaleString("en-US");

/** The Markdown report: per-target medians, then the pool's overhead over the bare proxy. */
export function table(scenarios: ScenarioResult[], m: MachineFacts, s: { rounds: number; durationS: number }): string {
  const lines = [
    `### Pool overhead over a bare Node reverse proxy`,
    ``,
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), Node ${m.node}, ${m.platform}. ` +
    `Medians of ${s.rounds} round(s) × ${s.durationS} s per target, targets interleaved; autocannon in the same machine. ` +
    `CPU % is of one core; "other" is the rest of the machine, ≈0 on a quiet one (high = disturbed run).`,
    ``,
    `| scenario | target | req/s | p50 ms | p99 ms | non2xx | errors | CPU % proxy / mock / loadgen | CPU % other |`,
    `|---|---|---:|---:|---:|---:|---:|---|---:|`,
  ];
  for (const sc of scenarios) {
    for (const t of ["direct", "bare", "pool", "portkey"] as const) {
      const r = sc.targets[t];
      if (!r) continue;
      const proxy = t === "direct" ? "–" : String(r.cpu[t] ?? "?");
      const warn = (n: number): string => (n > 0 ? `${n} ⚠` : "0");
      lines.push(
        `| ${sc.name} | ${t} | ${fmt(r.rps)} | ${r.p50} | ${r.p99} | ${warn(r.non2xx)} | ${
          warn(r.errors)
        } | ${proxy} / ${r.cpu.mock ?? "?"} / ${r.cpu.loadgen ?? "?"} | ${r.cpu.other ?? "?"} |`,
      );
    }
  }
  // The peer's columns only when it ran, so a run without it reads as before.
  const peer = scenarios.some((sc) => sc.targets.portkey);
  lines.push(
    ``,
    `| scenario | bare / direct req/s | pool / bare req/s | added p99 (pool − bare) |${
      peer ? " portkey req/s | portkey / bare req/s | pool / portkey req/s |" : ""
    }`,
    `|---|---:|---:|---:|${peer ? "---:|---:|---:|" : ""}`,
  );
  for (const sc of scenarios) {
    const pk = sc.targets.portkey;
    const peerCells = !peer
      ? ""
      : pk
      ? ` ${fmt(pk.rps)} | **${sc.portkeyVsBarePct} %** | ${round1((sc.targets.pool.rps / pk.rps) * 100)} % |`
      : " – | – | – |";
    lines.push(
      `| ${sc.name} | ${sc.bareVsDirectPct} % | **${sc.poolVsBarePct} %** | ${
        sc.addedP99Ms >= 0 ? "+" : ""
      }${sc.addedP99Ms} ms |${peerCells}`,
    );
  }
  return lines.join("\n");
}
