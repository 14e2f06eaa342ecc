/**
 * What the stream tap reads from the bytes it passes on: line breaks (what was produced), usage
 * from the events or lines that contain the wire format's usage marker (nothing else is parsed),
 * and, in drop mode, the usage-only SSE event the pool asked for, taken out again. Most chunks
 * take the fast path: whole lines without the marker are counted on the bytes and passed on.
 * @module
 */
import type { WireFormat } from "../wire/types.ts";
import { markerSearch } from "./marker_search.ts";
import type { Usage } from "./usage.ts";

const encoder = new TextEncoder();

/**
 * Most text observe mode keeps of a line, to read usage from it (a Responses `response.completed`
 * event holds the whole answer); a longer line is not read, its bytes pass on as ever.
 */
const MAX_LINE = 1024 * 1024;
/**
 * Most text drop mode holds back from the client for one SSE event; a longer one passes on
 * unscanned (the usage-only event it removes is a few hundred bytes).
 */
const MAX_EVENT = 64 * 1024;

/** The reading half of the tap; see the module doc. */
export interface StreamScanner {
  /** A chunk from upstream (redacted); returns what goes to the client now (possibly nothing yet). */
  pass(bytes: Uint8Array): Uint8Array | undefined;
  /** The upstream ended: what drop mode still holds back (an unfinished event), if anything. */
  rest(): Uint8Array | undefined;
  /** What finishes a half-written line, so an error frame written next parses on its own. */
  errorLead(): string;
  /** Usage read so far. */
  readonly usage: Usage | undefined;
  /** Line breaks seen so far (an SSE event ends with two, an NDJSON line with one). */
  readonly lines: number;
}

/** Options of {@link createScanner}. */
export interface ScanOptions {
  format: WireFormat;
  /** Remove the SSE event that carries only usage the pool asked for (see WireFormat.isUsageOnly). */
  dropUsageChunk: boolean;
}

