/**
 * Reading a whole upstream body into memory, bounded in size and in time. Every answer the pool
 * buffers (non-stream answers, error bodies it passes back, probe answers) is read here, so
 * none can grow memory without a bound or hold a request forever; what the proxy passes back
 * leaves without the key (redact.ts).
 * @module
 */
import { PoolError } from "../errors.ts";
import { NULL_BODY_STATUSES } from "./transport.ts";
import { concat, needlesOf, redactBytes } from "./redact.ts";

/** Bounds on what the proxy reads from an upstream answer. */
export interface ResponseLimits {
  /** Most bytes of one buffered upstream answer, after decompression (streams are not buffered). */
  maxResponseBytes: number;
  /** Longest gap between two upstream body chunks. */
  streamIdleTimeoutMs: number;
  /** Longest time for a whole buffered body, from its headers to its last byte. */
  upstreamBodyTimeoutMs: number;
}

/**
 * Whatever holds a body: an upstream answer (bytes already read, or a stream) or a standard
 * Response (probes go through `fetch`).
 */
export interface HasBody {
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null;
}

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
  /**
   * Longest time for the whole body: an upstream that trickles (a byte every second) keeps
   * every gap short but must not hold the request until MAX_RESPONSE_BYTES. @default no limit
   */
  totalMs?: number;
}

/** What reading a body gave: its bytes, or why there are none. */
export type BodyRead =
  | { ok: true; bytes: Uint8Array<ArrayBuffer> }
  | { ok: false; why: BodyFailure };

/** Why a body was given up on. */
type BodyFailure = "too_large" | "stalled" | "too_slow" | "broken";

const EMPTY = new Uint8Array(0);

/** Reads `res`'s body within `limits`; never throws. A body given up on is cancelled. */
export async function readBody(res: HasBody, limits: BodyLimits): Promise<BodyRead> {
  let stream: Uint8Array | ReadableStream<Uint8Array> | null;
  try {
    stream = res.body;
  } catch {
    return { ok: false, why: "broken" };
  }
  if (stream instanceof Uint8Array) {
    return stream.length > limits.maxBytes
      ? { ok: false, why: "too_large" }
      : { ok: true, bytes: stream as Uint8Array<ArrayBuffer> };
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
  const giveUp = (why: BodyFailure): BodyRead => {
    reader.cancel().catch(() => {});
    return { ok: false, why };
  };
  // One timer for the whole body, one per read for the gap: whichever comes first.
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const late = limits.totalMs === undefined ? undefined : new Promise<"too_slow">((resolve) => {
    deadline = setTimeout(() => resolve("too_slow"), limits.totalMs);
  });
  try {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<"stalled">((resolve) => {
        timer = setTimeout(() => resolve("stalled"), limits.idleMs);
      });
      let next: ReadableStreamReadResult<Uint8Array> | "stalled" | "too_slow" | "broken";
      try {
        next = await Promise.race(late ? [reader.read(), stalled, late] : [reader.read(), stalled]);
      } catch {
        next = "broken";
      } finally {
        clearTimeout(timer);
      }
      if (next === "stalled" || next === "too_slow" || next === "broken") return giveUp(next);
      if (next.done) break;
      size += next.value.length;
      if (size > limits.maxBytes) return giveUp("too_large");
      parts.push(next.value);
    }
  } finally {
    clearTimeout(deadline);
  }
  return {
    ok: true,
    bytes: parts.length === 1 && parts[0].buffer instanceof ArrayBuffer
      ? parts[0] as Uint8Array<ArrayBuffer>
      : concat(parts),
  };
}

/** Why a body could not be read, for the exhausted error; see readBody(). */
const BODY_FAILED = {
  stalled: () => "upstream stopped sending the body",
  too_slow: (limits: ResponseLimits) =>
    `upstream took longer than ${limits.upstreamBodyTimeoutMs} ms to send the body (UPSTREAM_BODY_TIMEOUT_MS)`,
  broken: () => "upstream closed the connection while sending the body",
};

/**
 * Reads a whole upstream body within the limits and takes the key out of it. Too large: the
 * request is over (counted as a failure, the key not blamed: it worked, the answer is what it
 * is). Stalled, too slow or broken: the reason, and the caller tries the next key (nothing has
 * reached the client: the body is buffered whole before it is passed on).
 */
export async function bufferedBody(
  limits: ResponseLimits,
  res: HasBody & { readonly status: number },
  secrets: string[],
  over: () => void,
): Promise<Uint8Array<ArrayBuffer> | null | string> {
  const read = await readBody(res, {
    maxBytes: limits.maxResponseBytes,
    idleMs: limits.streamIdleTimeoutMs,
    totalMs: limits.upstreamBodyTimeoutMs,
  });
  if (!read.ok) {
    if (read.why !== "too_large") return BODY_FAILED[read.why](limits);
    over();
    throw new PoolError(
      502,
      "upstream_response_too_large",
      `the upstream answer is larger than ${limits.maxResponseBytes} bytes (MAX_RESPONSE_BYTES)`,
    );
  }
  if (NULL_BODY_STATUSES.has(res.status)) return null;
  return redactBytes(read.bytes, needlesFor(secrets)) as Uint8Array<ArrayBuffer>;
}

/** Needles per secrets list (one list per key, see secretsOf): encoded once. */
const needlesBySecrets = new WeakMap<string[], Uint8Array[]>();
export function needlesFor(secrets: string[]): Uint8Array[] {
  let needles = needlesBySecrets.get(secrets);
  if (!needles) needlesBySecrets.set(secrets, needles = needlesOf(secrets));
  return needles;
}
