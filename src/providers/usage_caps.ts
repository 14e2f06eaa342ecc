/**
 * Usage caps of Ollama Cloud accounts: recognising them in an answer's body, and when they end.
 * A capped account answers 429 without Retry-After, with a body like
 * `you (name) have reached your weekly usage limit, upgrade for higher limits: … (ref: …)` or
 * `you've reached your hourly usage limit, please wait or upgrade to continue`. The wording
 * varies, so only "<window> … limit" is looked for. Windows reset on fixed UTC boundaries:
 * sessions every 5 hours of Unix time (epoch seconds divisible by 18,000), hourly at the top of
 * the hour, daily at 00:00, weekly at Monday 00:00, monthly on the 1st at 00:00.
 * @module
 */

/** The windows a usage cap can be counted over. */
export type UsageWindow = "session" | "hourly" | "daily" | "weekly" | "monthly";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Fixed-length windows, aligned to the Unix epoch. */
const PERIOD: Partial<Record<UsageWindow, number>> = { session: 5 * HOUR, hourly: HOUR, daily: DAY };

/**
 * How far the upstream's clock may be behind ours. A cap reported within this margin after a
 * boundary is the old window still closing (their reset has not happened yet), not a new window
 * filled in seconds: it rests the key until the boundary plus the margin, not a whole window more.
 * Every rest also ends this much after the boundary, so a try does not arrive just before it.
 */
export const CAP_CLOCK_MARGIN_MS = 60_000;

/** Body text up to "<window> usage limit"-like words, a few words apart at most. */
const CAP = /\b(session|hour(?:ly)?|dai?ly|day|week(?:ly)?|month(?:ly)?)\b(?:[\s\-_:]+[a-z]+){0,2}?[\s\-_:]+limits?\b/i;

/** The window named in a usage-cap body, or undefined when the body is no usage cap. */
export function usageCapWindow(body: string): UsageWindow | undefined {
  const m = CAP.exec(body.length > 4096 ? body.slice(0, 4096) : body);
  if (!m) return undefined;
  const w = m[1].toLowerCase();
  if (w === "session") return "session";
  if (w.startsWith("hour")) return "hourly";
  if (w.startsWith("da")) return "daily";
  if (w.startsWith("week")) return "weekly";
  return "monthly";
}

/** The first boundary of `window` strictly after `at` (epoch ms, UTC). */
export function nextBoundary(window: UsageWindow, at: number): number {
  const period = PERIOD[window];
  if (period !== undefined) return Math.floor(at / period) * period + period;
  if (window === "weekly") {
    const day = Math.floor(at / DAY);
    const sinceMonday = (day + 3) % 7; // 1970-01-01, day 0, was a Thursday
    return (day - sinceMonday + 7) * DAY;
  }
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** A recognised usage cap: which window, when the key may be tried again, and why, for people. */
export interface UsageCap {
  window: UsageWindow;
  /** Epoch ms the rest ends: the window's reset plus {@link CAP_CLOCK_MARGIN_MS}. */
  until: number;
  /** E.g. "weekly usage limit until Mon 00:00 UTC". */
  reason: string;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "Mon 00:00 UTC" (weekly), "1 Dec 00:00 UTC" (monthly) or "15:00 UTC" (shorter windows). */
function resetLabel(window: UsageWindow, at: number): string {
  const d = new Date(at);
  const time = `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")} UTC`;
  if (window === "weekly") return `${WEEKDAYS[d.getUTCDay()]} ${time}`;
  if (window === "monthly") return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${time}`;
  return time;
}

/** The usage cap `body` reports, seen at `now`; undefined when the body reports none. */
export function usageCapOf(body: string, now: number): UsageCap | undefined {
  const window = usageCapWindow(body);
  if (!window) return undefined;
  const reset = nextBoundary(window, now - CAP_CLOCK_MARGIN_MS);
  return {
    window,
    until: reset + CAP_CLOCK_MARGIN_MS,
    reason: `${window} usage limit until ${resetLabel(window, reset)}`,
  };
}