/** A scanner for one stream. */
export function createScanner(o: ScanOptions): StreamScanner {
  // Made on the first chunk that needs text: most streams pass every chunk on as bytes.
  let decoder: TextDecoder | undefined;
  const decode = (chunk: Uint8Array): string => (decoder ??= new TextDecoder()).decode(chunk, { stream: true });
  // Text after the last complete line (observe mode) or event (drop mode), as the pieces it came
  // in: only new text is searched for an end, and the pieces are joined once, when it comes (an
  // event in many small chunks costs linear time). Bounded by MAX_LINE / MAX_EVENT.
  let carry: string[] = [];
  let carried = 0; // characters in carry
  let newlineLast = false; // the text so far ends with "\n" (an event end may straddle two chunks)
  let overLong = false; // observe mode: the current line went over MAX_LINE and is not read
  const hold = (text: string): void => {
    if (text === "") return;
    carry.push(text);
    carried += text.length;
  };
  /** The carried text and `text` as one string; carry is left empty. */
  const takeCarry = (text: string): string => {
    const whole = carry.length === 0 ? text : carry.join("") + text;
    carry = [];
    carried = 0;
    return whole;
  };
  let usage: Usage | undefined;
  let lines = 0;
  /** Counts the line breaks of a decoded chunk (an indexOf loop: no allocation). */
  const count = (text: string): void => {
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
  };
  const readUsage = (json: string): Record<string, unknown> | undefined => {
    try {
      const parsed = JSON.parse(json);
      usage = o.format.usageOfEvent(parsed, usage);
      return parsed;
    } catch {
      return undefined;
    }
  };
  // A format whose streams carry no usage gets a marker no text contains (JSON has no raw NUL).
  const marker = o.format.usageMarker ?? "\u0000";
  const sse = o.format.framing === "sse";
  const isUsageOnly = (parsed: unknown): boolean => o.format.isUsageOnly?.(parsed) === true;

  // Observe mode: the original bytes go out untouched; complete lines are scanned for usage.
  const observe = (chunk: Uint8Array): Uint8Array => {
    const text = decode(chunk);
    count(text);
    const cut = text.lastIndexOf("\n");
    if (cut < 0) {
      if (!overLong && carried + text.length > MAX_LINE) {
        carry = [];
        carried = 0;
        overLong = true; // no line that long is read
      }
      if (!overLong) hold(text);
      return chunk;
    }
    let complete = takeCarry(text.slice(0, cut));
    if (overLong) {
      const first = complete.indexOf("\n"); // the end of the over-long line
      complete = first < 0 ? "" : complete.slice(first + 1);
      overLong = false;
    }
    hold(text.slice(cut + 1));
    if (complete.includes(marker)) {
      for (const line of complete.split("\n")) {
        if (!line.includes(marker)) continue;
        if (!sse) readUsage(line);
        else if (line.startsWith("data:")) readUsage(line.replace(/^data:\s?/, ""));
      }
    }
    return chunk;
  };

  /**
   * The usual last chunk: ASCII (so string offsets are byte offsets), whole events, one of them
   * with usage. That event is read and, when usage-only, cut out of the chunk's own bytes instead
   * of the slow path's re-encoding. Undefined (slow path) for anything less plain.
   */
  const cutUsage = (chunk: Uint8Array, text: string, at: number): { bytes: Uint8Array | undefined } | undefined => {
    const prev = text.lastIndexOf("\n\n", at);
    const start = prev < 0 ? 0 : prev + 2;
    const end = text.indexOf("\n\n", at) + 2;
    if (!text.startsWith("data:", start) || text.includes(marker, end)) return undefined;
    const parsed = readUsage(text.slice(start, end - 2).replace(/^data:\s?/, ""));
    if (!isUsageOnly(parsed)) return { bytes: chunk };
    if (start === 0 && end === chunk.length) return { bytes: undefined };
    const out = new Uint8Array(chunk.length - (end - start));
    out.set(chunk.subarray(0, start));
    out.set(chunk.subarray(end), start);
    return { bytes: out };
  };

  // Drop mode (SSE formats that rewrite requests): whole events are re-emitted, minus the usage-only one.
  const filter = (chunk: Uint8Array): Uint8Array | undefined => {
    const text = decode(chunk);
    count(text);
    // The common chunk: whole events, no usage in them. Its own bytes go on, not re-encoded.
    // (Its last byte being "\n" means the decoder holds no half character that the slow path
    // would emit a second time.)
    const whole = chunk[chunk.length - 1] === 10 && text.endsWith("\n\n");
    // And the last chunk ended where a character did: else the decoder held the start of one,
    // which this chunk's own bytes lack (it left with no earlier chunk's output either).
    if (carried === 0 && atLineStart && whole && !text.includes("\r")) {
      newlineLast = true;
      const at = text.indexOf(marker);
      if (at < 0) return chunk;
      const cut = text.length === chunk.length ? cutUsage(chunk, text, at) : undefined;
      if (cut) return cut.bytes;
    }
    const added = text.replaceAll("\r\n", "\n");
    if (added === "") return undefined;
    // The last event end: in the new text, or its first "\n" closing a "\n" the carry ends with.
    const at = added.lastIndexOf("\n\n");
    const cut = at >= 0 ? at + 2 : newlineLast && added.charCodeAt(0) === 10 ? 1 : -1;
    newlineLast = added.charCodeAt(added.length - 1) === 10;
    if (cut < 0) {
      hold(added);
      if (carried <= MAX_EVENT) return undefined;
      return encoder.encode(takeCarry("")); // not SSE as we know it: pass it on rather than hold it
    }
    const complete = takeCarry(added.slice(0, cut));
    hold(added.slice(cut));
    if (!complete.includes(marker)) return encoder.encode(complete);
    let out = "";
    for (const event of complete.split("\n\n")) {
      if (event === "") continue;
      if (event.includes(marker) && event.startsWith("data:")) {
        const parsed = readUsage(event.replace(/^data:\s?/, ""));
        if (isUsageOnly(parsed)) continue;
      }
      out += `${event}\n\n`;
    }
    return out === "" ? undefined : encoder.encode(out);
  };

  // The common chunk needs no text at all: whole lines (whole events in drop mode) that start
  // where the last chunk ended a line (so the decoder and the carry hold nothing) and do not
  // contain the marker. Its line breaks are counted on the bytes and the bytes go on untouched.
  const hasMarker = markerSearch(encoder.encode(marker));
  let atLineStart = true;
  const plain = (b: Uint8Array): boolean => {
    const n = b.length;
    if (!atLineStart || carried !== 0 || overLong || b[n - 1] !== 10) return false;
    if (o.dropUsageChunk && (b[n - 2] !== 10 || b.indexOf(13) >= 0)) return false;
    return !hasMarker(b);
  };
  const slow = o.dropUsageChunk ? filter : observe;
  return {
    pass(b) {
      let out: Uint8Array | undefined;
      if (plain(b)) {
        for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++;
        newlineLast = true;
        out = b;
      } else {
        out = slow(b);
      }
      // A chunk that ends with an ASCII byte leaves the decoder holding nothing.
      atLineStart = b[b.length - 1] === 10;
      return out;
    },
    rest() {
      return carried > 0 && o.dropUsageChunk ? encoder.encode(takeCarry("")) : undefined;
    },
    errorLead() {
      return (carried > 0 || overLong) && !o.dropUsageChunk ? (sse ? "\n\n" : "\n") : "";
    },
    get usage() {
      return usage;
    },
    get lines() {
      return lines;
    },
  };
}
