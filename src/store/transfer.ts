/**
 * Moving a pool's state between stores: an export is NDJSON, one record per line, read from any
 * unstorage backend and written to any other. Plain records are copied as they are; counters
 * (statistics) are read and written through the store's counter sink, because Redis keeps them as
 * hashes and Postgres in a table of their own, not as plain items.
 *
 * Line 1 is a header, then `{"item": name, "value": {...}}` and `{"counter": name, "value":
 * {field: number}}` lines, and last an `{"end": true, ...}` line with the counts, so that an
 * import can tell a complete export from a cut-off one.
 * @module
 */
import type { Storage } from "unstorage";
import { echoed } from "../errors.ts";
import { counterProblem, type Counters, type CounterSink } from "./counters.ts";
import { MAX_RAW, QUARANTINE_PREFIX } from "./quarantine.ts";
import { storedTokenProblem } from "../auth/stored_token.ts";
import { isAtomic } from "./sinks.ts";

/**
 * Plain records an export carries: API keys with their state (`keys:`), client tokens (`tokens:`),
 * the admin credential and other settings (`meta:`), user accounts, their address index and
 * check-ins (`users:rec:`, `users:email:`, `users:signin:`), dashboard sessions ended by logging
 * out (`adminsessions:`: without them a copied cookie would work again on the new store), the
 * request log (`logs:`, segments of records: the only values that are arrays) and records set
 * aside as unreadable.
 */
export const EXPORTED_ITEMS: readonly string[] = [
  "keys",
  "tokens",
  "meta",
  "users:rec",
  "users:email",
  "users:signin",
  "adminsessions",
  "logs",
  QUARANTINE_PREFIX,
];

/** Counter records an export carries: every statistic (totals, per model, hour, key and token; token quotas are counted here). */
export const EXPORTED_COUNTERS: readonly string[] = ["stats"];

/**
 * What the store also holds and an export leaves out, because it is only good for minutes where
 * it is: pending sign-in codes (`users:code:`, ten minutes), rate-limit and throttle windows
 * (`limits:`, `userlimits:`), the change feed between instances (`events:`, one minute) and cached
 * answers (`cache:`).
 */
export const TRANSIENT_PREFIXES: readonly string[] = ["users:code", "limits", "userlimits", "events", "cache"];

export const EXPORT_FORMAT = "ollama-api-pool-export";
export const EXPORT_VERSION = 1;

/** One line of an export. */
export type ExportLine =
  | { format: typeof EXPORT_FORMAT; version: number; exportedAt: string; source: string }
  | { item: string; value: Record<string, unknown> | unknown[] }
  | { counter: string; value: Counters }
  | { end: true; items: number; counters: number };

/** Records read or written per batch: bounds memory whatever the store's size (records are ~300 bytes). */
export const BATCH = 500;

/** Progress after each batch: records so far and the prefix being worked on. */
export type Progress = (done: number, prefix: string) => void;

/** Counter record names under `prefix`: from the sink where it keeps its own list (Postgres), else the storage's. */
function counterNames(storage: Storage, sink: CounterSink, prefix: string): Promise<string[]> {
  return sink.list ? sink.list(prefix) : storage.getKeys(prefix);
}

const within = (name: string, prefix: string): boolean => name === prefix || name.startsWith(`${prefix}:`);

/**
 * Every exported record of `storage`, as lines, batch by batch. Only the names of one prefix are
 * held at once (~60 bytes each: 6 MB for 100,000 keys), the records a batch at a time.
 */
export async function* exportLines(
  storage: Storage,
  sink: CounterSink,
  source: string,
  progress: Progress = () => {},
): AsyncGenerator<ExportLine> {
  yield { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: new Date().toISOString(), source };
  let items = 0;
  let counters = 0;
  for (const prefix of EXPORTED_ITEMS) {
    // getKeys matches by string prefix: "users:rec" must not take "users:records:…" of someone else.
    const names = (await storage.getKeys(prefix)).filter((n) => within(n, prefix)).sort();
    for (let i = 0; i < names.length; i += BATCH) {
      for (const { key, value } of await storage.getItems(names.slice(i, i + BATCH))) {
        if (value === null || value === undefined) continue; // removed since it was listed
        if (typeof value === "object" && (!Array.isArray(value) || within(key, "logs"))) {
          yield { item: key, value: value as Record<string, unknown> };
        } // An unreadable record goes out set aside, as the pool would set it aside: not lost, not loaded.
        else {yield {
            item: `${QUARANTINE_PREFIX}:${key}`,
            value: { from: key, at: Date.now(), raw: typeof value === "string" ? value : JSON.stringify(value) },
          };}
        items++;
      }
      progress(items + counters, prefix);
    }
  }
  // Where counters are plain items (filesystem, memory, KV), an unreadable one is seen as such and
  // goes out set aside; the sink would read it as empty and it would be left out unnoticed.
  const plain = !isAtomic(storage);
  for (const prefix of EXPORTED_COUNTERS) {
    const names = (await counterNames(storage, sink, prefix)).filter((n) => within(n, prefix)).sort();
    for (let i = 0; i < names.length; i += BATCH) {
      const part = names.slice(i, i + BATCH);
      const values = await sink.read(part);
      const raw = plain ? await storage.getItems(part) : [];
      for (let j = 0; j < part.length; j++) {
        const v = raw[j]?.value;
        if (plain && v !== null && v !== undefined && (typeof v !== "object" || Array.isArray(v))) {
          yield {
            item: `${QUARANTINE_PREFIX}:${part[j]}`,
            value: { from: part[j], at: Date.now(), raw: typeof v === "string" ? v : JSON.stringify(v) },
          };
          items++;
          continue;
        }
        const fields = Object.keys(values[j]).sort(); // one order whatever the backend returns: exports compare as text
        if (fields.length === 0) continue;
        yield { counter: part[j], value: Object.fromEntries(fields.map((f) => [f, values[j][f]])) };
        counters++;
      }
      progress(items + counters, prefix);
    }
  }
  yield { end: true, items, counters };
}

