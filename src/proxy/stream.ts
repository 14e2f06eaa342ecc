/**
 * Stream pass-through with a usage tap. Bytes flow chunk by chunk as the client reads them
 * (pull-based, no buffering beyond one incomplete line or event). The tap reads usage from the
 * events or lines that contain the wire format's usage marker (nothing else is parsed); it drops
 * the usage-only SSE chunk when the pool, not the client, asked for it. An upstream failure after the first byte ends the stream with an
 * in-band error event instead of a silent truncation.
 * @module
 */
import type { WireFormat } from "../wire/types.ts";
import { concat, streamRedactor } from "./redact.ts";
import type { Usage } from "./usage.ts";

/**
 * How a tapped stream ended. `lines`: line breaks the upstream sent so far (an SSE event ends
 * with two, an NDJSON line with one): what was produced, when no usage came to say it exactly.
 */
export type StreamEnd =
  | { kind: "done"; usage?: Usage; lines: number; bytes?: number }
  | { kind: "error"; error: unknown; usage?: Usage; lines: number; bytes?: number }
  | { kind: "cancelled"; usage?: Usage; lines: number; bytes?: number };

/** Options of {@link tapStream}. */
export interface TapOptions {
  format: WireFormat;
  /** Remove the SSE event that carries only usage the pool asked for (see WireFormat.isUsageOnly). */
  dropUsageChunk: boolean;
  /** Called once, when the stream ends in any way. */
  onEnd(end: StreamEnd): void;
  /** Stops the upstream request (the client went away, or the upstream went quiet). */
  abortUpstream(reason?: Error): void;
  /**
   * Longest wait for the next upstream chunk while the client waits for one; then the upstream
   * request is aborted and the stream ends with the in-band error. Time a slow client takes to
   * read is not counted.
   */
  idleTimeoutMs?: number;
  /** Secrets (as bytes) to redact from the stream; see redact.ts. */
  secrets?: Uint8Array[];
}

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

/** Letters from the most to the least frequent in English text (and so in JSON content). */
const LETTER_FREQUENCY = "etaoinshrdlucmfwypvbgkjqxz";

/**
 * The byte of `marker` least likely in ordinary stream text, and where it sits: searching for it
 * first finds few false starts (`g` of `"usage"`, not its quote). Non-letters count as common.
 */
function rarestByte(marker: Uint8Array): { byte: number; at: number } {
  let at = 0;
  let best = -1;
  marker.forEach((b, i) => {
    const rank = LETTER_FREQUENCY.indexOf(String.fromCharCode(b));
    if (rank > best) (best = rank, at = i);
  });
  return { byte: marker[at], at };
}

/** The in-band error frame that ends a broken stream, in the wire format's own shape. */
export function errorFrame(format: WireFormat, message: string): string {
  return format.streamError(message);
}

/** The tap as hooks on a byte stream, driven by the one driver of stream bodies (body_stream.ts). */
export interface StreamTap {
  /** A chunk from upstream; returns what goes to the client now (possibly nothing yet). */
  chunk(bytes: Uint8Array): Uint8Array | undefined;
  /** Upstream ended; returns bytes still held back, if any. */
  done(): Uint8Array | undefined;
  /** Upstream failed after the first byte; returns the in-band error to end the stream with. */
  failed(error: unknown): Uint8Array;
  /** The client went away. */
  cancelled(): void;
  /** A read waits for the next upstream chunk: the idle timer runs until chunk() or the end. */
  waiting(): void;
}

/** The tap's state machine; see the module doc. */
export function createTap(o: TapOptions): StreamTap {
  const decoder = new TextDecoder();
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
  let ended = false;
  let bytes = 0; // what the upstream sent, for the request log
  // The idle timer: one per stream, re-armed only when it fires (not a timer per chunk, which
  // cost more than the rest of the tap). `waitingSince`: when the reader began waiting for the
  // next chunk, undefined while it is not.
  let idle: ReturnType<typeof setTimeout> | undefined;
  let waitingSince: number | undefined;
  let stalled = false;
  const quiet = (): void => {
    clearTimeout(idle);
    idle = undefined;
  };
  const check = (): void => {
    idle = undefined;
    if (ended || waitingSince === undefined) return; // re-armed by the next waiting()
    const left = o.idleTimeoutMs! - (performance.now() - waitingSince);
    if (left > 0) {
      idle = setTimeout(check, left);
      return;
    }
    stalled = true;
    o.abortUpstream(new DOMException(`upstream sent nothing for ${o.idleTimeoutMs} ms`, "TimeoutError"));
  };
  const end = (e: { kind: "done" | "cancelled" } | { kind: "error"; error: unknown }): void => {
    quiet();
    if (ended) return;
    ended = true;
    o.onEnd({ ...e, usage, lines, bytes } as StreamEnd);
  };
  /** Counts the line breaks of a decoded chunk (an indexOf loop: no allocation). */
  const count = (text: string): void => {
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
  };
  const redactor = o.secrets?.length ? streamRedactor(o.secrets) : undefined;
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
    const text = decoder.decode(chunk, { stream: true });
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
    const text = decoder.decode(chunk, { stream: true });
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
  const markerBytes = encoder.encode(marker);
  const rare = rarestByte(markerBytes);
  const hasMarker = (b: Uint8Array): boolean => {
    const last = b.length - markerBytes.length + rare.at;
    for (let i = b.indexOf(rare.byte, rare.at); i >= 0 && i <= last; i = b.indexOf(rare.byte, i + 1)) {
      let j = 0;
      const start = i - rare.at;
      while (j < markerBytes.length && b[start + j] === markerBytes[j]) j++;
      if (j === markerBytes.length) return true;
    }
    return false;
  };
  let atLineStart = true;
  const plain = (b: Uint8Array): boolean => {
    const n = b.length;
    if (!atLineStart || carried !== 0 || overLong || b[n - 1] !== 10) return false;
    if (o.dropUsageChunk && (b[n - 2] !== 10 || b.indexOf(13) >= 0)) return false;
    return !hasMarker(b);
  };
  const slow = o.dropUsageChunk ? filter : observe;
  const pass = (b: Uint8Array): Uint8Array | undefined => {
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
  };
  return {
    chunk(chunk) {
      waitingSince = undefined;
      bytes += chunk.byteLength;
      if (!redactor) return pass(chunk);
      const clean = redactor.chunk(chunk);
      return clean.length === 0 ? undefined : pass(clean);
    },
    done() {
      const held = redactor?.flush();
      const last = held ? pass(held) : undefined;
      const tail = carried > 0 && o.dropUsageChunk ? encoder.encode(takeCarry("")) : undefined;
      end({ kind: "done" });
      return last && tail ? concat([last, tail]) : last ?? tail;
    },
    failed(error) {
      // Finish a half-written line so the error frame parses on its own.
      const lead = (carried > 0 || overLong) && !o.dropUsageChunk ? (sse ? "\n\n" : "\n") : "";
      const message = stalled
        ? `upstream sent nothing for ${o.idleTimeoutMs} ms; the answer is incomplete`
        : "upstream stream failed after the response started; the answer is incomplete";
      end({ kind: "error", error });
      return encoder.encode(lead + errorFrame(o.format, message));
    },
    cancelled() {
      end({ kind: "cancelled" });
      o.abortUpstream();
    },
    waiting() {
      if (waitingSince !== undefined || ended || !o.idleTimeoutMs) return;
      waitingSince = performance.now();
      idle ??= setTimeout(check, o.idleTimeoutMs);
    },
  };
}
