/**
 * The request log: one record per proxied request, kept in memory until the next flush and then
 * written in batches (see segments.ts), so the request path never waits on storage. Queries read
 * segments newest first and stop as soon as a page is full; old segments are swept after the
 * retention period.
 * @module
 */
import type { Storage } from "unstorage";
import {
  type Cursor,
  decodeCursor,
  encodeCursor,
  newerThan,
  recordMatcher,
  segmentMayMatch,
  sortNewestFirst,
} from "./query.ts";
import { groupForSegments, LOG_PREFIX, parseSegment, type SegmentName, segmentName } from "./segments.ts";
import type { LogFilter, LogRecord } from "./types.ts";

/** Options of {@link RequestLog}. */
export interface RequestLogOptions {
  /** Days a record is kept. */
  retentionDays: number;
  now: () => number;
  /**
   * Most records this instance keeps stored; beyond, its oldest batches are removed. For storage
   * held in the process's own memory, where a week of records (~0.4 KB each) would grow the heap
   * without a bound. @default no bound (retention alone)
   */
  maxStoredRecords?: number;
}

/**
 * Most records held unwritten (about 500 B each, so ~10 MB). Reached only when storage is down
 * for long or traffic outruns the flush; records beyond it are dropped and counted.
 */
export const MAX_PENDING_LOG_RECORDS = 20_000;
/**
 * Most records in one segment (one storage item, at most ~500 KB with the longest names: under
 * the 1 MB request limit of hosted Redis services such as Upstash's).
 */
export const MAX_SEGMENT_RECORDS = 500;
/** Flushes a record's segment may fail before the record is dropped (and counted). */
const MAX_WRITE_TRIES = 3;
/** Most segments one query reads before it answers with what it found and a cursor to go on. */
export const MAX_SEGMENTS_PER_QUERY = 400;
/** Segments read in one `getItems` call. */
const READ_BATCH = 16;
/**
 * How long the list of segment names is reused before storage is listed again (other instances'
 * segments show up within this). The list itself is bounded by retention: a week of 10-second
 * flushes from one instance is ~60,000 names (~4 MB).
 */
const LIST_TTL_MS = 5_000;
/** How often old segments are swept, at most. */
const SWEEP_EVERY_MS = 10 * 60_000;

/** One page of a query. */
export interface LogPage {
  records: LogRecord[];
  /** Pass back as `cursor` for the next (older) page; absent on the last page. */
  next?: string;
  /** The page stopped early at the read bound; `next` goes on from where it stopped. */
  partial?: boolean;
}

export class RequestLog {
  #storage: Storage;
  #o: RequestLogOptions;
  #pending: LogRecord[] = [];
  /** Records being written right now: still served from memory until the write is done. */
  #inflight: LogRecord[] = [];
  #dropped = 0;
  #instance = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
  #seq = 0;
  #flushing: Promise<void> | undefined;
  #list: { at: number; names: SegmentName[] } | undefined;
  /** Segments being written right now (left out of listings until their write settles). */
  #writing = new Set<string>();
  /** Failed writes per record (only records whose segment failed are in it). */
  #tries = new WeakMap<LogRecord, number>();
  #lastError: unknown;
  #lastSweep = 0;
  /**
   * With `maxStoredRecords`: this instance's stored batches, oldest first, and their records in
   * all (at most `maxStoredRecords` batches, each holding one record or more).
   */
  #stored: { name: string; count: number }[] = [];
  #storedCount = 0;

  constructor(storage: Storage, options: RequestLogOptions) {
    this.#storage = storage;
    this.#o = options;
  }

  /** Keeps a record for the next flush (dropped and counted if the buffer is full). */
  add(record: LogRecord): void {
    if (this.#pending.length >= MAX_PENDING_LOG_RECORDS) {
      this.#dropped++;
      return;
    }
    this.#pending.push(record);
  }

  /** Records waiting to be written. */
  get pending(): number {
    return this.#pending.length + this.#inflight.length;
  }