/** What an import did. */
export interface ImportResult {
  items: number;
  counters: number;
  /** The export's end line was there: nothing was cut off. */
  complete: boolean;
  /** Records written under `quarantine:` instead of their name: no record the pool could use. */
  setAside: number;
}

/** A line of an import that is not a record this pool exports. */
export class ImportError extends Error {}

function check(line: unknown, n: number): ExportLine {
  const bad = (why: string): never => {
    throw new ImportError(`line ${n}: ${why}`);
  };
  if (!line || typeof line !== "object" || Array.isArray(line)) bad("not a JSON object");
  const l = line as Record<string, unknown>;
  if ("format" in l) {
    if (l.format !== EXPORT_FORMAT) bad(`not an ollama-api-pool export (format ${echoed(l.format)})`);
    if (l.version !== EXPORT_VERSION) {
      bad(`export version ${l.version} is not supported (this pool reads version ${EXPORT_VERSION})`);
    }
    return l as ExportLine;
  }
  if (l.end === true) return l as ExportLine;
  const name = typeof l.item === "string"
    ? l.item
    : typeof l.counter === "string"
    ? l.counter
    : bad("neither an item, a counter nor the header or end line");
  const allowed = typeof l.item === "string" ? EXPORTED_ITEMS : EXPORTED_COUNTERS;
  if (!allowed.some((p) => within(name, p)) || /(^|:)\.\.(:|$)/.test(name)) {
    bad(`"${name.slice(0, 80)}" is not a record name an export holds`);
  }
  const value = l.value;
  if (!value || typeof value !== "object" || (Array.isArray(value) && !within(name, "logs"))) {
    bad(`the value of "${name}" is not a JSON object`);
  }
  if (
    typeof l.counter === "string" &&
    Object.values(value as object).some((v) => typeof v !== "number" || !Number.isFinite(v))
  ) {
    bad(`counter "${name}" has a field that is not a finite number`);
  }
  return l as ExportLine;
}

/**
 * Why an exported record is no record the pool could use, or undefined. A token of wrong field
 * types (allowedModels as text) failed every request with it; a counter that is no whole number
 * in the safe range (1e300) cannot be added to (Redis refuses it, elsewhere it swallows every
 * increment). Key records are checked when the pool loads them, where the log names them.
 */
function unusable(line: ExportLine): string | undefined {
  if ("item" in line) {
    return within(line.item, "tokens") ? storedTokenProblem(line.value as Record<string, unknown>) : undefined;
  }
  if ("counter" in line) return counterProblem(line.value);
  return undefined;
}

/**
 * Writes the records of an export into `storage`: plain records are overwritten, counters set to
 * the exported values (removed, then added), so importing the same export twice changes nothing.
 * Lines are parsed and written in batches; the first malformed line stops the import.
 */
export async function importLines(
  storage: Storage,
  sink: CounterSink,
  lines: AsyncIterable<string>,
  progress: Progress = () => {},
): Promise<ImportResult> {
  let items: Array<{ key: string; value: object }> = [];
  let counters = new Map<string, Counters>();
  let aside: Array<{ key: string; value: object }> = [];
  const result: ImportResult = { items: 0, counters: 0, complete: false, setAside: 0 };
  let header = false;
  let n = 0;
  let prefix = "";
  const flush = async (): Promise<void> => {
    if (items.length || aside.length) await storage.setItems([...items, ...aside]);
    if (counters.size) {
      await sink.remove([...counters.keys()]);
      await sink.apply(new Map([...counters].map(([k, add]) => [k, { add, max: {} }])));
    }
    result.items += items.length;
    result.counters += counters.size;
    result.setAside += aside.length;
    aside = [];
    items = [];
    counters = new Map();
    progress(result.items + result.counters, prefix);
  };
  for await (const text of lines) {
    n++;
    if (text.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ImportError(`line ${n}: not JSON`);
    }
    const line = check(parsed, n);
    if (!header) {
      if (!("format" in line)) throw new ImportError(`line ${n}: an export starts with its header line`);
      header = true;
      continue;
    }
    if ("format" in line) throw new ImportError(`line ${n}: a second header`);
    if (result.complete) throw new ImportError(`line ${n}: records after the end line`);
    if ("end" in line) {
      await flush();
      result.complete = true;
      continue;
    }
    const name = "item" in line ? line.item : line.counter;
    prefix = name.slice(0, name.indexOf(":") >>> 0); // progress names the kind of record, not the record
    if (unusable(line) !== undefined) {
      // Set aside as the pool sets aside what it cannot read: kept for the operator, counted in /health.
      const raw = JSON.stringify(line.value).slice(0, MAX_RAW);
      aside.push({ key: `${QUARANTINE_PREFIX}:${name}`, value: { from: name, at: Date.now(), raw } });
    } else if ("item" in line) items.push({ key: line.item, value: line.value });
    else counters.set(line.counter, line.value);
    if (items.length + counters.size + aside.length >= BATCH) await flush();
  }
  await flush();
  if (!header) throw new ImportError("the input is empty: no export header");
  return result;
}
