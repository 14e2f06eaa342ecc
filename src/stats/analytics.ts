/**
 * What the dashboard's Analytics tab draws, read from the counters (never from the request log,
 * so its cost does not grow with traffic): the last 24 hours per hour (requests, errors, tokens,
 * latency p50/p95), errors by reason, the client tokens and users that spent the most tokens,
 * and the keys by state.
 * @module
 */
import type { KeyCounts } from "../keys/key_pool.ts";
import type { PoolState } from "../state.ts";
import type { Counters } from "../store/counters.ts";
import { LATENCY_BUCKETS_MS, quantile } from "./latency.ts";
import { dayAndHour, statsRecord } from "./names.ts";

/** Most client tokens whose counters one Analytics view reads (one batched read). */
const MAX_TOKENS_READ = 5_000;
/** Rows of each ranking. */
const TOP = 10;

export interface AnalyticsHour {
  /** ISO start of the hour. */
  hour: string;
  requests: number;
  errors: number;
  tokens: number;
  /** Upper bucket edges in ms; undefined without requests. */
  p50?: number;
  p95?: number;
}

export interface Analytics {
  provider: string;
  hourly: AnalyticsHour[];
  /** Failed requests of the last 24 hours by error code, most first. */
  errorsByReason: Array<{ reason: string; count: number }>;
  topTokens: Array<{ name: string; tokens: number }>;
  topUsers: Array<{ user: string; tokens: number }>;
  keys: KeyCounts;
}

/** Adds up "<reason>|<HH>" fields over the given (record, hour) pairs. */
function sumByReason(hours: Array<[Counters, string]>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [rec, hh] of hours) {
    for (const f in rec) {
      const bar = f.lastIndexOf("|");
      if (f.slice(bar + 1) !== hh) continue;
      const reason = f.slice(0, bar);
      out.set(reason, (out.get(reason) ?? 0) + rec[f]);
    }
  }
  return out;
}

/** The Analytics view of one provider at `now`. */
export async function analytics(state: PoolState, provider: string): Promise<Analytics> {
  const now = state.options.now();
  const [yesterday] = dayAndHour(now - 86_400_000);
  const [today] = dayAndHour(now);
  const tokens = state.tokens.list().slice(0, MAX_TOKENS_READ);
  const [d0, d1, e0, e1, ...perToken] = await state.stats.read([
    statsRecord.day(provider, yesterday),
    statsRecord.day(provider, today),
    statsRecord.dayErrors(provider, yesterday),
    statsRecord.dayErrors(provider, today),
    ...tokens.map((t) => statsRecord.token(t.id)),
  ]);
  const hourly: AnalyticsHour[] = [];
  const errorHours: Array<[Counters, string]> = [];
  for (let i = 23; i >= 0; i--) {
    const at = now - i * 3_600_000;
    const [day, hh] = dayAndHour(at);
    const rec = day === today ? d1 : d0;
    errorHours.push([day === today ? e1 : e0, hh]);
    const hist = LATENCY_BUCKETS_MS.map((_, b) => rec[`lat${b}|${hh}`] ?? 0);
    const requests = rec[`requests|${hh}`] ?? 0;
    hourly.push({
      hour: new Date(at - (at % 3_600_000)).toISOString(),
      requests,
      errors: requests - (rec[`success|${hh}`] ?? 0),
      tokens: rec[`tokens|${hh}`] ?? 0,
      p50: quantile(hist, 0.5),
      p95: quantile(hist, 0.95),
    });
  }
  const errorsByReason = [...sumByReason(errorHours)]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1))
    .slice(0, TOP);
  // Client tokens of this provider's traffic and others alike: token counters are per token.
  const spent = tokens.map((t, i) => ({
    t,
    tokens: (perToken[i].promptTokens ?? 0) + (perToken[i].completionTokens ?? 0),
  }));
  const topTokens = spent.filter((x) => x.tokens > 0).sort((a, b) => b.tokens - a.tokens).slice(0, TOP)
    .map((x) => ({ name: x.t.name, tokens: x.tokens }));
  const byUser = new Map<string, number>();
  for (const x of spent) {
    if (x.t.userId && x.tokens > 0) byUser.set(x.t.userId, (byUser.get(x.t.userId) ?? 0) + x.tokens);
  }
  const topUsers = [...byUser].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([user, tokens]) => ({ user, tokens }));
  return { provider, hourly, errorsByReason, topTokens, topUsers, keys: state.keys.pool(provider).counts() };
}
