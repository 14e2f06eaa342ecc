/**
 * Fixed-window counters shared through the store. Each instance decides from memory (no storage
 * access per request): its own count in the window plus what the other instances had reported
 * at the last sync. Syncing adds this instance's new counts to the store atomically (where the
 * backend can) and reads back the totals, so a limit holds across instances within one sync
 * interval's worth of requests.
 * @module
 */
import type { CounterSink } from "../store/counters.ts";
import { limitKeys } from "../store/key_names.ts";

interface Entry {
  /** Counted here in this window. */
  local: number;
  /** Of `local`, already added to the store. */
  flushed: number;
  /** The store's total at the last sync (includes our flushed part). */
  total: number;
}

/**
 * Most keys (client IPs and tokens) counted in one window. Beyond it, new keys are not limited
 * until the next window (fail open) rather than letting address-rotating clients grow memory.
 */
export const MAX_WINDOW_KEYS = 100_000;

/** Counts per key and window; windows older than the previous one are dropped. */
export class WindowCounter {
  readonly windowMs: number;
  #name: string;
  #sink: CounterSink;
  #now: () => number;
  #window = -1;
  #entries = new Map<string, Entry>();

  constructor(name: string, windowMs: number, sink: CounterSink, now: () => number) {
    this.#name = name;
    this.windowMs = windowMs;
    this.#sink = sink;
    this.#now = now;
  }

  /** The count of `key` in the current window, across instances as last synced. */
  count(key: string): number {
    this.#roll();
    const e = this.#entries.get(key);
    return e ? e.total + e.local - e.flushed : 0;
  }

  add(key: string, n = 1): void {
    this.#roll();
    let e = this.#entries.get(key);
    if (!e) {
      if (this.#entries.size >= MAX_WINDOW_KEYS) return;
      this.#entries.set(key, e = { local: 0, flushed: 0, total: 0 });
    }
    e.local += n;
  }

  /** Milliseconds until the current window ends. */
  resetIn(): number {
    return this.windowMs - (this.#now() % this.windowMs);
  }

  /** Adds new local counts to the store and reads back the shared totals. */
  async sync(): Promise<void> {
    this.#roll();
    const record = limitKeys.window(this.#name, this.#window);
    const add: Record<string, number> = {};
    const sent = new Map<Entry, number>();
    for (const [key, e] of this.#entries) {
      const n = e.local - e.flushed;
      if (n > 0) (add[key] = n), sent.set(e, n);
    }
    if (sent.size) await this.#sink.apply(new Map([[record, { add, max: {} }]]));
    for (const [e, n] of sent) e.flushed += n;
    const [totals] = await this.#sink.read([record]);
    // Keys only other instances have seen count here too, from their first request on.
    for (const key of Object.keys(totals)) {
      if (!this.#entries.has(key) && this.#entries.size < MAX_WINDOW_KEYS) {
        this.#entries.set(key, { local: 0, flushed: 0, total: 0 });
      }
    }
    for (const [key, e] of this.#entries) e.total = Math.max(totals[key] ?? 0, e.flushed);
    // The window before the previous one is over for everybody; its record can go.
    await this.#sink.remove([limitKeys.window(this.#name, this.#window - 2)]).catch(() => {});
  }

  #roll(): void {
    const w = Math.floor(this.#now() / this.windowMs);
    if (w !== this.#window) {
      this.#window = w;
      this.#entries.clear();
    }
  }
}
