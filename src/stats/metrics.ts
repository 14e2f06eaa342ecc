/**
 * Process-local metrics in the Prometheus text format: requests by provider/model/status,
 * upstream latency and pool overhead histograms, keys by state, open streams.
 * @module
 */

/** Histogram bucket bounds in seconds, from 0.1 ms (pool overhead) to 60 s (slow first tokens). */
const BUCKETS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];

/** Most distinct (provider, model, status) series; beyond it models are counted as "other". */
const MAX_SERIES = 2000;

class Histogram {
  counts = new Array<number>(BUCKETS.length).fill(0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < BUCKETS.length; i++) {
      if (seconds <= BUCKETS[i]) {
        this.counts[i]++;
        return;
      }
    }
  }

  render(name: string, labels: string): string[] {
    const lines: string[] = [];
    let cumulative = 0;
    const sep = labels ? "," : "";
    BUCKETS.forEach((le, i) => {
      cumulative += this.counts[i];
      lines.push(`${name}_bucket{${labels}${sep}le="${le}"} ${cumulative}`);
    });
    lines.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${this.count}`);
    lines.push(`${name}_sum{${labels}} ${this.sum}`, `${name}_count{${labels}} ${this.count}`);
    return lines;
  }
}

/** Escapes a Prometheus label value. */
const label = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** The pool's metrics. */
export class Metrics {
  #requests = new Map<string, number>();
  #upstream = new Map<string, Histogram>();
  #overhead = new Histogram();
  #openStreams = 0;
  /** Usage values ignored as not sane, by provider (one series per configured provider). */
  #usageRejected = new Map<string, number>();

  /** A finished client request. */
  request(provider: string, model: string | undefined, status: number): void {
    let key = `provider="${label(provider)}",model="${label(model ?? "")}",status="${status}"`;
    if (!this.#requests.has(key) && this.#requests.size >= MAX_SERIES) {
      key = `provider="${label(provider)}",model="other",status="${status}"`;
    }
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  /** Time from sending an attempt to its response headers (or its failure). */
  upstream(provider: string, ms: number): void {
    let h = this.#upstream.get(provider);
    if (!h) this.#upstream.set(provider, h = new Histogram());
    h.observe(ms / 1000);
  }

  /** Time the pool itself spent on a request, upstream waits excluded. */
  overhead(ms: number): void {
    this.#overhead.observe(ms / 1000);
  }

  /** `n` usage values an upstream reported were not sane token counts and were ignored. */
  usageRejected(provider: string, n: number): void {
    this.#usageRejected.set(provider, (this.#usageRejected.get(provider) ?? 0) + n);
  }

  streamOpened(): void {
    this.#openStreams++;
  }

  streamClosed(): void {
    this.#openStreams--;
  }

  /** The text exposition; `keys` gives the current key counts per provider. */
  render(keys: Record<string, { active: number; cooling: number; disabled: number }>): string {
    const out: string[] = [
      "# HELP pool_requests_total Client requests by provider, model and final HTTP status.",
      "# TYPE pool_requests_total counter",
    ];
    for (const [k, v] of this.#requests) out.push(`pool_requests_total{${k}} ${v}`);
    out.push("# HELP pool_upstream_latency_seconds Time from sending an upstream attempt to its response headers.");
    out.push("# TYPE pool_upstream_latency_seconds histogram");
    for (const [p, h] of this.#upstream) {
      out.push(...h.render("pool_upstream_latency_seconds", `provider="${label(p)}"`));
    }
    out.push("# HELP pool_overhead_seconds Time spent in the pool per request, upstream waits excluded.");
    out.push("# TYPE pool_overhead_seconds histogram");
    out.push(...this.#overhead.render("pool_overhead_seconds", ""));
    out.push("# HELP pool_keys Upstream keys by provider and state.", "# TYPE pool_keys gauge");
    for (const [p, c] of Object.entries(keys)) {
      for (const state of ["active", "cooling", "disabled"] as const) {
        out.push(`pool_keys{provider="${label(p)}",state="${state}"} ${c[state]}`);
      }
    }
    out.push(
      "# HELP pool_usage_values_rejected_total Upstream usage values ignored as not a sane token count (a non-negative integer below 1e9).",
    );
    out.push("# TYPE pool_usage_values_rejected_total counter");
    for (const [p, n] of this.#usageRejected) out.push(`pool_usage_values_rejected_total{provider="${label(p)}"} ${n}`);
    out.push("# HELP pool_open_streams Streamed answers in flight.", "# TYPE pool_open_streams gauge");
    out.push(`pool_open_streams ${this.#openStreams}`);
    return `${out.join("\n")}\n`;
  }
}
