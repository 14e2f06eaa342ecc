/**
 * One round of bench/streams.ts: N streaming requests over raw node:http (a socket per stream,
 * which stays cheap at 1,000), started evenly over a ramp, with the target's RSS sampled from
 * /proc every 100 ms while every stream is open, and the CPU of each process meanwhile.
 * @module
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import { cpuMeter, median, type RequestSpec, round1 } from "./load.ts";
import { rssKb } from "./rss.ts";

/** One round of one target. */
export interface Round {
  target: string;
  ttfbP50: number;
  ttfbP99: number;
  /** First request sent → last stream ended, s. */
  totalS: number;
  /** Streams that did not end with `data: [DONE]`, plus errors and non-200s. */
  failed: number;
  /** RSS of `pid` just before the round, MB. */
  idleMb: number;
  /** Median and highest RSS sample while all N streams were open, MB; undefined when never all open. */
  openMb?: number;
  openMaxMb?: number;
  /** (median open − idle) ÷ N, KB. */
  kbPerStream?: number;
  /** RSS samples that fell in the all-open window (100 ms apart). */
  samples: number;
  /** Percent of one core per process, plus `softirq` (the kernel's loopback TCP work, ours) and `other`. */
  cpu: Record<string, number>;
}

/** Options of {@link runRound}. */
export interface RoundOptions {
  target: string;
  spec: RequestSpec;
  /** Whose RSS to sample (the proxy; the mock for direct). */
  pid: number;
  /** Processes whose CPU to report. */
  pids: Record<string, number>;
  streams: number;
  rampMs: number;
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const r2 = (x: number): number => Math.round(x * 100) / 100;

/** irq + softirq seconds of all CPUs (fields 6 and 7 of /proc/stat's first line). */
function irqSeconds(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[5] + f[6]) / 100;
}

/** Sends the streams, samples RSS, resolves when every stream ended. */
export async function runRound(o: RoundOptions): Promise<Round> {
  const n = o.streams;
  const url = new URL(o.spec.url);
  // keep-alive off: a socket per stream, closed at its end, so none lingers into the next round.
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const ttfb: number[] = [];
  let failed = 0;
  let open = 0; // streams that have their first byte and have not ended
  let ended = 0;
  const idleKb = median([rssKb(o.pid), rssKb(o.pid), rssKb(o.pid)]);
  const openSamples: number[] = [];
  const sampler = setInterval(() => {
    if (open === n) openSamples.push(rssKb(o.pid)); // every stream open at once: the figure we want
  }, 100);
  const cpu = cpuMeter(o.pids);
  const irq0 = irqSeconds();
  const t0 = performance.now();
  let lastEnd = t0;

  const one = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      let first = true;
      let tail = "";
      const finish = (ok: boolean): void => {
        if (!first) open--;
        if (!ok) failed++;
        ended++;
        lastEnd = performance.now();
        resolve();
      };
      const req = http.request({
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: o.spec.headers,
      }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          res.on("end", () => finish(false));
          return;
        }
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          if (first) {
            first = false;
            open++;
            ttfb.push(performance.now() - start);
          }
          tail = (tail + d).slice(-64); // only the end matters: a whole stream ends with [DONE]
        });
        res.on("end", () => finish(tail.includes("data: [DONE]")));
        res.on("error", () => finish(false));
      });
      req.on("error", () => finish(false));
      req.end(o.spec.body);
    });

  const all: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    // As bench/paced.ts: each tick sends every stream that is due, so starts stay evenly spread.
    const tick = (): void => {
      const due = Math.min(n, Math.floor(((performance.now() - t0) / o.rampMs) * n) + 1);
      while (all.length < due) all.push(one());
      if (all.length < n) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(all);
  clearInterval(sampler);
  const wall = (performance.now() - t0) / 1000;
  const usage = cpu();
  // Loopback TCP is processed in softirq context, billed to no process: cpuMeter counts it as
  // "other". Split it out, so "other" means other jobs on the machine.
  const softirq = round1(((irqSeconds() - irq0) / wall) * 100);
  usage.softirq = softirq;
  if (usage.other !== undefined) usage.other = round1(Math.max(0, usage.other - softirq));
  agent.destroy();
  ttfb.sort((a, b) => a - b);
  const openKb = openSamples.length ? median(openSamples) : undefined;
  return {
    target: o.target,
    failed: failed + (n - ended),
    ttfbP50: r2(pct(ttfb, 50)),
    ttfbP99: r2(pct(ttfb, 99)),
    totalS: r2((lastEnd - t0) / 1000),
    idleMb: round1(idleKb / 1024),
    openMb: openKb === undefined ? undefined : round1(openKb / 1024),
    openMaxMb: openSamples.length ? round1(Math.max(...openSamples) / 1024) : undefined,
    kbPerStream: openKb === undefined ? undefined : round1((openKb - idleKb) / n),
    samples: openSamples.length,
    cpu: usage,
  };
}
