/**
 * The one driver of upstream stream bodies: a {@link ChunkSource} (pushed by the transport, or
 * made here from a web stream or bytes) is pushed to a {@link BodyTarget} — the web stream the
 * client reads ({@link drivenStream}), or a server's response written directly
 * (adapters/node_write.ts) — with the pool's stream tap running on the way. Every stream the
 * pool forwards goes through {@link driveBody}, so they all share one error policy:
 * - the source's errors are its own to hear from the moment it exists (see ChunkSource); here a
 *   failure after the first byte becomes the tap's in-band error event, and a failure of an
 *   untapped stream errors it;
 * - nothing is pulled before the reader asks (so a tap installed first sees every byte), and at
 *   most one chunk waits for a slow reader (the source is paused);
 * - the tap's idle timer runs while the reader waits for a chunk, not while it is busy;
 * - a reader that cancels cancels the source and tells the tap, once; nothing is enqueued after
 *   the stream closed (Node 20's `Readable.toWeb` can, and crash with ERR_INVALID_STATE,
 *   nodejs/node#54205).
 * @module
 */
import { createTap, type StreamTap, type TapOptions } from "./stream.ts";

/**
 * A body pushed chunk by chunk to one {@link ChunkSink}, paced by the reader (`pause`/`resume`).
 * Nothing is delivered before `start`; after `end` or `fail` nothing more is. A source hears its
 * own errors from the moment it exists: an error before `start` is delivered by `start`.
 */
export interface ChunkSource {
  /** Begins delivery to `sink` (called once, before the first `resume`). */
  start(sink: ChunkSink): void;
  /** The reader wants more. */
  resume(): void;
  /** The reader has enough for now. */
  pause(): void;
  /** The reader is gone: release the body (the sink hears nothing more). */
  cancel(): void;
}

/** Where a {@link ChunkSource} delivers. */
export interface ChunkSink {
  chunk(bytes: Uint8Array): void;
  /** The body ended normally. */
  end(): void;
  /** The body broke (connection closed, aborted, corrupt encoding ...). */
  fail(error: unknown): void;
}

/** Where the driver delivers a body: a web stream's controller, or a server's response. */
export interface BodyTarget {
  /** Takes bytes; false when it has enough for now (the source then waits for `want()`). */
  write(bytes: Uint8Array): boolean;
  /** The body is complete. */
  close(): void;
  /** The body broke, and no tap turned that into an in-band error event. */
  error(error: unknown): void;
}

/** The target's side of a driven body. */
export interface BodyDriver {
  /** The reader wants more (the first call starts the source). */
  want(): void;
  /** The reader is gone: the tap hears it once, the source is released. */
  cancel(): void;
}

/** Pushes `source` to `target`, `tap` (when given) running on every chunk and at the end. */
export function driveBody(source: ChunkSource, tap: StreamTap | undefined, target: BodyTarget): BodyDriver {
  let open = true;
  let started = false;
  const sink: ChunkSink = {
    chunk(bytes) {
      if (!open) return;
      const out = tap ? tap.chunk(bytes) : bytes;
      // Nothing for the reader yet (the tap holds half an event), or taken with room for more:
      // the reader waits, and so does the idle timer. Else the next chunk waits at the source.
      if (!out || target.write(out)) tap?.waiting();
      else source.pause();
    },
    end() {
      if (!open) return;
      open = false;
      const tail = tap?.done();
      if (tail) target.write(tail);
      target.close();
    },
    fail(error) {
      if (!open) return;
      open = false;
      if (!tap) return target.error(error);
      target.write(tap.failed(error));
      target.close();
    },
  };
  return {
    want() {
      if (!started) (started = true, source.start(sink));
      if (!open) return;
      tap?.waiting();
      source.resume();
    },
    cancel() {
      if (open) (open = false, tap?.cancelled());
      source.cancel();
    },
  };
}

