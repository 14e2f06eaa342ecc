/**
 * Which models each key serves: the lists probes read (shared between keys with the same list,
 * so 100,000 keys of one account type hold one set), and the (key, model) pairs an upstream
 * answered "model not found" for, which rest for a while without blaming the key.
 * @module
 */

/**
 * Longest model list kept per key. A longer one (OpenRouter lists several hundred) is not kept:
 * the key counts as serving every model, and "model not found" answers still mark it per model.
 * This bounds both the stored record and the memory of a list.
 */
export const MAX_MODELS_PER_KEY = 256;
/** Distinct lists kept in memory; keys whose list would be a new one past this count as serving any model. */
const MAX_DISTINCT_LISTS = 1000;
/** (key, model) "not found" marks held; past this the oldest go first (each also expires by itself). */
const MAX_UNAVAILABLE = 10_000;
/** Longest model name kept; longer ones are not model names. */
export const MAX_MODEL_NAME = 200;

/** A model list shared by every key that has it. */
interface SharedList {
  signature: string;
  models: ReadonlySet<string>;
  refs: number;
}

/** A list as probes found it, cleaned: strings only, no duplicates, sorted; undefined if unusable. */
export function cleanModelList(models: unknown): string[] | undefined {
  if (!Array.isArray(models)) return undefined;
  const set = new Set<string>();
  for (const m of models) if (typeof m === "string" && m !== "" && m.length <= MAX_MODEL_NAME) set.add(m);
  if (set.size === 0 || set.size > MAX_MODELS_PER_KEY) return undefined;
  return [...set].sort();
}

/**
 * The other spelling of an Ollama model name: `llama3.2` and `llama3.2:latest` are one model.
 * Computed once per request, not per key looked at.
 */
export function otherSpelling(model: string): string | undefined {
  if (!model.includes(":")) return `${model}:latest`;
  return model.endsWith(":latest") ? model.slice(0, -7) : undefined;
}

/** The model lists of one provider's keys, and its (key, model) "not found" marks. */
export class ModelIndex {
  #lists = new Map<string, SharedList>();
  #byKey = new Map<string, SharedList>();
  #unavailable = new Map<string, number>();
  /** Per model, until when some key is marked as lacking it. Bound: as `#unavailable`, cleared with it. */
  #markedUntil = new Map<string, number>();
  /** Bumped when any list changes, so the union can be cached. */
  version = 0;

  /** Sets (or clears, with undefined) the list of a key. */
  set(id: string, models: readonly string[] | undefined): void {
    const old = this.#byKey.get(id);
    const signature = models?.join("\n");
    const current = signature === undefined ? undefined : this.#lists.get(signature);
    if (old && old === current) return;
    if (old) this.#release(id, old);
    if (signature === undefined || !models) return;
    let shared = current;
    if (!shared) {
      if (this.#lists.size >= MAX_DISTINCT_LISTS) return; // unknown: serves anything
      shared = { signature, models: new Set(models), refs: 0 };
      this.#lists.set(signature, shared);
    }
    shared.refs++;
    this.#byKey.set(id, shared);
    this.version++;
  }

  remove(id: string): void {
    const old = this.#byKey.get(id);
    if (old) this.#release(id, old);
  }

  /**
   * Whether a key may serve `model` (`alias`: its {@link otherSpelling}): its list names it (or
   * is unknown) and it is not marked.
   */
  serves(id: string, model: string, alias: string | undefined, now: number): boolean {
    const list = this.#byKey.get(id)?.models;
    if (list && !list.has(model) && (alias === undefined || !list.has(alias))) return false;
    if (this.#unavailable.size === 0) return true;
    const until = this.#unavailable.get(`${id}\n${model}`);
    if (until === undefined) return true;
    if (until > now) return false;
    this.#unavailable.delete(`${id}\n${model}`);
    return true;
  }

  /** Marks (key, model) unavailable until `until`: the upstream said this key cannot use it. */
  markUnavailable(id: string, model: string, until: number): void {
    const k = `${id}\n${model}`;
    this.#unavailable.delete(k); // re-inserted last: the Map's order is the eviction order
    this.#unavailable.set(k, until);
    if (this.#unavailable.size > MAX_UNAVAILABLE) this.#unavailable.delete(this.#unavailable.keys().next().value!);
    if (this.#markedUntil.size >= MAX_UNAVAILABLE) this.#markedUntil.clear();
    this.#markedUntil.set(model, Math.max(until, this.#markedUntil.get(model) ?? 0));
  }

  /** Whether some key said, recently, that it lacks `model`. */
  lacked(model: string, now: number): boolean {
    return (this.#markedUntil.get(model) ?? 0) > now;
  }

  /** Whether any (key, model) pair is marked. */
  get marked(): boolean {
    return this.#unavailable.size > 0;
  }

  /** Whether any key has a known list. */
  get known(): boolean {
    return this.#byKey.size > 0;
  }

  /** Every model some key lists, sorted. Cost: the distinct lists, not the keys. */
  union(): string[] {
    const all = new Set<string>();
    for (const { models } of this.#lists.values()) for (const m of models) all.add(m);
    return [...all].sort();
  }

  #release(id: string, list: SharedList): void {
    this.#byKey.delete(id);
    this.version++;
    if (--list.refs === 0) this.#lists.delete(list.signature);
  }
}
