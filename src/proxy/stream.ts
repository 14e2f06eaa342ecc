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
 * Most text held back while waiting for the end of a line or event. SSE events and NDJSON lines
 * are small; an upstream that sends more without a newline is passed on as it is, unscanned.
 */
const MAX_CARRY = 1024 * 1024;

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
  let carry = ""; // text after the last complete line (observe mode) or event (drop mode)
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
      carry = carry.length > MAX_CARRY ? "" : carry + text;
      return chunk;
    }
    const complete = carry + text.slice(0, cut);
    carry = text.slice(cut + 1);
    if (carry.length > MAX_CARRY) carry = ""; // no line that long carries usage
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
    if (carry === "" && whole && !text.includes("\r")) {
      const at = text.indexOf(marker);
      if (at < 0) return chunk;
      const cut = text.length === chunk.length ? cutUsage(chunk, text, at) : undefined;
      if (cut) return cut.bytes;
    }
    carry += text.replaceAll("\r\n", "\n");
    const cut = carry.lastIndexOf("\n\n");
    if (cut < 0) {
      if (carry.length <= MAX_CARRY) return undefined;
      const out = encoder.encode(carry); // not SSE as we know it: pass it on rather than hold it
      carry = "";
      return out;
    }
    const complete = carry.slice(0, cut + 2);
    carry = carry.slice(cut + 2);
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
      const tail = carry !== "" && o.dropUsageChunk ? encoder.encode(carry) : undefined;
      end({ kind: "done" });
      return last && tail ? concat([last, tail]) : last ?? tail;
    },
    failed(error) {
      // Finish a half-written line so the error frame parses on its own.
      const lead = carry !== "" && !o.dropUsageChunk ? (sse ? "\n\n" : "\n") : "";
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
  const tap = createTap(o);
  let over = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          tap.waiting();
          const { done, value } = await reader.read();
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
