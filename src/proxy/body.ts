/**
 * Reading a whole upstream body into memory, bounded in size and in time. Every answer the pool
 * buffers (non-stream answers, error bodies it passes back, probe answers) is read here, so
 * none can grow memory without a bound or hold a request forever.
 * @module
 */
import { BODY_BYTES, BODY_STREAM } from "./attempt.ts";
import { concat } from "./redact.ts";

/** Limits of {@link readBody}. */
export interface BodyLimits {
  /**
   * Most bytes kept, counted after decompression (the transport decodes): a small compressed
   * answer that inflates beyond this stops here. Reading stops at the first chunk that crosses
   * the bound, so memory peaks at this plus one chunk (16–64 KiB).
   */
  maxBytes: number;
  /** Longest wait for the next chunk. */
  idleMs: number;
}

/** What reading a body gave: its bytes, or why there are none. */
export type BodyRead =
  | { ok: true; bytes: Uint8Array<ArrayBuffer> }
  | { ok: false; why: "too_large" | "stalled" | "broken" };

const EMPTY = new Uint8Array(0);

/** Reads `res`'s body within `limits`; never throws. A body given up on is cancelled. */
export async function readBody(res: Response, limits: BodyLimits): Promise<BodyRead> {
  const buffered = (res as { [BODY_BYTES]?: Uint8Array<ArrayBuffer> })[BODY_BYTES];
  if (buffered) return buffered.length > limits.maxBytes ? { ok: false, why: "too_large" } : { ok: true, bytes: buffered };
  let stream: ReadableStream<Uint8Array> | null;
  try {
    stream = (res as { [BODY_STREAM]?: ReadableStream<Uint8Array> })[BODY_STREAM] ?? res.body;
  } catch {
    return { ok: false, why: "broken" };
  }
  if (!stream) return { ok: true, bytes: EMPTY };
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = stream.getReader();
  } catch {
    return { ok: false, why: "broken" }; // already read or locked
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  const giveUp = (why: "too_large" | "stalled" | "broken"): BodyRead => {
    reader.cancel().catch(() => {});
    return { ok: false, why };
  };
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<"stalled">((resolve) => {
      timer = setTimeout(() => resolve("stalled"), limits.idleMs);
    });
    let next: ReadableStreamReadResult<Uint8Array> | "stalled" | "broken";
    try {
      next = await Promise.race([reader.read(), stalled]);
    } catch {
      next = "broken";
    } finally {
      clearTimeout(timer);
    }
    if (next === "stalled" || next === "broken") return giveUp(next);
    if (next.done) break;
    size += next.value.length;
    if (size > limits.maxBytes) return giveUp("too_large");
    parts.push(next.value);
  }
  return { ok: true, bytes: parts.length === 1 && parts[0].buffer instanceof ArrayBuffer ? parts[0] as Uint8Array<ArrayBuffer> : concat(parts) };
}
