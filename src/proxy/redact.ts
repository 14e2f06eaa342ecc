/**
 * Keeps the upstream key out of what the pool passes back: an upstream that reflects the key
 * (in an error message, a debug field, an echoed request) must not show it to the client. The
 * search is for the secret's bytes, with the runtime's native `indexOf` for the first byte, so a
 * body without the key costs one scan and no copy.
 * @module
 */

/** What replaces a secret in a body. */
export const REDACTED = "[redacted]";

const encoder = new TextEncoder();
const MARK = encoder.encode(REDACTED);

/** The secrets as bytes, longest first (so a value containing another is replaced whole). */
export function needlesOf(secrets: readonly string[]): Uint8Array[] {
  return secrets.map((s) => encoder.encode(s)).sort((a, b) => b.length - a.length);
}

/** Where `needle` starts in `hay` at or after `from`, or -1. */
function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  for (let i = hay.indexOf(first, from); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** `bytes` with every occurrence of a needle replaced by {@link REDACTED}; `bytes` itself when none occurs. */
export function redactBytes(bytes: Uint8Array, needles: readonly Uint8Array[]): Uint8Array {
  let out = bytes;
  for (const needle of needles) {
    let at = indexOfBytes(out, needle);
    if (at < 0) continue;
    const parts: Uint8Array[] = [];
    let from = 0;
    while (at >= 0) {
      parts.push(out.subarray(from, at), MARK);
      from = at + needle.length;
      at = indexOfBytes(out, needle, from);
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

/** Length of the longest end of `bytes` that is the beginning (not the whole) of a needle. */
function heldTail(bytes: Uint8Array, needles: readonly Uint8Array[]): number {
  let best = 0;
  for (const needle of needles) {
    const window = Math.min(needle.length - 1, bytes.length);
    // Candidates start where the needle's first byte is, within the last `window` bytes.
    for (let i = bytes.lastIndexOf(needle[0]); i >= bytes.length - window && i >= 0; i = i > 0 ? bytes.lastIndexOf(needle[0], i - 1) : -1) {
      const n = bytes.length - i;
      if (n <= best) continue;
      let j = 1;
      while (j < n && bytes[i + j] === needle[j]) j++;
      if (j === n) best = n;
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
   * given back when shorter than 8 bytes (ordinary text such as `"s`), else as {@link REDACTED}:
   * that much of a key is still too much to show.
   */
  flush(): Uint8Array | undefined;
}

/**
 * A redactor for a stream whose chunk boundaries may split a secret. It holds back at most one
 * secret's length minus one byte, and only when a chunk ends with the beginning of a secret
 * (SSE and NDJSON chunks end with a newline, which no key starts with, so normally nothing
 * waits and nothing is copied).
 */
export function streamRedactor(needles: readonly Uint8Array[]): StreamRedactor {
  let held: Uint8Array | undefined;
  return {
    chunk(bytes) {
      const whole = held ? concat([held, bytes]) : bytes;
      held = undefined;
      const out = redactBytes(whole, needles);
      const keep = heldTail(out, needles);
      if (keep === 0) return out;
      held = out.slice(out.length - keep);
      return out.subarray(0, out.length - keep);
    },
    flush() {
      const rest = held;
      held = undefined;
      if (!rest) return undefined;
      return rest.length < 8 ? rest : MARK.slice();
    },
  };
}
