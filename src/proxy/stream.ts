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

/** The in-band error frame that ends a broken stream, in the wire format's own shape. */
export function errorFrame(format: WireFormat, message: string): string {
  return format.streamError(message);
}

/**
 * The tap as hooks on a byte stream, for whoever moves the bytes: {@link tapStream} here, or a
 * transport that runs it inside the stream it built (BODY_TAP in attempt.ts).
 */
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
  let idle: ReturnType<typeof setTimeout> | undefined;
  let stalled = false;
  const quiet = (): void => {
    clearTimeout(idle);
    idle = undefined;
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
    if (carried === 0 && whole && !text.includes("\r")) {
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

  const pass = o.dropUsageChunk ? filter : observe;
  return {
    chunk(chunk) {
      quiet();
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
      if (idle !== undefined || ended || !o.idleTimeoutMs) return;
      idle = setTimeout(() => {
        idle = undefined;
        stalled = true;
        o.abortUpstream(new DOMException(`upstream sent nothing for ${o.idleTimeoutMs} ms`, "TimeoutError"));
      }, o.idleTimeoutMs);
    },
  };
}

/** Wraps an upstream body in a tapped stream; see the module doc. */
export function tapStream(upstream: ReadableStream<Uint8Array>, o: TapOptions): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  // A stall ends the pending read here, not only through the upstream request's abort: a
  // runtime's fetch may leave a read pending after the abort (Node's, with a corrupt gzip body).
  let stalled: Error | undefined;
  const tap = createTap({
    ...o,
    abortUpstream: (reason) => {
      if (reason) (stalled = reason, reader.cancel(reason).catch(() => {}));
      o.abortUpstream(reason);
    },
  });
  let over = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          tap.waiting();
          const { done, value } = await reader.read();
          if (stalled) throw stalled;
          if (done) {
            over = true;
            const tail = tap.done();
            if (tail) controller.enqueue(tail);
            controller.close();
            return;
          }
          const out = tap.chunk(value);
          if (out) {
            controller.enqueue(out);
            return;
          }
        }
      } catch (error) {
        if (over) return;
        over = true;
        controller.enqueue(tap.failed(error));
        controller.close();
      }
    },
    cancel(reason) {
      over = true;
      tap.cancelled();
      reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}