  /** Records lost because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  get retentionMs(): number {
    return this.#o.retentionDays * 86_400_000;
  }

  /**
   * Writes pending records, one segment per hour and 500 records. Segments that fail wait for
   * the next flush (within the buffer's bound); a record whose segment failed MAX_WRITE_TRIES
   * times is dropped and counted, so one write the store always refuses cannot block the rest.
   */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing.then(() => (this.#pending.length ? this.flush() : undefined));
    if (this.#pending.length === 0) return this.#sweepIfDue();
    const batch = this.#inflight = this.#pending;
    this.#pending = [];
    this.#flushing = this.#write(batch).then((failed) => {
      if (failed.length === 0) return;
      const retry = failed.filter((r) => {
        const tries = (this.#tries.get(r) ?? 0) + 1;
        this.#tries.set(r, tries);
        return tries < MAX_WRITE_TRIES;
      });
      this.#dropped += failed.length - retry.length;
      // Back in front of newer records, as far as the bound allows.
      const room = Math.max(0, MAX_PENDING_LOG_RECORDS - this.#pending.length);
      this.#dropped += Math.max(0, retry.length - room);
      this.#pending = retry.slice(0, room).concat(this.#pending);
      throw this.#lastError;
    }).finally(() => {
      this.#inflight = [];
      this.#flushing = undefined;
    });
    return this.#flushing.then(() => this.#sweepIfDue());
  }

  /** Writes the batch's segments; returns the records of the segments that failed. */
  async #write(batch: LogRecord[]): Promise<LogRecord[]> {
    const groups = groupForSegments(batch, MAX_SEGMENT_RECORDS);
    const names = groups.map((g) => segmentName(g, this.#instance, this.#seq++));
    // Being written: a listing meanwhile leaves them out, their records are served from memory.
    for (const n of names) this.#writing.add(n.name);
    const results = await Promise.allSettled(groups.map((g, i) => this.#storage.setItem(names[i].name, g)));
    const failed: LogRecord[] = [];
    results.forEach((r, i) => {
      this.#writing.delete(names[i].name);
      if (r.status === "rejected") {
        this.#lastError = r.reason;
        failed.push(...groups[i]);
        // A write that failed may still have landed: remove it, so a retry cannot duplicate it.
        this.#storage.removeItem(names[i].name).catch(() => {});
      } else {
        if (this.#list && !this.#list.names.some((s) => s.name === names[i].name)) {
          // Known at once, so no query in between misses these records (they leave #inflight now).
          this.#list.names.push(names[i]);
        }
        this.#keepBounded(names[i].name, groups[i].length);
      }
    });
    return failed;
  }

  /** Counts a stored batch and, beyond `maxStoredRecords`, removes this instance's oldest ones. */
  #keepBounded(name: string, count: number): void {
    const max = this.#o.maxStoredRecords;
    if (max === undefined) return;
    this.#stored.push({ name, count });
    this.#storedCount += count;
    const removed = new Set<string>();
    while (this.#storedCount > max && this.#stored.length > 1) {
      const old = this.#stored.shift()!;
      this.#storedCount -= old.count;
      removed.add(old.name);
      this.#storage.removeItem(old.name).catch(() => {}); // a failed removal goes with the next sweep
    }
    if (removed.size && this.#list) this.#list.names = this.#list.names.filter((s) => !removed.has(s.name));
  }

  /** Removes segments older than the retention period; returns how many. */
  async sweep(): Promise<number> {
    this.#lastSweep = this.#o.now();
    const oldest = this.#o.now() - this.retentionMs;
    const names = await this.#segments(true);
    const old = names.filter((s) => s.maxT < oldest);
    for (let i = 0; i < old.length; i += 64) {
      await Promise.all(old.slice(i, i + 64).map((s) => this.#storage.removeItem(s.name)));
    }
    if (this.#list) this.#list.names = this.#list.names.filter((s) => s.maxT >= oldest);
    if (old.length && this.#stored.length) {
      const swept = new Set(old.map((s) => s.name));
      this.#stored = this.#stored.filter((s) => !swept.has(s.name));
      this.#storedCount = this.#stored.reduce((n, s) => n + s.count, 0);
    }
    return old.length;
  }

  #sweepIfDue(): Promise<void> {
    if (this.#o.now() - this.#lastSweep < SWEEP_EVERY_MS) return Promise.resolve();
    return this.sweep().then(() => {});
  }

  /** The segment names in storage (cached briefly; see LIST_TTL_MS). */
  async #segments(fresh = false): Promise<SegmentName[]> {
    const now = this.#o.now();
    if (!fresh && this.#list && now - this.#list.at < LIST_TTL_MS) return this.#list.names;
    const keys = await this.#storage.getKeys(LOG_PREFIX);
    const names: SegmentName[] = [];
    for (const k of keys) {
      const s = parseSegment(k);
      if (s && !this.#writing.has(s.name)) names.push(s);
    }
    this.#list = { at: now, names };
    return names;
  }

  /**
   * One page of records passing `filter`, newest first, after `cursor` (from an earlier page).
   * Reads segments in order of their newest record and answers as soon as no unread segment can
   * hold anything newer than what the page still needs.
   */
  async query(filter: LogFilter, limit: number, cursor?: string): Promise<LogPage> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const matches = recordMatcher(filter);
    const wanted = (r: LogRecord): boolean => matches(r) && (after === undefined || newerThan(after, r));
    const segments = (await this.#segments())
      .filter((s) => segmentMayMatch(s, filter, after))
      .sort((a, b) => b.maxT - a.maxT);
    // Unwritten records first: they are the newest, and no segment holds them yet.
    let found = [...this.#inflight, ...this.#pending].filter(wanted);
    const out: LogRecord[] = [];
    let i = 0;
    for (;;) {
      const bound = i < segments.length ? segments[i].maxT : -Infinity;
      // Everything newer than the newest unread segment's newest record is final.
      sortNewestFirst(found);
      let k = 0;
      while (k < found.length && found[k].t > bound && out.length <= limit) out.push(found[k++]);
      found = found.slice(k);
      if (out.length > limit) break;
      if (i >= segments.length) break;
      // Read bound reached: go on next time from just above the unread segments ("~" sorts after
      // every character a request id may hold) — but only if that is further than this page
      // started: segments overlapping one moment (long streams are logged when they end) are
      // read on past the bound rather than handed back as the same cursor forever.
      if (i >= MAX_SEGMENTS_PER_QUERY && (after === undefined || bound < after.t)) {
        return { records: out, next: encodeCursor({ t: bound, id: "~" }), partial: true };
      }
      const batch = segments.slice(i, i + READ_BATCH);
      i += batch.length;
      for (const { value } of await this.#storage.getItems(batch.map((s) => s.name))) {
        if (Array.isArray(value)) { for (const r of value as LogRecord[]) if (isRecord(r) && wanted(r)) found.push(r); }
      }
    }
    if (out.length <= limit) return { records: out };
    const records = out.slice(0, limit);
    const last: Cursor = records[records.length - 1];
    return { records, next: encodeCursor({ t: last.t, id: last.id }) };
  }

  /**
   * Every record passing `filter`, newest first, page by page (for exports). A consumer that
   * stops (the client hung up) ends it between two pages: `return()` is honoured at each yield.
   */
  async *all(filter: LogFilter): AsyncGenerator<LogRecord> {
    let cursor: string | undefined;
    do {
      const page = await this.query(filter, 500, cursor);
      yield* page.records;
      cursor = page.next;
    } while (cursor !== undefined);
  }
}

/** Skips anything in a segment that is not a record (a hand-edited or foreign item). */
function isRecord(r: unknown): r is LogRecord {
  return typeof r === "object" && r !== null && typeof (r as LogRecord).t === "number" &&
    typeof (r as LogRecord).id === "string" && Array.isArray((r as LogRecord).attempts);
}
