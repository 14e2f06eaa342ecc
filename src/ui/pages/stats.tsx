/**
 * The public stats page: totals, success rate, top models and the last 24 hours as an SVG bar
 * chart drawn on the server. No script at all; it reloads itself every 30 seconds. Every name
 * in it is escaped by JSX.
 * @module
 */
import type { Child } from "hono/jsx";
import type { PublicStats } from "../../routes/public.ts";
import { Layout } from "../layout.tsx";

const W = 720;
const H = 220;
const PAD = { left: 44, right: 8, top: 10, bottom: 28 };

const num = (n: number): string => n.toLocaleString("en-US");
const round2 = (v: number): number => Math.round(v * 100) / 100;

/** A round axis maximum at or above `n` (1, 2 or 5 times a power of ten). */
function niceMax(n: number): number {
  if (n <= 2) return 2;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

/** Hourly requests, stacked: succeeded below, failed above. */
export function HourlyChart(p: { hourly: PublicStats["hourly"] }): Child {
  const max = niceMax(Math.max(0, ...p.hourly.map((h) => h.requests)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / p.hourly.length;
  const y = (v: number) => round2(PAD.top + plotH - (v / max) * plotH);
  const total = p.hourly.reduce((s, h) => s + h.requests, 0);
  return (
    <svg
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`Requests per hour over the last 24 hours: ${num(total)} in total`}
    >
      {[0, 0.5, 1].filter((f) => Number.isInteger(max * f)).map((f) => (
        <g>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(max * f)} y2={y(max * f)} />
          <text x={PAD.left - 6} y={y(max * f) + 3} text-anchor="end">{num(max * f)}</text>
        </g>
      ))}
      {p.hourly.map((h, i) => {
        const x = round2(PAD.left + i * slot + slot * 0.15);
        const w = round2(slot * 0.7);
        const other = Math.max(0, h.requests - h.success); // failures and client errors
        const label = `${h.hour.slice(0, 13).replace("T", " ")}:00 UTC: ${num(h.requests)} requests, ${
          num(h.success)
        } succeeded, ${num(other)} not`;
        return (
          <g>
            <title>{label}</title>
            <rect class="bar-ok" x={x} width={w} y={y(h.success)} height={y(0) - y(h.success)} />
            <rect class="bar-bad" x={x} width={w} y={y(h.requests)} height={y(h.success) - y(h.requests)} />
            {i % 3 === 0
              ? <text x={round2(x + w / 2)} y={H - 10} text-anchor="middle">{h.hour.slice(11, 16)}</text>
              : null}
          </g>
        );
      })}
    </svg>
  );
}

const ModelTable = (p: { rows: PublicStats["top_models"]; caption: string }): Child => (
  <div class="table-wrap">
    <table>
      <caption class="muted">{p.caption}</caption>
      <thead>
        <tr>
          <th>Model</th>
          <th class="num">Requests</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.length === 0
          ? (
            <tr>
              <td colspan={2} class="muted">No requests yet.</td>
            </tr>
          )
          : null}
        {p.rows.map((m) => (
          <tr>
            <td class="model">{m.model}</td>
            <td class="num">{num(m.requests)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

export function StatsPage(p: { base: string; stats: PublicStats; providers: string[] }): Child {
  const s = p.stats;
  const cards: Array<[string, string]> = [
    ["requests", num(s.total_requests)],
    ["success rate", `${s.success_rate.toFixed(1)} %`],
    ["tokens", num(s.total_tokens)],
    ["keys active", `${num(s.keys.active)} of ${num(s.keys.total)}`],
  ];
  return (
    <Layout title="Usage" base={p.base} refreshSeconds={30}>
      <main data-base={p.base}>
        <div class="row">
          <h1>Usage</h1>
          {p.providers.map((id) => (id === s.provider
            ? <strong>{id}</strong>
            : <a href={`${p.base}/stats?provider=${encodeURIComponent(id)}`}>{id}</a>)
          )}
        </div>
        <div class="grid">
          {cards.map(([l, v]) => (
            <div class="metric">
              <div class="v">{v}</div>
              <div class="l">{l}</div>
            </div>
          ))}
        </div>
        <h2>Last 24 hours</h2>
        <div class="card chart">
          <HourlyChart hourly={s.hourly} />
        </div>
        <div class="grid">
          <div class="card">
            <ModelTable rows={s.top_models} caption="Top models" />
          </div>
          <div class="card">
            <ModelTable rows={s.top_models_24h} caption="Top models, last 24 hours" />
          </div>
        </div>
        <p class="muted">
          Updated {s.timestamp.replace("T", " ").slice(0, 19)} UTC · refreshes every 30 s ·{" "}
          <a href={`${p.base}/admin/public-stats?provider=${encodeURIComponent(s.provider)}`}>JSON</a>
        </p>
      </main>
    </Layout>
  );
}
