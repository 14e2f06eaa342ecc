/**
 * One autocannon measurement against one target, plus the CPU each process burned meanwhile.
 * On a 2-core machine the load generator competes with the servers, so the CPU shares are
 * what tell a throughput ceiling of the proxy apart from one of the machine.
 * @module
 */
import autocannon from "autocannon";
import { cpuSeconds, machineBusySeconds } from "./procs.ts";

/** What one request looks like. */
export interface RequestSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** One measurement. */
export interface Sample {
  rps: number;
  p50: number;
  p99: number;
  /** Responses received. */
  requests: number;
  /** Requests written, including those still in flight when the run stopped. */
  sent: number;
  non2xx: number;
  /** Connection errors, resets and timeouts together: any of them means a broken run. */
  errors: number;
  /** Status code -> count, to explain a non-zero `non2xx`. */
  statuses: Record<string, number>;
  /**
   * Percent of one core used during the run, per process name (`loadgen` is this process);
   * `other` is everything else on the machine: when it is high, the run was disturbed.
   */
  cpu: Record<string, number>;
}

/**
 * Starts counting CPU for the given processes and this one; the returned function gives the
 * percent of one core each used since, plus `other` (the rest of the machine).
 */
export function cpuMeter(pids: Record<string, number>): () => Record<string, number> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const busy0 = machineBusySeconds();
  const self = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  return () => {
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu: Record<string, number> = {};
    for (const [k, pid] of Object.entries(pids)) {
      const a = before[k];
      const b = cpuSeconds(pid);
      if (a !== undefined && b !== undefined) cpu[k] = round1(((b - a) / wall) * 100);
    }
    const own = process.cpuUsage(self);
    cpu.loadgen = round1(((own.user + own.system) / 1e6 / wall) * 100);
    const busy1 = machineBusySeconds();
    if (busy0 !== undefined && busy1 !== undefined) {
      const ours = Object.values(cpu).reduce((a, b) => a + b, 0);
      cpu.other = round1(Math.max(0, ((busy1 - busy0) / wall) * 100 - ours));
    }
    return cpu;
  };
}

/**
 * Runs autocannon for `durationS` seconds with `connections` keep-alive connections, or, with
 * `amount`, until that many requests are answered (no request cut off at the end: exact counts).
 */
export async function measure(
  spec: RequestSpec,
  connections: number,
  durationS: number,
  pids: Record<string, number>,
  amount?: number,
): Promise<Sample> {
  const cpu = cpuMeter(pids);
  const r = await autocannon({
    url: spec.url,
    method: "POST",
    headers: spec.headers,
    body: spec.body,
    connections,
    ...(amount ? { amount } : { duration: durationS }),
    pipelining: 1, // real clients do not pipeline HTTP/1.1; the pool would not benefit either
    timeout: 10,
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    sent: r.requests.sent,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts + r.resets,
    statuses: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, s]) => [code, s.count])),
    cpu: cpu(),
  };
}

/**
 * Waits until the rest of the machine is quiet: other jobs on a 2-core box (a test suite, a
 * build) steal CPU from whichever target runs at that moment and skew its ratio. Our servers
 * are idle between measurements, so busy CPU now is someone else's. Gives up after `maxWaitMs`
 * (the "other" CPU column then shows the disturbance); returns how long it waited.
 */
export async function waitQuiet(maxWaitMs = 60_000, maxBusyPct = 15): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const a = machineBusySeconds();
    await new Promise((r) => setTimeout(r, 500));
    const b = machineBusySeconds();
    if (a === undefined || b === undefined) return 0; // not Linux: cannot tell
    const busy = ((b - a) / 0.5) * 100;
    const waited = Date.now() - t0;
    if (busy <= maxBusyPct) {
      if (waited > 1000) {
        console.log(`  (waited ${Math.round(waited / 1000)} s for other CPU work on the machine to stop)`);
      }
      return waited;
    }
    if (waited >= maxWaitMs) {
      console.log(
        `  (machine still busy at ${Math.round(busy)} % of a core after ${
          Math.round(waited / 1000)
        } s; measuring anyway)`,
      );
      return waited;
    }
  }
}

/**
 * Runs one measurement once the machine is quiet, and again (at most `retries` times) when
 * other processes still took more than `maxOtherPct` of a core during it: a disturbed run
 * would skew one target's numbers against the others'. Returns the last run.
 */
export async function quietly<T extends { cpu: Record<string, number> }>(
  label: string,
  once: () => Promise<T>,
  retries = 4,
  maxOtherPct = 25,
): Promise<T> {
  for (let i = 0;; i++) {
    await waitQuiet();
    const s = await once();
    const other = s.cpu.other ?? 0;
    if (other <= maxOtherPct || i >= retries) return s;
    console.log(`  (${label}: other processes used ${other} % of a core meanwhile; measuring again)`);
  }
}

/** One plain request to check a target answers 200 with the expected body before loading it. */
export async function probe(spec: RequestSpec, stream: boolean): Promise<string | undefined> {
  const res = await fetch(spec.url, { method: "POST", headers: spec.headers, body: spec.body });
  const text = await res.text();
  if (res.status !== 200) return `HTTP ${res.status}: ${text.slice(0, 300)}`;
  // A 200 with the wrong shape (e.g. a buffered stream, an error page) would make the numbers meaningless.
  if (stream ? !text.includes("data: [DONE]") : !text.includes('"chat.completion"')) {
    return `unexpected ${stream ? "stream" : "JSON"} body: ${text.slice(0, 300)}`;
  }
  return undefined;
}

/** The median; the middle of an odd count, the mean of the two middles otherwise. */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Rounds to one decimal. */
export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
