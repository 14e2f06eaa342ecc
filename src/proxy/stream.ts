/**
 * The stream tap: the pool's hooks on an upstream SSE or NDJSON body as it passes to the client
 * chunk by chunk (pull-based, no buffering beyond one incomplete line or event). It redacts the
 * key, hands the bytes to the scanner (stream_scan.ts: usage, line count, the usage-only event
 * the pool asked for), bounds the wait for the next chunk while the client waits for one, and
 * reports once how the stream ended. An upstream failure after the first byte ends the stream
 * with an in-band error event instead of a silent truncation. Driven by body_stream.ts.
 * @module
 */
import type { WireFormat } from "../wire/types.ts";
import { concat, streamRedactor } from "./redact.ts";
import { createScanner } from "./stream_scan.ts";
import type { Usage } from "./usage.ts";

/**
 * How a tapped stream ended. `lines`: line breaks the upstream sent so far (an SSE event ends
 * with two, an NDJSON line with one): what was produced, when no usage came to say it exactly.
 */
export type StreamEnd =
  | { kind: "done"; usage?: Usage; lines: number; bytes?: number }
  | { kind: "error"; error: unknown; usage?: Usage; lines: number; bytes?: number }
  | { kind: "cancelled"; usage?: Usage; lines: number; bytes?: number };

/** Options of {@link createTap}. */
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
  const scanner = createScanner(o);
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
    o.onEnd({ ...e, usage: scanner.usage, lines: scanner.lines, bytes } as StreamEnd);
  };
  const redactor = o.secrets?.length ? streamRedactor(o.secrets) : undefined;
  return {
    chunk(chunk) {
      waitingSince = undefined;
      bytes += chunk.byteLength;
      if (!redactor) return scanner.pass(chunk);
      const clean = redactor.chunk(chunk);
      return clean.length === 0 ? undefined : scanner.pass(clean);
    },
    done() {
      const held = redactor?.flush();
      const last = held ? scanner.pass(held) : undefined;
      const tail = scanner.rest();
      end({ kind: "done" });
      return last && tail ? concat([last, tail]) : last ?? tail;
    },
    failed(error) {
      // Finish a half-written line so the error frame parses on its own.
      const lead = scanner.errorLead();
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
