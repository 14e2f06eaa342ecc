/**
 * The dashboard's Analytics charts, rendered on the server from the counters (stats/analytics.ts):
 * requests and errors, tokens and latency per hour over the last 24 hours, errors by reason,
 * the biggest spenders, and the keys by state.
 * @module
 */
import type { Child } from "hono/jsx";
import type { Analytics } from "../../stats/analytics.ts";
import { Lines, num, Ranking, type Slot, StackedBars } from "../charts.tsx";

const hourLabel = (iso: string): string => iso.slice(11, 16);
const hourTitle = (iso: string): string => `${iso.slice(0, 13).replace("T", " ")}:00 UTC`;
const ms = (n: number): string => (n >= 1000 ? `${num(Math.round(n / 100) / 10)} s` : `${num(n)} ms`);

export function AnalyticsCharts(p: { a: Analytics; base: string }): Child {
  const { a } = p;
  const requests: Slot[] = a.hourly.map((h) => ({
    label: hourLabel(h.hour),
    title: `${hourTitle(h.hour)}: ${num(h.requests)} requests, ${num(h.errors)} not successful`,
    values: [h.requests - h.errors, h.errors],
  }));
  const tokens: Slot[] = a.hourly.map((h) => ({
    label: hourLabel(h.hour),
    title: `${hourTitle(h.hour)}: ${num(h.tokens)} tokens`,
    values: [h.tokens],
  }));
  const latency = a.hourly.map((h) => ({
    label: hourLabel(h.hour),
    title: h.p50 === undefined
      ? `${hourTitle(h.hour)}: no requests`
      : `${hourTitle(h.hour)}: p50 ≤ ${ms(h.p50)}, p95 ≤ ${ms(h.p95!)}`,
    values: [h.p50, h.p95],
  }));
  const k = a.keys;
  const logLink = (status: string) => `${p.base}/?tab=logs&provider=${encodeURIComponent(a.provider)}&status=${status}`;
  return (
    <section class="charts">
      <h2>Last 24 hours</h2>
      <div class="grid wide">
        <div class="card chart">
          <h3>
            Requests{" "}
            <span class="legend">
              <i class="bar-ok" /> succeeded <i class="bar-bad" /> not
            </span>
          </h3>
          <StackedBars
            slots={requests}
            classes={["bar-ok", "bar-bad"]}
            label={`Requests per hour: ${num(a.hourly.reduce((s, h) => s + h.requests, 0))} in 24 hours`}
          />
        </div>
        <div class="card chart">
          <h3>Tokens</h3>
          <StackedBars
            slots={tokens}
            classes={["bar-tok"]}
            label={`Tokens per hour: ${num(a.hourly.reduce((s, h) => s + h.tokens, 0))} in 24 hours`}
          />
        </div>
        <div class="card chart">
          <h3>
            Latency{" "}
            <span class="legend">
              <i class="line-p50" /> p50 <i class="line-p95" /> p95
            </span>
          </h3>
          <Lines
            slots={latency}
            classes={["line-p50", "line-p95"]}
            format={ms}
            label="Request duration per hour, p50 and p95 (upper bucket edges)"
          />
          <p class="legend">
            Until the answer was complete (streams too); each point is the upper edge of a histogram bucket.
          </p>
        </div>
        <div class="card chart">
          <h3>
            Errors by reason <a class="muted" href={logLink("4xx")}>4xx in the log</a> ·{" "}
            <a class="muted" href={logLink("5xx")}>5xx</a>
          </h3>
          <Ranking
            rows={a.errorsByReason.map((e) => ({ label: e.reason, value: e.count }))}
            cls="bar-bad"
            label="Failed requests by error code, last 24 hours"
            empty="No failed requests in the last 24 hours."
          />
        </div>
        <div class="card chart">
          <h3>Top client tokens by tokens</h3>
          <Ranking
            rows={a.topTokens.map((t) => ({ label: t.name, value: t.tokens }))}
            cls="bar-tok"
            label="Client tokens that used the most tokens"
            empty="No tokens used yet."
          />
        </div>
        <div class="card chart">
          <h3>Top users by tokens</h3>
          <Ranking
            rows={a.topUsers.map((u) => ({ label: u.user, value: u.tokens }))}
            cls="bar-tok"
            label="Users whose tokens used the most tokens"
            empty="No user tokens used yet."
          />
        </div>
        <div class="card chart">
          <h3>Keys by state</h3>
          <Ranking
            rows={[
              { label: "active", value: k.active, cls: "bar-ok" },
              { label: "resting", value: k.cooling, cls: "bar-warn" },
              { label: "disabled", value: k.disabled, cls: "bar-bad" },
            ]}
            label={`Keys: ${num(k.active)} active, ${num(k.cooling)} resting, ${num(k.disabled)} disabled of ${
              num(k.total)
            }`}
            empty="No keys."
          />
        </div>
      </div>
    </section>
  );
}
