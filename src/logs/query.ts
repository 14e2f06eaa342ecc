/**
 * Log queries: filters, newest-first order and cursors. Records are ordered by time, then id,
 * both descending; a cursor names the last record a page showed, and the next page holds what
 * comes strictly after it in that order.
 * @module
 */
import { badRequest } from "../errors.ts";
import type { SegmentName } from "./segments.ts";
import type { LogFilter, LogRecord } from "./types.ts";

/** A position in the log: everything after it (older) is still to come. */
export interface Cursor {
  t: number;
  id: string;
}

/** Whether `a` comes before `b` in newest-first order. */
export function newerThan(a: Cursor, b: Cursor): boolean {
  return a.t > b.t || (a.t === b.t && a.id > b.id);
}

/** Sorts newest first, in place. */
export function sortNewestFirst<T extends Cursor>(records: T[]): T[] {
  return records.sort((a, b) => (newerThan(a, b) ? -1 : newerThan(b, a) ? 1 : 0));
}

export function encodeCursor(c: Cursor): string {
  return btoa(JSON.stringify([c.t, c.id])).replace(/=+$/, "");
}

/** 400 for anything that is not a cursor this module made. */
export function decodeCursor(s: string): Cursor {
  try {
    const [t, id] = JSON.parse(atob(s));
    if (Number.isFinite(t) && typeof id === "string" && id.length <= 256) return { t, id };
  } catch {
    // answered below
  }
  throw badRequest("'cursor' is not a cursor this log gave out", "invalid_cursor");
}

/** A status filter: `429` or a class like `4xx`. */
export function statusMatcher(spec: string | undefined): ((status: number) => boolean) | undefined {
  if (spec === undefined || spec === "") return undefined;
  if (/^[1-9]xx$/i.test(spec)) {
    const cls = Number(spec[0]);
    return (s) => Math.floor(s / 100) === cls;
  }
  if (/^\d{3}$/.test(spec)) {
    const n = Number(spec);
    return (s) => s === n;
  }
  throw badRequest("'status' must be a status code like 429 or a class like 4xx", "invalid_status");
}

/** A predicate for records passing every filter given. */
export function recordMatcher(f: LogFilter): (r: LogRecord) => boolean {
  const status = statusMatcher(f.status);
  return (r) =>
    (f.since === undefined || r.t >= f.since) &&
    (f.until === undefined || r.t <= f.until) &&
    (f.provider === undefined || r.provider === f.provider) &&
    (f.token === undefined || r.token === f.token) &&
    (f.model === undefined || r.model === f.model || r.target === f.model) &&
    (f.key === undefined || r.attempts.some((a) => a.key === f.key)) &&
    (status === undefined || status(r.status));
}

/** Whether a segment may hold records the query wants (by its time range alone). */
export function segmentMayMatch(s: SegmentName, f: LogFilter, after?: Cursor): boolean {
  if (f.since !== undefined && s.maxT < f.since) return false;
  if (f.until !== undefined && s.minT > f.until) return false;
  // Every record in it is newer than the cursor: the earlier pages showed them.
  if (after !== undefined && s.minT > after.t) return false;
  return true;
}