/** `source` as a web stream, through {@link driveBody}. */
export function drivenStream(source: ChunkSource, tap?: StreamTap): ReadableStream<Uint8Array> {
  let driver!: BodyDriver;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      driver = driveBody(source, tap, {
        write(bytes) {
          controller.enqueue(bytes);
          // With no read waiting the chunk is queued (desiredSize < 0).
          return (controller.desiredSize ?? 0) >= 0;
        },
        close: () => controller.close(),
        error: (error) => controller.error(error),
      });
    },
    pull() {
      driver.want();
    },
    cancel() {
      driver.cancel();
    },
  }, { highWaterMark: 0 });
}

const ignore = (): void => {};

/**
 * A web stream as a source: read while the reader wants more. A read that fails (the stream
 * errored, the request was aborted) is delivered as `fail`.
 */
export function webSource(stream: ReadableStream<Uint8Array>): ChunkSource {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let sink!: ChunkSink;
  let flowing = false;
  let reading = false;
  let over = false;
  const loop = async (): Promise<void> => {
    if (reading) return;
    reading = true;
    try {
      while (flowing && !over) {
        const r = await reader!.read();
        if (over) return;
        if (r.done) {
          over = true;
          return sink.end();
        }
        sink.chunk(r.value);
      }
    } catch (error) {
      if (!over) (over = true, sink.fail(error));
    } finally {
      reading = false;
    }
  };
  return {
    start(s) {
      sink = s;
      try {
        reader = stream.getReader();
      } catch (error) {
        over = true; // locked or already read
        sink.fail(error);
      }
    },
    resume() {
      flowing = true;
      if (!over) loop().catch(ignore);
    },
    pause() {
      flowing = false;
    },
    cancel() {
      over = true;
      (reader ? reader.cancel() : stream.cancel()).catch(ignore);
    },
  };
}

/** A source that can also be given up from outside: see {@link stoppable}. */
export interface StoppableSource extends ChunkSource {
  /** Releases the source and ends its body as failed with `reason`, once; nothing follows. */
  stop(reason: unknown): void;
}

/**
 * `source` with a way to end it from outside: when the upstream goes quiet, the tap aborts the
 * request, but a runtime's fetch may leave a pending read unanswered after that (Node's, with a
 * corrupt gzip body); stopping the source ends the body whatever the read does.
 */
export function stoppable(source: ChunkSource): StoppableSource {
  let sink: ChunkSink | undefined;
  let stopped: { reason: unknown } | undefined;
  return {
    start(s) {
      if (stopped) return s.fail(stopped.reason);
      sink = s;
      source.start({
        chunk: (bytes) => void (stopped || s.chunk(bytes)),
        end: () => void (stopped || s.end()),
        fail: (error) => void (stopped || s.fail(error)),
      });
    },
    resume: () => source.resume(),
    pause: () => source.pause(),
    cancel: () => source.cancel(),
    stop(reason) {
      if (stopped) return;
      stopped = { reason };
      source.cancel();
      sink?.fail(reason);
    },
  };
}

/** Bytes already read as a source of one chunk. */
export function bytesSource(bytes: Uint8Array): ChunkSource {
  let sink: ChunkSink | undefined;
  return {
    start(s) {
      sink = s;
    },
    resume() {
      const s = sink;
      sink = undefined;
      if (!s) return;
      if (bytes.byteLength) s.chunk(bytes);
      s.end();
    },
    pause: ignore,
    cancel() {
      sink = undefined;
    },
  };
}

/** Wraps a web stream body in a tapped stream (through the one driver, body_stream.ts). */
export function tapStream(upstream: ReadableStream<Uint8Array>, o: TapOptions): ReadableStream<Uint8Array> {
  // A stall ends the pending read too, not only through the upstream request's abort: a
  // runtime's fetch may leave a read pending after the abort (Node's, with a corrupt gzip body).
  const source = stoppable(webSource(upstream));
  return drivenStream(
    source,
    createTap({
      ...o,
      abortUpstream: (reason) => {
        if (reason) source.stop(reason);
        o.abortUpstream(reason);
      },
    }),
  );
}
