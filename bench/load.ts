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
  requests: number;
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

/** Runs autocannon for `durationS` seconds with `connections` keep-alive connections. */
export async function measure(
  spec: RequestSpec,
  connections: number,
  durationS: number,
  pids: Record<string, number>,
): Promise<Sample> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const busy0 = machineBusySeconds();
  const self = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await autocannon({
    url: spec.url,
    method: "POST",
    headers: spec.headers,
    body: spec.body,
    connections,
    duration: durationS,
    pipelining: 1, // real clients do not pipeline HTTP/1.1; the pool would not benefit either
    timeout: 10,
  });
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
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts + r.resets,
    statuses: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, s]) => [code, s.count])),
    cpu,
  };
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
