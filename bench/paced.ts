/**
 * An open-loop, fixed-rate load generator for latency at a moderate load.
 *
 * Why not autocannon's `overallRate`: autocannon gives each connection a per-second budget that
 * it spends back-to-back at the start of every second (all connections' timers are aligned), so
 * "1,000 req/s" arrives as a 1,000-request burst in the first ~100-300 ms of each second, and the
 * latencies are those of a saturated burst. On the mock alone that reads p50 4 ms / p99 24 ms,
 * against ~0.3 ms when the same load is spread evenly. Its rate mode also applies a coordinated-
 * omission correction with a fixed 1 ms interval, which inflates p99 further (91 ms in that run),
 * and its histogram records whole milliseconds.
 *
 * Here request i is sent at t0 + i/rate whatever the answers are (open loop), on connection
 * i mod N (one undici Client per connection, so all N keep-alive sockets carry traffic; a
 * request whose socket is still busy waits for it, and that wait counts). Latency is from
 * `request()` to the last body byte, in microsecond precision (performance.now()). The send lag
 * of this process behind the schedule is reported, so a generator that fell behind is visible.
 * @module
 */
import { Client } from "undici";
import { cpuMeter, type RequestSpec, round1 } from "./load.ts";

/** One fixed-rate measurement; times in ms with µs precision. */
export interface PacedSample {
  /** Requests per second actually completed in the measured window. */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Measured requests (the warm-up part is sent but not counted). */
  requests: number;
  non2xx: number;
  /** Connection errors, timeouts and 200s whose body lacks the expected marker. */
  errors: number;
  statuses: Record<string, number>;
  /** p99 of how late this process sent a request against its schedule, ms. */
  sendLagP99: number;
  cpu: Record<string, number>;
}

/** Options of {@link measurePaced}. */
export interface PacedOptions {
  rate: number;
  connections: number;
  durationS: number;
  /** Sent at the same rate before the measured window: connects the sockets, not counted. */
  warmupS: number;
  /** A substring every 200 body must contain (catches truncated streams). */
  expect: string;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Nearest-rank percentile of an ascending array. */
function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Sends `rate` req/s for warm-up + duration and reports the measured window. */
export async function measurePaced(
  spec: RequestSpec,
  o: PacedOptions,
  pids: Record<string, number>,
): Promise<PacedSample> {
  const url = new URL(spec.url);
  const path = url.pathname + url.search;
  // Fresh connections per measurement: sockets left idle while other targets ran may have been
  // closed by the server's keep-alive timeout, and a reconnect would land in someone's numbers.
  const clients = Array.from(
    { length: o.connections },
    () => new Client(url.origin, { pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 }),
  );
  const intervalMs = 1000 / o.rate;
  const total = Math.round(o.rate * (o.warmupS + o.durationS));
  const firstMeasured = Math.round(o.rate * o.warmupS);
  const latencies: number[] = [];
  const lags: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let non2xx = 0;
  let lastEnd = 0;
  const inflight = new Set<Promise<void>>();
  let cpu: (() => Record<string, number>) | undefined;
  let windowStart = 0;

  const fire = (i: number, due: number): void => {
    const start = performance.now();
    const measured = i >= firstMeasured;
    if (i === firstMeasured) {
      cpu = cpuMeter(pids); // CPU of the measured window only
      windowStart = start;
    }
    if (measured) lags.push(start - due);
    const p = clients[i % o.connections]
      .request({ path, method: "POST", headers: spec.headers, body: spec.body })
      .then(async (res) => {
        const text = await res.body.text();
        const end = performance.now();
        if (!measured) return;
        lastEnd = Math.max(lastEnd, end);
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
        else if (!text.includes(o.expect)) errors++;
        else latencies.push(end - start);
      })
      .catch(() => {
        if (measured) errors++;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };

  const t0 = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    // setTimeout fires about every 1 ms at best: each tick sends everything that is due, so
    // at 1,000 req/s the requests leave one or two at a time, never in bursts.
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - t0) / intervalMs) + 1);
      for (; i < due; i++) fire(i, t0 + i * intervalMs);
      if (i < total) setTimeout(tick, Math.max(0, t0 + i * intervalMs - performance.now()));
      else resolve();
    };
    tick();
  });
  await Promise.all(inflight);
  const usage = cpu?.() ?? {};
  await Promise.all(clients.map((c) => c.close()));

  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  const requests = total - firstMeasured;
  return {
    rps: Math.round(requests / ((lastEnd - windowStart) / 1000)),
    p50: round3(pct(latencies, 50)),
    p90: round3(pct(latencies, 90)),
    p99: round3(pct(latencies, 99)),
    max: round3(latencies[latencies.length - 1] ?? NaN),
    requests,
    non2xx,
    errors,
    statuses,
    sendLagP99: round3(pct(lags, 99)),
    cpu: Object.fromEntries(Object.entries(usage).map(([k, v]) => [k, round1(v)])),
  };
}
