/**
 * Counter batches: the deltas one instance accumulated since its last flush, and how they are
 * applied to a plain key/value storage. Backends with atomic increments (issue 3) plug in as a
 * different {@link CounterSink}.
 * @module
 */
import type { Storage } from "unstorage";
import type { Quarantine } from "./quarantine.ts";

/** Numeric fields of one counter record, e.g. `{requests: 3, success: 2}`. */
export type Counters = Record<string, number>;

/** Per record key: fields to add to, and fields to raise to at least a value (timestamps). */
export interface CounterDelta {
  add: Counters;
  max: Counters;
}

/** A batch of deltas keyed by record key. */
export type CounterBatch = Map<string, CounterDelta>;

/**
 * Where batches go. `apply` must never lose a delta it resolved for. A sink that writes a batch in
 * several requests deletes each written record from `batch` before it rejects, so that the caller,
 * which puts back what is left, does not count those twice.
 */
export interface CounterSink {
  apply(batch: CounterBatch): Promise<void>;
  read(records: string[]): Promise<Counters[]>;
  /** Deletes whole records (expired rate-limit windows). */
  remove(records: string[]): Promise<void>;
  /**
   * Names of the records under `prefix`, for a sink that keeps them apart from the storage's
   * items (Postgres: a table of its own); without it they are the storage's `getKeys(prefix)`.
   */
  list?(prefix: string): Promise<string[]>;
}

/**
 * Why a stored counter record is no count, or undefined. Counts are whole numbers in the safe
 * range; a crafted one (1e300, from an import or another program) would swallow every increment
 * and show as a count.
 */
export function counterProblem(record: Record<string, unknown>): string | undefined {
  return Object.values(record).every((v) => Number.isSafeInteger(v)) ? undefined : "a count that is no whole number";
}

/** Adds `delta` into `into` (in place) and returns it. */
export function mergeDelta(into: Counters, delta: CounterDelta): Counters {
  for (const f in delta.add) into[f] = (into[f] ?? 0) + delta.add[f];
  for (const f in delta.max) into[f] = Math.max(into[f] ?? 0, delta.max[f]);
  return into;
}

/**
 * Read-modify-write on any unstorage backend. Exact for one instance, which serializes its own
 * flushes; several instances on such a backend can lose concurrent increments.
 */
export function kvCounterSink(storage: Storage, chunk = 128, quarantine?: Quarantine): CounterSink {
  const read = async (records: string[]): Promise<Counters[]> => {
    const values = await Promise.all(records.map((k) => storage.getItem<Counters>(k)));
    // An unreadable record, or one that is no count, is set aside (and reported) before the flush
    // writes a fresh one over it.
    return Promise.all(
      values.map(async (v, i) =>
        v && typeof v === "object" && !Array.isArray(v) && counterProblem(v) === undefined
          ? { ...v }
          : (await quarantine?.admit(records[i], v, counterProblem), {})
      ),
    );
  };
  return {
    read,
    async remove(records) {
      await Promise.all(records.map((k) => storage.removeItem(k)));
    },
    async apply(batch) {
      const entries = [...batch];
      for (let i = 0; i < entries.length; i += chunk) {
        const part = entries.slice(i, i + chunk);
        const current = await read(part.map(([k]) => k));
        await Promise.all(part.map(([k, d], j) => storage.setItem(k, mergeDelta(current[j], d))));
      }
    },
  };
}
