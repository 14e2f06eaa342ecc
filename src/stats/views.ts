/** Shapes stored counters into what the stats endpoints show. @module */
import type { Counters } from "../store/counters.ts";
import { dayAndHour, statsRecord, type StatsRecorder } from "./recorder.ts";

/** Success share in percent, two decimals. */
export const rate = (ok: number, all: number): number => (all === 0 ? 0 : Math.round((ok / all) * 10_000) / 100);

/** Splits "metric|name" fields into per-name rows. */
export function byName(fields: Counters): Map<string, Counters> {
  const rows = new Map<string, Counters>();
  for (const [f, v] of Object.entries(fields)) {
    const bar = f.indexOf("|");
    if (bar < 0) continue;
    const name = f.slice(bar + 1);
    let row = rows.get(name);
    if (!row) rows.set(name, row = {});
    row[f.slice(0, bar)] = v;
  }
  return rows;
}

/** One model's counts. */
export interface ModelRow {
  model: string;
  requests: number;
  success: number;
  promptTokens: number;
  completionTokens: number;
}

/** Rows of "metric|name" fields, biggest `requests` first. */
export function topModels(fields: Counters, n: number): ModelRow[] {
  return [...byName(fields)]
    .map(([model, r]) => ({
      model,
      requests: r.requests ?? 0,
      success: r.success ?? 0,
      promptTokens: r.promptTokens ?? 0,
      completionTokens: r.completionTokens ?? 0,
    }))
    .sort((a, b) => b.requests - a.requests || (a.model < b.model ? -1 : 1))
    .slice(0, n);
}

/** One hour of the 24-hour trend. */
export interface HourRow {
  hour: string;
  requests: number;
  success: number;
  failure: number;
  tokens: number;
}

/** What the overview endpoints share: totals, models, the last 24 hours. */
export async function overview(
  stats: StatsRecorder,
  provider: string,
  now: number,
): Promise<{ global: Counters; models: Counters; hourly: HourRow[]; recentModels: Counters }> {
  const [yesterday] = dayAndHour(now - 86_400_000);
  const [today] = dayAndHour(now);
  const [g, m, d0, d1, dm0, dm1] = await stats.read([
    statsRecord.global(provider),
    statsRecord.models(provider),
    statsRecord.day(provider, yesterday),
    statsRecord.day(provider, today),
    statsRecord.dayModels(provider, yesterday),
    statsRecord.dayModels(provider, today),
  ]);
  const hourly: HourRow[] = [];
  for (let i = 23; i >= 0; i--) {
    const at = now - i * 3_600_000;
    const [day, hour] = dayAndHour(at);
    const rec = day === today ? d1 : d0;
    hourly.push({
      hour: new Date(at - (at % 3_600_000)).toISOString(),
      requests: rec[`requests|${hour}`] ?? 0,
      success: rec[`success|${hour}`] ?? 0,
      failure: rec[`failure|${hour}`] ?? 0,
      tokens: rec[`tokens|${hour}`] ?? 0,
    });
  }
  const recent: Counters = { ...dm0 };
  for (const [f, v] of Object.entries(dm1)) recent[f] = (recent[f] ?? 0) + v;
  return { global: g, models: m, hourly, recentModels: recent };
}
