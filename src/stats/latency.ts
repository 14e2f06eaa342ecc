/**
 * Request durations per hour as a histogram of counters (`lat<bucket>|<HH>` in the day record):
 * exact across instances where counters are (Redis, Postgres), one increment per request, and
 * enough for the dashboard's p50/p95 per hour. A percentile is read as the upper edge of the
 * bucket it falls in, so it is an upper estimate within one bucket's width.
 * @module
 */

/** Upper edges of the buckets, in ms; the last bucket is everything slower. */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  50,
  100,
  250,
  500,
  1000,
  2500,
  5000,
  10_000,
  30_000,
  60_000,
  120_000,
  Infinity,
];

/** The bucket a duration falls in. */
export function latencyBucket(ms: number): number {
  let i = 0;
  while (ms > LATENCY_BUCKETS_MS[i]) i++;
  return i;
}

/** The day record's field for a bucket and hour. */
export const latencyField = (bucket: number, hh: string): string => `lat${bucket}|${hh}`;

/**
 * The `q` quantile (0..1) of a histogram, as the upper edge of its bucket (the slowest bucket
 * reports the edge below it, marked by the caller as "more than"); undefined without data.
 */
export function quantile(counts: readonly number[], q: number): number | undefined {
  const total = counts.reduce((s, n) => s + n, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= q * total) {
      return Number.isFinite(LATENCY_BUCKETS_MS[i]) ? LATENCY_BUCKETS_MS[i] : LATENCY_BUCKETS_MS[i - 1];
    }
  }
  return undefined;
}
