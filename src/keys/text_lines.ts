/**
 * Lines of a text read as it arrives, with a bound on each line: what lets an import of a
 * 100,000-line file hold one network chunk and one partial line at a time, never the whole body.
 * @module
 */

/**
 * Longest line read, in UTF-8 bytes. An ollama.txt line is an e-mail, a password, a session
 * token and a key (at most 512 characters): a few hundred bytes, a few KB with a long session.
 */
export const MAX_LINE_BYTES = 64 * 1024;

/** A line that could not be read as text: reported with its number, like a malformed key line. */
export interface UnreadableLine {
  problem: string;
}

/** A line's text (without its "\n"), or why it could not be read. */
export type TextLine = string | UnreadableLine;

const NEWLINE = 0x0a;
const TOO_LONG: UnreadableLine = { problem: `line is longer than ${MAX_LINE_BYTES.toLocaleString("en-US")} bytes` };
const NOT_UTF8: UnreadableLine = { problem: "line is not valid UTF-8" };
const utf8Length = (s: string): number => new TextEncoder().encode(s).byteLength;

/**
 * Splits bytes into lines at "\n", a byte that never occurs inside a multi-byte UTF-8 sequence, so
 * each line is decoded on its own: a line that is not UTF-8 is reported and the others still read.
 * Holds at most one partial line ({@link MAX_LINE_BYTES}); a longer line is skipped to its end and
 * reported. A UTF-8 byte order mark at the start is dropped.
 */
export class LineSplitter {
  /** The line begun in earlier chunks; its size is bounded by MAX_LINE_BYTES. */
  #carry: Uint8Array[] = [];
  #carryBytes = 0;
  /** The current line grew past the bound: its bytes are dropped up to its "\n". */
  #skipping = false;
  #first = true;
  /** One call per line or span (never `stream: true`), so no state is carried between calls. */
  #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  /** The lines that `chunk` completes, in order. */
  push(chunk: Uint8Array): TextLine[] {
    const lines: TextLine[] = [];
    let start = 0;
    let nl = chunk.indexOf(NEWLINE);
    if (nl >= 0 && (this.#carryBytes > 0 || this.#skipping)) {
      // The chunk ends the line carried over from earlier chunks.
      lines.push(this.#skipping ? this.#line(TOO_LONG) : this.#decodeCarried(chunk.subarray(0, nl)));
      this.#skipping = false;
      start = nl + 1;
      nl = chunk.indexOf(NEWLINE, start);
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (nl >= 0) this.#decodeSpan(chunk.subarray(start, last), lines);
    if (last >= start) start = last + 1;
    this.#hold(chunk.subarray(start));
    return lines;
  }

  /** The last line, when the text does not end with "\n". */
  end(): TextLine[] {
    if (this.#skipping) {
      this.#skipping = false;
      return [this.#line(TOO_LONG)];
    }
    return this.#carryBytes === 0 ? [] : [this.#decodeCarried(new Uint8Array(0))];
  }

  /** Keeps the start of an unfinished line, or gives up on it once it passes the bound. */
  #hold(rest: Uint8Array): void {
    if (rest.byteLength === 0 || this.#skipping) return;
    if (this.#carryBytes + rest.byteLength > MAX_LINE_BYTES) {
      this.#carry = [];
      this.#carryBytes = 0;
      this.#skipping = true;
      return;
    }
    this.#carry.push(rest.slice()); // a copy: the caller may reuse its buffer
    this.#carryBytes += rest.byteLength;
  }

  #decodeCarried(tail: Uint8Array): TextLine {
    const bytes = new Uint8Array(this.#carryBytes + tail.byteLength);
    let at = 0;
    for (const part of [...this.#carry, tail]) {
      bytes.set(part, at);
      at += part.byteLength;
    }
    this.#carry = [];
    this.#carryBytes = 0;
    return this.#decodeLine(bytes);
  }

  /** Whole lines separated by "\n": decoded in one call; line by line only when that fails. */
  #decodeSpan(span: Uint8Array, out: TextLine[]): void {
    let text: string;
    try {
      text = this.#decoder.decode(span);
    } catch {
      for (let from = 0; from <= span.byteLength;) {
        const nl = span.indexOf(NEWLINE, from);
        const to = nl < 0 ? span.byteLength : nl;
        out.push(this.#decodeLine(span.subarray(from, to)));
        from = to + 1;
      }
      return;
    }
    for (const line of linesOfText(text)) out.push(this.#line(line));
  }

  #decodeLine(bytes: Uint8Array): TextLine {
    if (bytes.byteLength > MAX_LINE_BYTES) return this.#line(TOO_LONG);
    try {
      return this.#line(this.#decoder.decode(bytes));
    } catch {
      return this.#line(NOT_UTF8);
    }
  }

  /** Every line passes here once, in order: the first loses a byte order mark. */
  #line(line: TextLine): TextLine {
    if (!this.#first) return line;
    this.#first = false;
    return typeof line === "string" && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
  }
}

/**
 * The lines of a text already in memory, with the same bound as {@link LineSplitter} (a byte
 * order mark is left to the caller: trimming a line removes it).
 */
export function* linesOfText(text: string): Generator<TextLine> {
  for (let from = 0; from <= text.length;) {
    const nl = text.indexOf("\n", from);
    const to = nl < 0 ? text.length : nl;
    // Characters ≤ bytes: only a line this long in characters can be too long in bytes.
    yield to - from > MAX_LINE_BYTES / 3 && utf8Length(text.slice(from, to)) > MAX_LINE_BYTES
      ? TOO_LONG
      : text.slice(from, to);
    from = to + 1;
  }
}
