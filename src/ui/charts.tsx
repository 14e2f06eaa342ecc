/**
 * Charts drawn on the server as SVG: no script, nothing from elsewhere, fine under the pages'
 * CSP. Every label goes through JSX, so a hostile model or token name is text, never markup.
 * @module
 */
import type { Child } from "hono/jsx";

const W = 520;
const H = 200;
const PAD = { left: 52, right: 8, top: 10, bottom: 26 };
const plotW = W - PAD.left - PAD.right;
const plotH = H - PAD.top - PAD.bottom;

export const num = (n: number): string => n.toLocaleString("en-US");
const round2 = (v: number): number => Math.round(v * 100) / 100;

/** A round axis maximum at or above `n` (1, 2 or 5 times a power of ten). */
export function niceMax(n: number): number {
  if (n <= 2) return 2;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

/** One slot of a time chart: its axis label (shown every third slot), tooltip and values. */
export interface Slot {
  label: string;
  title: string;
  values: number[];
}

function Axis(p: { max: number; format: (n: number) => string }): Child {
  const y = (v: number) => round2(PAD.top + plotH - (v / p.max) * plotH);
  return (
    <g>
      {[0, 0.5, 1].map((f) => (
        <g>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(p.max * f)} y2={y(p.max * f)} />
          <text x={PAD.left - 6} y={y(p.max * f) + 3} text-anchor="end">{p.format(p.max * f)}</text>
        </g>
      ))}
    </g>
  );
}

/** Stacked bars per slot; `classes[i]` colours `values[i]`, bottom up. */
export function StackedBars(
  p: { slots: Slot[]; classes: string[]; label: string; format?: (n: number) => string },
): Child {
  const format = p.format ?? num;
  const max = niceMax(Math.max(0, ...p.slots.map((s) => s.values.reduce((a, b) => a + b, 0))));
  const slot = plotW / Math.max(1, p.slots.length);
  const y = (v: number) => round2(PAD.top + plotH - (v / max) * plotH);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={p.label}>
      <Axis max={max} format={format} />
      {p.slots.map((s, i) => {
        const x = round2(PAD.left + i * slot + slot * 0.15);
        const w = round2(slot * 0.7);
        let base = 0;
        return (
          <g>
            <title>{s.title}</title>
            {s.values.map((v, k) => {
              const top = base + v;
              const rect = <rect class={p.classes[k]} x={x} width={w} y={y(top)} height={round2(y(base) - y(top))} />;
              base = top;
              return rect;
            })}
            {i % 3 === 0 ? <text x={round2(x + w / 2)} y={H - 8} text-anchor="middle">{s.label}</text> : null}
          </g>
        );
      })}
    </svg>
  );
}

/** Lines over the slots, one per series (`values[i]`, undefined where there is no data). */
export function Lines(
  p: {
    slots: Array<Omit<Slot, "values"> & { values: Array<number | undefined> }>;
    classes: string[];
    label: string;
    format: (n: number) => string;
  },
): Child {
  // Headroom above the highest value, so a flat line does not run along the frame.
  const max = niceMax(1.2 * Math.max(0, ...p.slots.flatMap((s) => s.values.map((v) => v ?? 0))));
  const slot = plotW / Math.max(1, p.slots.length);
  const x = (i: number) => round2(PAD.left + i * slot + slot / 2);
  const y = (v: number) => round2(PAD.top + plotH - (v / max) * plotH);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={p.label}>
      <Axis max={max} format={p.format} />
      {p.classes.map((cls, k) => {
        const pts = p.slots.map((s, i) => (s.values[k] === undefined ? undefined : `${x(i)},${y(s.values[k]!)}`))
          .filter((v) => v !== undefined);
        return pts.length ? <polyline class={cls} fill="none" points={pts.join(" ")} /> : null;
      })}
      {p.slots.map((s, i) => (
        <g>
          <title>{s.title}</title>
          <rect class="hit" x={round2(x(i) - slot / 2)} width={round2(slot)} y={PAD.top} height={plotH} />
          {i % 3 === 0 ? <text x={x(i)} y={H - 8} text-anchor="middle">{s.label}</text> : null}
        </g>
      ))}
    </svg>
  );
}

/** A ranking as horizontal bars, biggest first; `empty` when there are no rows. */
export function Ranking(
  p: { rows: Array<{ label: string; value: number; cls?: string }>; label: string; empty: string; cls?: string },
): Child {
  if (p.rows.length === 0) return <p class="muted">{p.empty}</p>;
  const rowH = 22;
  const height = p.rows.length * rowH + 4;
  const labelW = 170;
  const barW = W - labelW - 70;
  const max = Math.max(...p.rows.map((r) => r.value), 1);
  return (
    <svg viewBox={`0 0 ${W} ${height}`} role="img" aria-label={p.label}>
      {p.rows.map((r, i) => {
        const yTop = i * rowH + 2;
        const w = round2((r.value / max) * barW);
        const shown = r.label.length > 26 ? `${r.label.slice(0, 25)}…` : r.label;
        return (
          <g>
            <title>{`${r.label}: ${num(r.value)}`}</title>
            <text class="rank-label" x={labelW - 6} y={yTop + 15} text-anchor="end">{shown}</text>
            <rect class={r.cls ?? p.cls ?? "bar-ok"} x={labelW} y={yTop + 3} width={Math.max(1, w)} height={rowH - 8} />
            <text x={labelW + Math.max(1, w) + 6} y={yTop + 15}>{num(r.value)}</text>
          </g>
        );
      })}
    </svg>
  );
}
