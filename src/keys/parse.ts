/** Parsers for key imports: ollama.txt lines and plain key lists. @module */
import { type KeyRecord, PRIORITY_RANGE, WEIGHT_RANGE } from "./types.ts";

/** A key found in an import, with the 1-based line it came from. */
export interface ParsedKey {
  secret: string;
  label?: string;
  line: number;
  /** Tier and weight given with the key (JSON imports); absent = keep / default. */
  priority?: number;
  weight?: number;
}

/** A line or entry that could not be read as a key. */
export interface InvalidEntry {
  line: number;
  reason: string;
}

/** What a parse found. `total` counts the non-blank, non-comment entries. */
export interface ParseResult {
  total: number;
  keys: ParsedKey[];
  invalid: InvalidEntry[];
}

const SEPARATOR = "----";
/** Longest key label (`username`) kept: it is free text stored with the key and shown in lists. */
export const MAX_LABEL_LENGTH = 200;
const KEY_SHAPE = /^[\x21-\x7e]{8,512}$/;

/** Why a string is not a usable key, or undefined when it is. */
export function secretProblem(secret: string): string | undefined {
  if (secret.length < 8) return "key is shorter than 8 characters";
  if (secret.length > 512) return "key is longer than 512 characters";
  if (!KEY_SHAPE.test(secret)) return "key contains spaces or non-printable characters";
  return undefined;
}

/**
 * One line of ollama.txt: `email----password----session----api_key`, the key being the last field;
 * a line without `----` is a bare key. Undefined for a blank line or a `#` comment (not counted).
 */
export function parseKeyLine(raw: string, line: number): ParsedKey | InvalidEntry | undefined {
  const text = raw.trim();
  if (text === "" || text.startsWith("#")) return undefined;
  const parts = text.split(SEPARATOR);
  const secret = parts[parts.length - 1].trim();
  if (parts.length > 1 && parts.length !== 4) {
    return { line, reason: `expected 4 fields separated by "----", found ${parts.length}` };
  }
  const problem = secretProblem(secret);
  if (problem) return { line, reason: problem };
  const label = parts.length > 1 ? parts[0].trim() || undefined : undefined;
  if (label !== undefined && label.length > MAX_LABEL_LENGTH) {
    return { line, reason: `username (the first field) is longer than ${MAX_LABEL_LENGTH} characters` };
  }
  return { secret, label, line };
}

/** Whether a parsed line is a problem rather than a key. */
export const isInvalid = (x: ParsedKey | InvalidEntry): x is InvalidEntry => "reason" in x;

/**
 * Reads a whole ollama.txt (see {@link parseKeyLine}). Blank lines and `#` comments are skipped;
 * malformed lines are reported, never fatal. Large imports read their lines as they arrive
 * instead (import_text.ts).
 * @example
 * parseKeyLines("me@x.io----pw----sess----abcd1234efgh\n\nbare-key-12345678")
 */
export function parseKeyLines(content: string): ParseResult {
  const result: ParseResult = { total: 0, keys: [], invalid: [] };
  const lines = content.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const parsed = parseKeyLine(lines[i], i + 1);
    if (!parsed) continue;
    result.total++;
    if (isInvalid(parsed)) result.invalid.push(parsed);
    else result.keys.push(parsed);
  }
  return result;
}

/** Why a priority or weight is not usable, or undefined when it is (or absent). */
export function placementProblem(name: "priority" | "weight", v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const { min, max } = name === "priority" ? PRIORITY_RANGE : WEIGHT_RANGE;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    return `'${name}' must be an integer from ${min} to ${max}`;
  }
  return undefined;
}

const KEY_STATES = new Set(["active", "cooling", "disabled"]);

/**
 * Why a record read from storage is not a usable key record, or undefined when it is. Records
 * arrive from imports, other programs and hand edits as well as from this pool: a secret that is
 * no valid header value made every request that picked it fail, and the header error quoted the
 * secret into the log.
 */
export function storedKeyProblem(value: Record<string, unknown>): string | undefined {
  const rec = value as Partial<Record<keyof KeyRecord, unknown>>;
  if (typeof rec.id !== "string" || rec.id === "") return "no id";
  if (typeof rec.provider !== "string") return "no provider";
  if (typeof rec.secret !== "string" || secretProblem(rec.secret)) return "its secret is not a usable key";
  if (typeof rec.state !== "string" || !KEY_STATES.has(rec.state)) return "unknown state";
  return placementProblem("priority", rec.priority ?? undefined) ?? placementProblem("weight", rec.weight ?? undefined);
}

/**
 * Reads a JSON list of keys (`{keys: [...]}`): strings, or `{key|api_key|apiKey, username?,
 * priority?, weight?}` objects.
 */
export function parseKeyList(entries: unknown[]): ParseResult {
  const result: ParseResult = { total: entries.length, keys: [], invalid: [] };
  entries.forEach((entry, i) => {
    const obj = typeof entry === "object" && entry !== null ? entry as Record<string, unknown> : undefined;
    const raw = typeof entry === "string" ? entry : obj?.key ?? obj?.api_key ?? obj?.apiKey;
    if (typeof raw !== "string") {
      result.invalid.push({ line: i + 1, reason: "entry is not a key string or {key} object" });
      return;
    }
    const secret = raw.trim();
    const problem = secretProblem(secret);
    if (problem) {
      result.invalid.push({ line: i + 1, reason: problem });
      return;
    }
    const bad = placementProblem("priority", obj?.priority) ?? placementProblem("weight", obj?.weight);
    if (bad) {
      result.invalid.push({ line: i + 1, reason: bad });
      return;
    }
    const label = typeof obj?.username === "string" ? obj.username : undefined;
    if (label !== undefined && label.length > MAX_LABEL_LENGTH) {
      result.invalid.push({ line: i + 1, reason: `'username' is longer than ${MAX_LABEL_LENGTH} characters` });
      return;
    }
    const key: ParsedKey = { secret, label, line: i + 1 };
    if (obj?.priority !== undefined) key.priority = obj.priority as number;
    if (obj?.weight !== undefined) key.weight = obj.weight as number;
    result.keys.push(key);
  });
  return result;
}
