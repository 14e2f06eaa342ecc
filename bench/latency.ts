/**
 * The fixed-rate latency scenarios of bench/overhead.ts. At max rate every target is saturated,
 * so its "added p99" is mostly queueing; here all targets get the same moderate offered load
 * (default 1,000 req/s, a fraction of what even the pool sustains), so pool − bare is the
 * pool's own per-request cost. Kept apart from overhead.ts to keep each file readable.
 * @module
 */
import { median, quietly, type RequestSpec } from "./load.ts";
import { measurePaced, type PacedSample } from "./paced.ts";

export const TARGETS = ["direct", "bare", "pool"] as const;
export type Target = (typeof TARGETS)[number];

/** Medians across rounds of one target; error counts are sums. */
export interface LatencySummary {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Worst send lag of the generator across rounds, ms. */
  sendLagP99: number;
  cpu: Record<string, number>;
  rounds: PacedSample[];
}

/** One latency scenario. */
export interface LatencyScenario {
  name: string;
  stream: boolean;
  connections: number;
  rate: number;
  targets: Record<Target, LatencySummary>;
  /** Median pool p50 − median bare p50, ms. */
  addedP50Ms: number;
  /** Median pool p99 − median bare p99, ms. */
  addedP99Ms: number;
}

/** How to run them; `check` throws when a server died (so we stop measuring a corpse). */
export interface LatencyPlan {
  specs(stream: boolean): Record<Target, RequestSpec>;
  expect(stream: boolean): string;
  pids: Record<string, number>;
  rate: number;
  rounds: number;
  durationS: number;
  warmupS: number;
  check(where: string): void;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function summarize(samples: PacedSample[]): LatencySummary {
  const procs = [...new Set(samples.flatMap((s) => Object.keys(s.cpu)))];
  const med = (f: (s: PacedSample) => number): number => r3(median(samples.map(f)));
  return {
    rps: Math.round(median(samples.map((s) => s.rps))),
    p50: med((s) => s.p50),
    p90: med((s) => s.p90),
    p99: med((s) => s.p99),
    non2xx: samples.reduce((n, s) => n + s.non2xx, 0),
    errors: samples.reduce((n, s) => n + s.errors, 0),
    sendLagP99: Math.max(...samples.map((s) => s.sendLagP99)),
    cpu: Object.fromEntries(procs.map((p) => [p, Math.round(median(samples.map((s) => s.cpu[p] ?? 0)) * 10) / 10])),
    rounds: samples,
  };
}

/** Runs non-stream and stream at c=50 and c=200, targets interleaved, appending to `out`. */
export async function runLatencyScenarios(plan: LatencyPlan, out: LatencyScenario[]): Promise<void> {
  for (const stream of [false, true]) {
    for (const connections of [50, 200]) {
      const name = `${stream ? "stream" : "non-stream"} c=${connections} @${plan.rate}/s`;
      const specs = plan.specs(stream);
      const samples: Record<Target, PacedSample[]> = { direct: [], bare: [], pool: [] };
      for (let r = 0; r < plan.rounds; r++) {
        // Rotate the order each round so no target always runs first or last.
        const order = TARGETS.map((_, i) => TARGETS[(i + r) % TARGETS.length]);
        for (const t of order) {
          const options = {
            rate: plan.rate,
            connections,
            durationS: plan.durationS,
            warmupS: plan.warmupS,
            expect: plan.expect(stream),
          };
          const s = await quietly(`${name} ${t}`, () => measurePaced(specs[t], options, plan.pids));
          samples[t].push(s);
          const bad = s.non2xx + s.errors > 0
            ? `  !!! non2xx ${s.non2xx} errors ${s.errors} ${JSON.stringify(s.statuses)}`
            : "";
          console.log(
            `${name.padEnd(26)} round ${r + 1}/${plan.rounds} ${t.padEnd(6)} ${String(s.rps).padStart(5)} req/s  ` +
              `p50 ${s.p50.toFixed(3)}  p90 ${s.p90.toFixed(3)}  p99 ${
                s.p99.toFixed(3)
              } ms  lag p99 ${s.sendLagP99} ms  cpu% ${JSON.stringify(s.cpu)}${bad}`,
          );
          plan.check(`"${name}" ${t} round ${r + 1}`);
        }
      }
      const targets = {
        direct: summarize(samples.direct),
        bare: summarize(samples.bare),
        pool: summarize(samples.pool),
      };
      out.push({
        name,
        stream,
        connections,
        rate: plan.rate,
        targets,
        addedP50Ms: r3(targets.pool.p50 - targets.bare.p50),
        addedP99Ms: r3(targets.pool.p99 - targets.bare.p99),
      });
    }
  }
}

const signed = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(3)}`;

/** The Markdown tables: per-target latencies, then what the pool adds over the bare proxy. */
export function latencyTable(
  scenarios: LatencyScenario[],
  s: { rounds: number; durationS: number; warmupS: number },
): string {
  const lines = [
    `### Latency at a fixed offered load (open loop, evenly paced)`,
    ``,
    `Medians of ${s.rounds} round(s) × ${s.durationS} s (after ${s.warmupS} s unmeasured at the same rate) per target, targets interleaved. ` +
    `Latency = request sent → last body byte, measured by bench/paced.ts in µs precision (shown in ms). ` +
    `"lag" is how late the generator sent against its schedule (p99, worst round); ≈1 ms is Node's timer granularity (requests still leave one or two at a time), ` +
    `many ms would mean the generator was starved. Latency is counted from the actual send, so lag does not enter it.`,
    ``,
    `| scenario | target | req/s | p50 ms | p90 ms | p99 ms | non2xx | errors | lag ms | CPU % proxy / mock / loadgen | CPU % other |`,
    `|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|`,
  ];
  for (const sc of scenarios) {
    for (const t of TARGETS) {
      const r = sc.targets[t];
      const warn = (n: number): string => (n > 0 ? `${n} ⚠` : "0");
      const proxy = t === "direct" ? "–" : String(r.cpu[t] ?? "?");
      lines.push(
        `| ${sc.name} | ${t} | ${r.rps.toLocaleString("en-US")} | ${r.p50.toFixed(3)} | ${r.p90.toFixed(3)} | ${
          r.p99.toFixed(3)
        } | ${warn(r.non2xx)} | ${warn(r.errors)} | ${r.sendLagP99} | ${proxy} / ${r.cpu.mock ?? "?"} / ${
          r.cpu.loadgen ?? "?"
        } | ${r.cpu.other ?? "?"} |`,
      );
    }
  }
  lines.push(``, `| scenario | added p50 (pool − bare) | added p99 (pool − bare) |`, `|---|---:|---:|`);
  for (const sc of scenarios) {
    lines.push(`| ${sc.name} | **${signed(sc.addedP50Ms)} ms** | **${signed(sc.addedP99Ms)} ms** |`);
  }
  return lines.join("\n");
}
