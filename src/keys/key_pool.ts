/**
 * One provider's keys in memory: the ready keys in priority tiers (each a {@link Rotation}), a
 * wake-time heap for the resting ones, which models each key serves, and the key's state changes
 * (what an attempt's outcome changes is key_outcomes.ts; rests end by themselves here). No I/O:
 * changes are reported through `onChange` so the caller persists them off the request path.
 * @module
 */
import type { KeyOutcome } from "../providers/types.ts";
import { WakeHeap } from "./heap.ts";
import { BACK_TO_WORK, halfOpenTry, outcomePatch } from "./key_outcomes.ts";
import { cleanModelList, ModelIndex, otherSpelling } from "./models.ts";
import { Rotation } from "./rotation.ts";
import type { HealthRules, KeyRecord } from "./types.ts";

/**
 * Candidates looked at per tier and pick when a model is asked for: keys that do not serve it
 * are passed over, so a model few keys serve costs up to this many checks (each a set lookup).
 */
const MAX_SCAN = 100_000;
/** Models remembered per tier as "no ready key serves it" (until the tier changes, or briefly). */
const MAX_NEGATIVE = 1000;
/** How long such a memory holds at most: marks that expire do not change the tier. */
const NEGATIVE_MS = 5000;

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
  /** Ready keys by priority; `#order` lists the priorities best first. */
  #tiers = new Map<number, Rotation>();
  #order: number[] = [];
  /** Where each ready key is: the tier it joined (its priority may have changed since). */
  #readyIn = new Map<string, Rotation>();
  /** Per tier, models no ready key of it serves: the tier version checked and until when it holds. */
  #negative = new Map<Rotation, Map<string, { version: number; until: number }>>();
  #resting = new WakeHeap();
  readonly models: ModelIndex = new ModelIndex();
  /** What the pick in progress asks for: fields, not a closure per pick (closures cost ~1 µs under tsx's keepNames). */
  #exclude: ReadonlySet<string> | undefined;
  #model: string | undefined;
  #modelAlias: string | undefined;
  #pickedAt = 0;
  /** Whether the pick in progress may take `rec`; an expired key is disabled on the way. */
  readonly #accept = (rec: KeyRecord): boolean => {
    if (rec.expiresAt !== undefined && rec.expiresAt <= this.#pickedAt) {
      this.#transition(rec, { state: "disabled", until: undefined, reason: "expired" });
      return false;
    }
    if (this.#exclude?.has(rec.id)) return false;
    return this.#model === undefined || this.models.serves(rec.id, this.#model, this.#modelAlias, this.#pickedAt);
  };
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
    this.models.set(rec.id, cleanModelList(rec.models));
    this.#place(rec);
  }

  remove(id: string): boolean {
    const rec = this.#records.get(id);
    if (!rec) return false;
    this.#unready(id);
    this.models.remove(id);
    this.#counts[rec.state]--;
    return this.#records.delete(id);
  }

  /**
   * The next ready key not in `exclude` that may serve `model`: from the best tier that has one,
   * in that tier's rotation. Wakes keys whose rest is over first. Cost is O(|exclude| + keys
   * woken) when every key may serve the model (the common case), independent of the pool size;
   * keys that do not serve it are passed over, at most {@link MAX_SCAN} per tier.
   * A key awake after a usage cap is handed out once (its half-open try) and rests again until
   * that try reports.
   */
  pick(exclude?: ReadonlySet<string>, model?: string): KeyRecord | undefined {
    const now = this.#now();
    this.#wake(now);
    this.#exclude = exclude;
    this.#model = model;
    this.#pickedAt = now;
    const filtered = model !== undefined && (this.models.known || this.models.marked);
    this.#modelAlias = filtered ? otherSpelling(model!) : undefined;
    for (const priority of this.#order) {
      const tier = this.#tiers.get(priority)!;
      if (tier.size === 0) continue;
      const none = filtered ? this.#negative.get(tier)?.get(model!) : undefined;
      if (none && none.version === tier.version && none.until > now) continue;
      const limit = filtered ? Math.min(tier.size, MAX_SCAN) : (exclude?.size ?? 0) + 1;
      const rec = tier.next(this.#accept, limit);
      if (rec) {
        if (rec.cap !== undefined) this.#transition(rec, halfOpenTry(rec.cap, now));
        return rec;
      }
      if (filtered && tier.size <= MAX_SCAN && !exclude?.size) this.#rememberNone(tier, model!, now);
    }
    return undefined;
  }

  /** Sets a key's model list (from a probe); persisted like a state change. */
  setModels(id: string, models: string[] | undefined): boolean {
    const rec = this.#records.get(id);
    if (!rec) return false;
    const clean = cleanModelList(models);
    this.models.set(id, clean);
    this.#negative.clear(); // a list that grew may serve what was remembered as unserved
    this.#transition(rec, { models: clean, modelsAt: this.#now() });
    return true;
  }

  /** Marks that `id` cannot serve `model` for `ms` (its upstream said "model not found"). */
  markModelUnavailable(id: string, model: string, ms: number): void {
    if (this.#records.has(id)) this.models.markUnavailable(id, model, this.#now() + ms);
  }

  /** Moves a key to another tier or weight; it keeps its state. */
  setPlacement(id: string, placement: { priority?: number; weight?: number }): boolean {
    const rec = this.#records.get(id);
    if (!rec) return false;
    this.#unready(id);
    const patch: Partial<KeyRecord> = {};
    if (placement.priority !== undefined) patch.priority = placement.priority;
    if (placement.weight !== undefined) patch.weight = placement.weight;
    this.#transition(rec, patch);
    if (rec.priority === 0) delete rec.priority;
    if (rec.weight === 1) delete rec.weight;
    return true;
  }

  /** When the earliest resting key wakes, or undefined if none will by itself. */
  nextWake(): number | undefined {
    this.#wake(this.#now());
    return this.#resting.peek();
  }

  /**
   * Applies what an attempt with this key found (see {@link outcomePatch}). Returns the key's
   * state afterwards.
   */
  report(id: string, outcome: KeyOutcome): KeyRecord["state"] | undefined {
    const rec = this.#records.get(id);
    if (!rec) return undefined;
    const patch = outcomePatch(rec, outcome, this.#rules, this.#now());
    if (patch) this.#transition(rec, patch);
    return rec.state;
  }

  /** Admin: back into rotation now, failure count, usage cap and rate-limit streak cleared. */
  enable(id: string): boolean {
    const rec = this.#records.get(id);
    if (!rec) return false;
    this.#transition(rec, { ...BACK_TO_WORK });
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
    for (const k of ["until", "reason", "cap", "rateLimitStreak", "backoffUntil", "models", "modelsAt"] as const) {
      if (rec[k] === undefined) delete rec[k];
    }
    if (wasReady && rec.state !== "active") this.#unready(rec.id);
    if (!this.#readyIn.has(rec.id)) this.#place(rec);
    this.#onChange(rec);
  }

  #place(rec: KeyRecord): void {
    if (rec.state === "active") {
      const priority = rec.priority ?? 0;
      let tier = this.#tiers.get(priority);
      if (!tier) {
        this.#tiers.set(priority, tier = new Rotation());
        this.#order = [...this.#tiers.keys()].sort((a, b) => b - a);
      }
      tier.add(rec);
      this.#readyIn.set(rec.id, tier);
    } else if (rec.until !== undefined) {
      this.#resting.push(rec.until, rec.id);
    }
  }

  /** Out of its tier's rotation: O(1) (O(log n) in a weighted tier). Empty tiers are dropped. */
  #unready(id: string): void {
    const tier = this.#readyIn.get(id);
    if (!tier) return;
    tier.remove(id);
    this.#readyIn.delete(id);
    if (tier.size === 0) {
      for (const [p, t] of this.#tiers) if (t === tier) this.#tiers.delete(p);
      this.#order = [...this.#tiers.keys()].sort((a, b) => b - a);
      this.#negative.delete(tier);
    }
  }

  #rememberNone(tier: Rotation, model: string, now: number): void {
    let none = this.#negative.get(tier);
    if (!none) this.#negative.set(tier, none = new Map());
    if (none.size >= MAX_NEGATIVE) none.clear();
    none.set(model, { version: tier.version, until: now + NEGATIVE_MS });
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
