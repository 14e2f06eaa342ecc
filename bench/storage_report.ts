/**
 * The Markdown report of bench/storage.ts (kept apart so storage.ts stays about running things).
 * @module
 */
import type { Sample } from "./load.ts";
import type { MachineFacts } from "./report.ts";

/** Medians of one backend across rounds; error counts are sums. */
export interface BackendResult {
  backend: string;
  rps: number;
  p50: number;
  p99: number;
  /** rps ÷ the memory backend's rps, percent. */
  vsMemoryPct: number;
  /** Per round: rps ÷ the memory backend's rps in the same round, percent. */
  vsMemoryByRound: number[];
  /** Percent of one core used by this backend's pool process. */
  poolCpu: number;
  /** Percent of one core used by redis-server meanwhile (whichever pool was loaded). */
  redisCpu: number;
  /** Percent of one core used by the Upstash REST stand-in meanwhile (its Redis is in "other"). */
  restCpu: number;
  /** The rest of the machine: Postgres and websockify show up here. */
  otherCpu: number;
  non2xx: number;
  errors: number;
  rounds: Sample[];
}

/** The pool's own request count against what the load generator saw. */
export interface StatsCheck {
  backend: string;
  /** The driver name GET /admin/stats reports: proves which backend the pool really used. */
  storage: string;
  /** 2xx answers the generator received from this pool (probe and warm-up included). */
  seen2xx: number;
  /** Requests the generator wrote, including those cut off when a run's time was up. */
  sent: number;
  /** total_requests after the timed runs (and a 1 s settle), before the fixed-count burst. */
  totalNow: number;
  /** 2xx of the fixed-count burst, and its non-2xx + errors (should be 0). */
  exact2xx: number;
  exactNon2xx: number;
  /** total_requests after the burst and the flush, minus `totalNow`: should equal `exact2xx`. */
  exactDelta: number;
  totalAfterFlush: number;
  successAfterFlush: number;
}

const fmt = (n: number): string => (Number.isNaN(n) ? "?" : n.toLocaleString("en-US"));

export function storageTables(
  results: BackendResult[],
  stats: StatsCheck[],
  m: MachineFacts,
  s: { rounds: number; durationS: number; connections: number },
): string {
  const lines = [
    `### Pool proxy throughput per storage backend`,
    ``,
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), Node ${m.node}, ${m.platform}. Non-stream chat, c=${s.connections}, max rate (autocannon), ` +
    `medians of ${s.rounds} round(s) × ${s.durationS} s per backend, backends interleaved, one pool process per backend on one shared mock. ` +
    `Latencies are autocannon's, whole milliseconds. CPU % is of one core; Postgres, websockify and the Upstash stand-in's Redis are in "other".`,
    ``,
  ];
  if (results.length) {
    lines.push(
      `| backend | req/s | p50 ms | p99 ms | vs memory | vs memory, each round | pool CPU % | redis-server CPU % | upstash REST CPU % | other CPU % | non2xx | errors |`,
      `|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|`,
    );
    for (const r of results) {
      const warn = (n: number): string => (n > 0 ? `${n} ⚠` : "0");
      lines.push(
        `| ${r.backend} | ${fmt(r.rps)} | ${r.p50} | ${r.p99} | **${r.vsMemoryPct} %** | ${
          r.vsMemoryByRound.map((x) => `${x} %`).join(", ")
        } | ${fmt(r.poolCpu)} | ${fmt(r.redisCpu)} | ${fmt(r.restCpu)} | ${fmt(r.otherCpu)} | ${warn(r.non2xx)} | ${
          warn(r.errors)
        } |`,
      );
    }
  }
  if (stats.length) {
    lines.push(
      ``,
      `Statistics check (GET /admin/stats \`total_requests\`). Timed runs: the 2xx the generator received from the pool (probe and warm-up included) ` +
        `and the requests it wrote; the pool's count should lie between them, since a timed run cuts off up to c in-flight requests that the pool may still finish and count. ` +
        `Exact: a burst of a fixed number of requests per pool (none cut off), total_requests read before it and again after the 5 s flush.`,
      ``,
      `| backend | stats driver | timed: 2xx seen | timed: sent | timed: total_requests | in bounds | exact: 2xx | exact: Δ total_requests after flush | match | success_count after flush |`,
      `|---|---|---:|---:|---:|---|---:|---:|---|---:|`,
    );
    for (const c of stats) {
      const inBounds = c.totalNow >= c.seen2xx && c.totalNow <= c.sent ? `✓ (+${c.totalNow - c.seen2xx})` : "✗ ⚠";
      const match = c.exactDelta === c.exact2xx && c.exactNon2xx === 0
        ? "✓"
        : `✗ ⚠ (${c.exactDelta - c.exact2xx}, non2xx/errors ${c.exactNon2xx})`;
      lines.push(
        `| ${c.backend} | ${c.storage} | ${fmt(c.seen2xx)} | ${fmt(c.sent)} | ${fmt(c.totalNow)} | ${inBounds} | ${
          fmt(c.exact2xx)
        } | ${fmt(c.exactDelta)} | ${match} | ${fmt(c.successAfterFlush)} |`,
      );
    }
  }
  return lines.join("\n");
}
