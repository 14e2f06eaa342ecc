/**
 * Days in a time zone, for the daily check-in: which local day an instant falls on, and when the
 * next one starts. Intl only, so the server and a browser page given the same IANA zone agree.
 * @module
 */

const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formats.set(timeZone, f);
  }
  return f;
}

/** Whether Intl knows the zone. */
export function isTimeZone(timeZone: string): boolean {
  try {
    format(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The local wall-clock fields of an instant. */
function wall(timeZone: string, ms: number): { y: number; m: number; d: number; h: number; min: number; s: number } {
  const parts: Record<string, number> = {};
  for (const p of format(timeZone).formatToParts(ms)) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return { y: parts.year, m: parts.month, d: parts.day, h: parts.hour, min: parts.minute, s: parts.second };
}

/** The local day of an instant, `YYYY-MM-DD`. */
export function localDay(timeZone: string, ms: number): string {
  const { y, m, d } = wall(timeZone, ms);
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/** The zone's offset from UTC at an instant, in ms (Asia/Shanghai: +8 h). */
function offset(timeZone: string, ms: number): number {
  const w = wall(timeZone, ms);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s) - Math.floor(ms / 1000) * 1000;
}

/** The instant the local day after `ms` begins (local midnight, or the first instant of that day across a DST jump). */
export function nextDayStart(timeZone: string, ms: number): number {
  const { y, m, d } = wall(timeZone, ms);
  const midnight = Date.UTC(y, m - 1, d + 1); // next local midnight, read as if it were UTC
  let guess = midnight - offset(timeZone, midnight);
  guess = midnight - offset(timeZone, guess); // second pass: the offset at the answer itself
  // Where midnight does not exist (a DST jump at 00:00), the day starts a little later.
  while (localDay(timeZone, guess) <= localDay(timeZone, ms)) guess += 15 * 60_000;
  return guess;
}
