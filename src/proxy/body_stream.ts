/**
 * The one driver of upstream stream bodies: a {@link ChunkSource} (pushed by the transport, or
 * made here from a web stream or bytes) becomes the web stream the client reads, with the
 * pool's stream tap running inside it. Every stream the pool forwards goes through
 * {@link drivenStream}, so they all share one error policy:
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
import type { StreamTap } from "./stream.ts";
import type { ChunkSink, ChunkSource } from "./transport.ts";

/** `source` as a web stream, `tap` (when given) running on every chunk and at the end. */
export function drivenStream(source: ChunkSource, tap?: StreamTap): ReadableStream<Uint8Array> {
  let open = true;
  let started = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const sink: ChunkSink = {
    chunk(bytes) {
      if (!open) return;
      const out = tap ? tap.chunk(bytes) : bytes;
      if (out) controller.enqueue(out);
      // Nothing for the reader yet (the tap holds half an event): it still waits, so does the timer.
      else if (tap) tap.waiting();
      // With no read waiting the chunk is queued (desiredSize < 0): the next waits at the source.
      if ((controller.desiredSize ?? 0) < 0) source.pause();
    },
    end() {
      if (!open) return;
      open = false;
      const tail = tap?.done();
      if (tail) controller.enqueue(tail);
      controller.close();
    },
    fail(error) {
      if (!open) return;
      open = false;
      if (!tap) return controller.error(error);
      controller.enqueue(tap.failed(error));
      controller.close();
    },
  };
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    pull() {
      if (!started) (started = true, source.start(sink));
      if (!open) return;
      tap?.waiting();
      source.resume();
    },
    cancel() {
      if (open) (open = false, tap?.cancelled());
      source.cancel();
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
