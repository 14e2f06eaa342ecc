/**
 * Keeps the upstream key out of what the pool passes back: an upstream that reflects the key
 * (in an error message, a debug field, an echoed request) must not show it to the client, in
 * any form a JSON encoder may write it in: byte for byte, with `/` as `\/` (PHP's json_encode),
 * with any character as `\uXXXX` (either case of hex: .NET escapes `+` as `\u002B`, some
 * encoders escape everything), and those escapes escaped once more (a JSON document
 * quoted inside a JSON string). Candidates are found with the runtime's native `indexOf` for the
 * key's first byte and for `\`, so a body with neither costs one scan per byte value and no copy.
 * @module
 */

/** What replaces a secret in a body. */
export const REDACTED = "[redacted]";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const MARK = encoder.encode(REDACTED);
const BACKSLASH = 0x5c;
const LETTER_U = 0x75;
/**
 * Most backslashes in front of an escape: `\/` as written once; `\\u0041` or `\\\/` escaped
 * again (JSON quoted in a JSON string). Deeper nesting is not recognised.
 */
const MAX_BACKSLASHES = 3;
/** Longest form of one UTF-16 unit: the backslashes, `u`, four hex digits. */
const MAX_UNIT_FORM = MAX_BACKSLASHES + 5;

/** One character of a secret and what it may be written as. */
interface SecretChar {
  /** Its UTF-8 bytes. */
  raw: Uint8Array;
  /** Its UTF-16 units, for the `\uXXXX` forms. */
  units: number[];
  /** The byte after a backslash that stands for it (`/` and `"`), else -1. */
  short: number;
}

/** A secret compiled for matching (see {@link patternOf}). */
interface Pattern {
  chars: SecretChar[];
  first: number;
  /** Longest form the whole secret can take, minus one: the most a stream ever holds back for it. */
  window: number;
  /** Bytes that can occur inside some form of the secret: a chunk ending in another holds nothing back. */
  alphabet: Uint8Array;
}

/** The secrets as bytes, longest first (so a value containing another is replaced whole). */
export function needlesOf(secrets: readonly string[]): Uint8Array[] {
  return secrets.map((s) => encoder.encode(s)).sort((a, b) => b.length - a.length);
}

/** Compiled patterns per needle: computed once per key (needles are cached per key), gone with it. */
const patterns = new WeakMap<Uint8Array, Pattern>();

function patternOf(needle: Uint8Array): Pattern {
  let p = patterns.get(needle);
  if (p) return p;
  const chars: SecretChar[] = [];
  const alphabet = new Uint8Array(256);
  for (const b of [BACKSLASH, LETTER_U, ...encoder.encode("0123456789abcdefABCDEF")]) alphabet[b] = 1;
  let window = 0;
  for (const ch of decoder.decode(needle)) {
    const raw = encoder.encode(ch);
    const units = Array.from({ length: ch.length }, (_, i) => ch.charCodeAt(i));
    const short = ch === "/" || ch === '"' ? ch.charCodeAt(0) : -1;
    for (const b of raw) alphabet[b] = 1;
    chars.push({ raw, units, short });
    window += Math.max(raw.length, units.length * MAX_UNIT_FORM);
  }
  p = { chars, first: needle[0], window: window - 1, alphabet };
  patterns.set(needle, p);
  return p;
}

/** matchAt(): the bytes ended before the secret did (a possible start of it). */
const PARTIAL = -2;
const MISMATCH = -1;
/** Characters of the secret a PARTIAL result had matched. */
let partialChars = 0;

/** The value of the four hex digits at `at`, -1 if they are not hex, PARTIAL if the bytes end. */
function hex4(hay: Uint8Array, at: number): number {
  if (at + 4 > hay.length) {
    for (let i = at; i < hay.length; i++) if (hexDigit(hay[i]) < 0) return MISMATCH;
    return PARTIAL;
  }
  let v = 0;
  for (let i = at; i < at + 4; i++) {
    const d = hexDigit(hay[i]);
    if (d < 0) return MISMATCH;
    v = v * 16 + d;
  }
  return v;
}

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const l = b | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** End of the backslash run at `at` (at most MAX_BACKSLASHES long, then one more to say "too many"). */
function runEnd(hay: Uint8Array, at: number): number {
  let q = at;
  while (q < hay.length && hay[q] === BACKSLASH && q - at <= MAX_BACKSLASHES) q++;
  return q;
}

/**
 * Where a form of the secret that starts at `at` ends (exclusive), or MISMATCH, or PARTIAL when
 * `hay` ends inside one. Each character is read as itself or, at a backslash, as an escape: a
 * deterministic walk (a raw character never starts with a backslash), so no backtracking.
 * A backslash in a secret is matched only as itself.
 */
function matchAt(hay: Uint8Array, at: number, p: Pattern): number {
  let i = at;
  for (let k = 0; k < p.chars.length; k++) {
    const c = p.chars[k];
    partialChars = k;
    if (i >= hay.length) return PARTIAL;
    if (hay[i] !== BACKSLASH || c.raw[0] === BACKSLASH) {
      for (let j = 0; j < c.raw.length; j++, i++) {
        if (i >= hay.length) return PARTIAL;
        if (hay[i] !== c.raw[j]) return MISMATCH;
      }
      continue;
    }
    for (let u = 0; u < c.units.length; u++) {
      if (i >= hay.length) return PARTIAL;
      if (hay[i] !== BACKSLASH) return MISMATCH;
      const q = runEnd(hay, i);
      if (q - i > MAX_BACKSLASHES) return MISMATCH;
      if (q >= hay.length) return PARTIAL;
      if (u === 0 && hay[q] === c.short) {
        i = q + 1;
        break;
      }
      if (hay[q] !== LETTER_U) return MISMATCH;
      const v = hex4(hay, q + 1);
      if (v === PARTIAL || v === MISMATCH) return v;
      if (v !== c.units[u]) return MISMATCH;
      i = q + 5;
    }
  }
  return i;
}

