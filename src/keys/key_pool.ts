/**
 * One provider's keys in memory: O(1) round-robin over the ready keys, a wake-time heap for the
 * resting ones, and the key states (active, cooling, disabled; docs/ARCHITECTURE.md). No I/O: changes are reported through
 * `onChange` so the caller persists them off the request path.
 * @module
 */
import type { KeyOutcome } from "../providers/types.ts";
import { WakeHeap } from "./heap.ts";
import type { HealthRules, KeyRecord } from "./types.ts";

/**
 * Longest rest after repeated 429s without Retry-After (1 h): the first rests
 * `rateLimitCooldownMs` (60 s), each further one twice as long, up to this.
 */
export const MAX_BACKOFF_MS = 3_600_000;

/**
 * How long a key woken after a usage cap stays out of rotation while its one half-open try is in
 * flight. The try's answer normally decides sooner (back to work, or resting until the next
 * reset); without one (its client left first) the key is tried again after this.
 */
export const HALF_OPEN_MS = 60_000;

/** Counts by state, for health and stats views. */
export interface KeyCounts {
  total: number;
  active: number;
  cooling: number;
  disabled: number;
}

/** The in-memory key index of one provider. */
export class KeyPool {
  readonly provider: string;
  #rules: HealthRules;
  #now: () => number;
  #onChange: (rec: KeyRecord) => void;
  #records = new Map<string, KeyRecord>();
  /** Keys that may be picked, in rotation order; `#slot` maps id -> index. */
  #ready: KeyRecord[] = [];
  #slot = new Map<string, number>();
  #resting = new WakeHeap();
  #cursor = 0;
  /** Kept up to date on every change, so counts never need a scan. */
  #counts: Record<KeyRecord["state"], number> = { active: 0, cooling: 0, disabled: 0 };

  constructor(provider: string, rules: HealthRules, now: () => number, onChange: (rec: KeyRecord) => void) {
    this.provider = provider;
    this.#rules = rules;
    this.#now = now;
    this.#onChange = onChange;
  }

  get size(): number {
    return this.#records.size;
  }

  get(id: string): KeyRecord | undefined {
    return this.#records.get(id);
  }

  has(id: string): boolean {
    return this.#records.has(id);
  }

  /** Every record, in insertion order. */
  values(): IterableIterator<KeyRecord> {
    return this.#records.values();
  }

  /** Adds or replaces a record, placing it by its state. */
  put(rec: KeyRecord): void {
    this.remove(rec.id);
    this.#records.set(rec.id, rec);
    this.#counts[rec.state]++;
    this.#place(rec);
  }

  remove(id: string): boolean {
    const rec = this.#records.get(id);
    if (!rec) return false;
    this.#unready(id);
    this.#counts[rec.state]--;
    return this.#records.delete(id);
  }

