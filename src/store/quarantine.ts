/**
 * Records that cannot be parsed (a torn write from a crash, a file edited by hand, a value some
 * other program put there) are moved aside under `quarantine:<original name>` and reported, never
 * read as "absent": a key, token or user that silently disappeared would be lost for good the next
 * time its name was written. The count of set-aside records keeps `/health` "degraded" until an
 * operator has looked at them and removed them.
 * @module
 */
import type { Storage } from "unstorage";
import { PREFIX } from "./key_names.ts";

export const QUARANTINE_PREFIX: string = PREFIX.quarantine;

/** What is kept of a set-aside record: its name, when, and its text as read (it may hold a secret). */
export interface QuarantinedRecord {
  from: string;
  at: number;
  raw: string;
}

/** Records named one by one in the log per process; past it one line says more follow (a disk fault can tear thousands). */
const MAX_LOGGED = 1000;

/** Longest raw text kept per record: a record is a few hundred bytes; more is not a record of ours. */
const MAX_RAW = 64 * 1024;

/** Sets unreadable records aside and counts them. */
export class Quarantine {
  #storage: Storage;
  #log: (message: string) => void;
  #now: () => number;
  /** Records under the quarantine prefix: counted at load, plus those set aside since. */
  #count = 0;
  /** Names being set aside now (two reads of one record must not count it twice); bounded by reads in flight. */
  #moving = new Set<string>();
  #logged = 0;

  constructor(storage: Storage, log: (message: string) => void, now: () => number = Date.now) {
    this.#storage = storage;
    this.#log = log;
    this.#now = now;
  }

  get count(): number {
    return this.#count;
  }

  /** Counts what earlier runs set aside (so a restart does not hide them). */
  async load(): Promise<void> {
    const names = await this.#storage.getKeys(QUARANTINE_PREFIX);
    this.#count = names.length;
    if (names.length) {
      this.#log(
        `[ollama-api-pool] ${names.length} unreadable record(s) are set aside under "${QUARANTINE_PREFIX}:"; /health reports "degraded" until they are removed`,
      );
    }
  }

  /**
   * Whether `value`, read from `name`, is a record. A missing one (null) is not; one that is not a
   * JSON object, or that `problem` finds unusable, is set aside and reported, and is not either.
   */
  async admit(
    name: string,
    value: unknown,
    problem?: (record: Record<string, unknown>) => string | undefined,
  ): Promise<boolean> {
    if (value === null || value === undefined) return false;
    if (typeof value === "object" && !Array.isArray(value)) {
      const why = problem?.(value as Record<string, unknown>);
      if (why === undefined) return true;
      await this.#setAside(name, value, why);
      return false;
    }
    await this.#setAside(name, value);
    return false;
  }

  /** Keeps the values of `entries` that are records (and pass `problem`), setting the others aside. */
  async filter<T>(
    entries: Array<{ key: string; value: unknown }>,
    problem?: (record: Record<string, unknown>) => string | undefined,
  ): Promise<T[]> {
    const out: T[] = [];
    for (const { key, value } of entries) if (await this.admit(key, value, problem)) out.push(value as T);
    return out;
  }

  async #setAside(name: string, value: unknown, problem?: string): Promise<void> {
    if (this.#moving.has(name)) return;
    this.#moving.add(name);
    try {
      await this.#move(name, value, problem);
    } finally {
      this.#moving.delete(name);
    }
  }

  async #move(name: string, value: unknown, problem?: string): Promise<void> {
    const raw = (typeof value === "string" ? value : JSON.stringify(value) ?? String(value)).slice(0, MAX_RAW);
    // The log names the record, never its content (it may be a half-written secret).
    const logged = ++this.#logged;
    const why = problem ?? (raw.length === 0 ? "empty" : `${raw.length} bytes, not a JSON object`);
    if (logged <= MAX_LOGGED) {
      this.#log(`[ollama-api-pool] record "${name}" is unreadable (${why}); moved to "${QUARANTINE_PREFIX}:${name}"`);
    } else if (logged === MAX_LOGGED + 1) {
      this.#log(
        `[ollama-api-pool] more unreadable records are being set aside under "${QUARANTINE_PREFIX}:"; /health counts them`,
      );
    }
    const record: QuarantinedRecord = { from: name, at: this.#now(), raw };
    await this.#storage.setItem(`${QUARANTINE_PREFIX}:${name}`, record);
    await this.#storage.removeItem(name);
    this.#count++;
  }
}