/** End of the match {@link find} last returned. */
let matchEnd = 0;

/**
 * Where the first complete form of the secret starts in `hay` at or after `from` (its end in
 * {@link matchEnd}), or -1. With `partial`, also a form cut off by the end of `hay`.
 */
function find(hay: Uint8Array, p: Pattern, from: number, partial = false): number {
  let a = hay.indexOf(p.first, from);
  let b = p.first === BACKSLASH ? -1 : hay.indexOf(BACKSLASH, from);
  const short = p.chars[0].short;
  while (a >= 0 || b >= 0) {
    const i = b < 0 || (a >= 0 && a < b) ? a : b;
    if (i === b) {
      // Most backslashes start an ordinary escape (`\n`, `\"`, `\\`): rejected on the byte
      // after the run, before any matching.
      let q = i + 1;
      while (q < hay.length && hay[q] === BACKSLASH) q++;
      if (q < hay.length && hay[q] !== LETTER_U && hay[q] !== short) {
        b = hay.indexOf(BACKSLASH, q + 1);
        continue;
      }
    }
    const end = matchAt(hay, i, p);
    if (end >= 0 || (partial && end === PARTIAL)) {
      matchEnd = end;
      return i;
    }
    if (i === a) a = hay.indexOf(p.first, i + 1);
    // Inside a run of backslashes only its last MAX_BACKSLASHES can start an escape: skipping
    // the rest keeps a body full of backslashes linear.
    else b = hay.indexOf(BACKSLASH, Math.max(i + 1, runToEnd(hay, i) - MAX_BACKSLASHES));
  }
  return -1;
}

function runToEnd(hay: Uint8Array, at: number): number {
  let q = at;
  while (q < hay.length && hay[q] === BACKSLASH) q++;
  return q;
}

/** `bytes` with every form of a needle replaced by {@link REDACTED}; `bytes` itself when none occurs. */
export function redactBytes(bytes: Uint8Array, needles: readonly Uint8Array[]): Uint8Array {
  let out = bytes;
  for (const needle of needles) {
    const p = patternOf(needle);
    let at = find(out, p, 0);
    if (at < 0) continue;
    const parts: Uint8Array[] = [];
    let from = 0;
    while (at >= 0) {
      parts.push(out.subarray(from, at), MARK);
      from = matchEnd;
      at = find(out, p, from);
    }
    parts.push(out.subarray(from));
    out = concat(parts);
  }
  return out;
}

/** The byte arrays one after another, in a new array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Characters of a secret that the end {@link heldTail} last found already shows. */
let heldChars = 0;

/**
 * The longest end of `bytes` that is the beginning (not the whole) of a form of a needle: its
 * length (and {@link heldChars}). Looks at the last `window` bytes only, and at none when the
 * last byte cannot be part of a form.
 */
function heldTail(bytes: Uint8Array, needles: readonly Uint8Array[]): number {
  let best = 0;
  heldChars = 0;
  if (bytes.length === 0) return 0;
  for (const needle of needles) {
    const p = patternOf(needle);
    if (!p.alphabet[bytes[bytes.length - 1]]) continue;
    for (let from = Math.max(0, bytes.length - p.window);;) {
      const at = find(bytes, p, from, true);
      if (at < 0) break;
      if (matchEnd >= 0) { // a complete form is no start to hold (redactBytes left it: overlap)
        from = matchEnd;
        continue;
      }
      best = Math.max(best, bytes.length - at);
      heldChars = Math.max(heldChars, partialChars);
      break;
    }
  }
  return best;
}

/** Redaction across the chunks of a stream. */
export interface StreamRedactor {
  /** The chunk, redacted, minus an end that may be the start of a secret (held for the next chunk). */
  chunk(bytes: Uint8Array): Uint8Array;
  /**
   * What is still held at the end of the stream: a start of a secret that never completed. It is
   * given back when it shows fewer than 8 of the secret's characters (ordinary text such as
   * `"s`), else as {@link REDACTED}: that much of a key is still too much to show.
   */
  flush(): Uint8Array | undefined;
}

/**
 * A redactor for a stream whose chunk boundaries may split a secret. It holds back at most the
 * longest form of a secret minus one byte (8 bytes per character of the secret: `\\\u002f` is
 * the longest form of one character; so ~500 bytes for a 64-character key), and only when a
 * chunk ends with the beginning of a form (SSE and NDJSON chunks end with a newline, which no
 * form contains, so normally nothing waits and nothing is copied).
 */
export function streamRedactor(needles: readonly Uint8Array[]): StreamRedactor {
  let held: Uint8Array | undefined;
  let shown = 0;
  return {
    chunk(bytes) {
      const whole = held ? concat([held, bytes]) : bytes;
      held = undefined;
      const out = redactBytes(whole, needles);
      const keep = heldTail(out, needles);
      if (keep === 0) return out;
      shown = heldChars;
      held = out.slice(out.length - keep);
      return out.subarray(0, out.length - keep);
    },
    flush() {
      const rest = held;
      held = undefined;
      if (!rest) return undefined;
      return shown < 8 ? rest : MARK.slice();
    },
  };
}