  /**
   * The next ready key not in `exclude`, round-robin. Wakes keys whose rest is over first.
   * Cost is O(|exclude| + keys woken), independent of the pool size. A key awake after a usage
   * cap is handed out once (its half-open try) and rests again until that try reports.
   */
  pick(exclude?: ReadonlySet<string>): KeyRecord | undefined {
    const now = this.#now();
    this.#wake(now);
    let tries = (exclude?.size ?? 0) + 1;
    while (this.#ready.length > 0 && tries > 0) {
      const rec = this.#ready[this.#cursor++ % this.#ready.length];
      if (this.#cursor >= 0x3fffffff) this.#cursor = 0;
      if (rec.expiresAt !== undefined && rec.expiresAt <= now) {
        this.#transition(rec, { state: "disabled", until: undefined, reason: "expired" });
        continue;
      }
      if (exclude?.has(rec.id)) {
        tries--;
        continue;
      }
      if (rec.cap !== undefined) {
        this.#transition(rec, { state: "cooling", until: now + HALF_OPEN_MS, reason: `half-open try after the ${rec.cap} usage limit` });
      }
      return rec;
    }
    return undefined;
  }

  /** When the earliest resting key wakes, or undefined if none will by itself. */
  nextWake(): number | undefined {
    this.#wake(this.#now());
    return this.#resting.peek();
  }

  /**
   * Applies what an attempt with this key found. Returns the key's state afterwards. A usage cap
   * rests the key until its reset, and no shorter rest reported meanwhile (by requests that were
   * in flight) cuts that short. A 429 without Retry-After rests the key `ms` × 2^(n−1) for the
   * n-th in a row, at most {@link MAX_BACKOFF_MS}; those reported before the rest of the last
   * step ended (sent in parallel) count as the same step. A success clears failures, cap and streak.
   */
  report(id: string, outcome: KeyOutcome): KeyRecord["state"] | undefined {
    const rec = this.#records.get(id);
    if (!rec) return undefined;
    const now = this.#now();
    switch (outcome.kind) {
      case "ok":
        if (rec.failures !== 0 || rec.state !== "active" || rec.cap !== undefined || rec.rateLimitStreak !== undefined) {
          this.#transition(rec, { state: "active", failures: 0, until: undefined, reason: undefined, cap: undefined, rateLimitStreak: undefined, backoffUntil: undefined });
        }
        break;
      case "client-error":
        break;
      case "cooldown": {
        // A key disabled meanwhile (by a failure on a parallel request) stays disabled.
        if (rec.state === "disabled") break;
        if (outcome.cap !== undefined) {
          this.#transition(rec, { state: "cooling", until: now + outcome.ms, reason: outcome.reason, cap: outcome.cap, rateLimitStreak: undefined, backoffUntil: undefined });
          break;
        }
        if (rec.cap !== undefined && rec.state === "cooling" && (rec.until ?? Infinity) > now + outcome.ms) break;
        const patch: Partial<KeyRecord> = { state: "cooling", until: now + outcome.ms, reason: outcome.reason };
        if (outcome.rateLimited && outcome.retryAfterMs === undefined) {
          // 429s of requests sent before the last step's rest ended are the same burst: one step.
          const sameBurst = rec.rateLimitStreak !== undefined && now < (rec.backoffUntil ?? 0);
          const streak = sameBurst ? rec.rateLimitStreak! : Math.min((rec.rateLimitStreak ?? 0) + 1, 32); // 2^31 × 60 s is far past the bound
          patch.until = now + Math.min(outcome.ms * 2 ** (streak - 1), Math.max(MAX_BACKOFF_MS, outcome.ms));
          patch.rateLimitStreak = streak;
          if (!sameBurst) patch.backoffUntil = patch.until;
        }
        this.#transition(rec, patch);
        break;
      }
      case "failure": {
        const failures = rec.failures + 1;
        if (failures >= this.#rules.failuresBeforeDisable) {
          this.#transition(rec, { state: "disabled", failures, until: now + this.#rules.disableMs, reason: outcome.reason });
        } else {
          this.#transition(rec, { failures });
        }
        break;
      }
    }
    return rec.state;
  }

  /** Admin: back into rotation now, failure count, usage cap and rate-limit streak cleared. */
  enable(id: string): boolean {
    const rec = this.#records.get(id);
    if (!rec) return false;
    this.#transition(rec, { state: "active", failures: 0, until: undefined, reason: undefined, cap: undefined, rateLimitStreak: undefined, backoffUntil: undefined });
    return true;
  }

  /** Admin: out of rotation for `ms` (undefined or 0: until enabled again). */
  disable(id: string, ms: number | undefined, reason: string): boolean {
    const rec = this.#records.get(id);
    if (!rec) return false;
    this.#transition(rec, { state: "disabled", until: ms ? this.#now() + ms : undefined, reason });
    return true;
  }

  counts(): KeyCounts {
    this.#wake(this.#now());
    return { total: this.#records.size, ...this.#counts };
  }

  #transition(rec: KeyRecord, patch: Partial<KeyRecord>): void {
    const wasReady = rec.state === "active";
    this.#counts[rec.state]--;
    Object.assign(rec, patch);
    this.#counts[rec.state]++;
    for (const k of ["until", "reason", "cap", "rateLimitStreak", "backoffUntil"] as const) if (rec[k] === undefined) delete rec[k];
    if (wasReady && rec.state !== "active") this.#unready(rec.id);
    if (!this.#slot.has(rec.id)) this.#place(rec);
    this.#onChange(rec);
  }

  #place(rec: KeyRecord): void {
    if (rec.state === "active") {
      this.#slot.set(rec.id, this.#ready.length);
      this.#ready.push(rec);
    } else if (rec.until !== undefined) {
      this.#resting.push(rec.until, rec.id);
    }
  }

  /** Swap-remove from the ready list: O(1). */
  #unready(id: string): void {
    const i = this.#slot.get(id);
    if (i === undefined) return;
    const last = this.#ready.pop()!;
    if (last.id !== id) {
      this.#ready[i] = last;
      this.#slot.set(last.id, i);
    }
    this.#slot.delete(id);
  }

  #wake(now: number): void {
    for (let at = this.#resting.peek(); at !== undefined && at <= now; at = this.#resting.peek()) {
      const { id } = this.#resting.pop()!;
      const rec = this.#records.get(id);
      // Stale heap entries (key removed, re-enabled, or rest extended) are skipped.
      if (!rec || rec.state === "active" || rec.until !== at) continue;
      this.#transition(rec, { state: "active", until: undefined, reason: undefined });
    }
  }
}
