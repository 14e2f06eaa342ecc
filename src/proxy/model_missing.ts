/**
 * Telling "this key cannot use that model" from other 404s. An account that lacks a model (a
 * plan without it, a region, a model not pulled on that server) answers 404 with a message about
 * the model; that says nothing about the key's use for other models, and another key may have it.
 * @module
 */
import { BODY_BYTES } from "./attempt.ts";

/** Most bytes of a 404 body read to recognize it; "model not found" messages are far shorter. */
const MAX_MISSING_BODY = 16 * 1024;
const MISSING = /model.{0,200}(not[ _]found|does not exist|no such|not available|unknown)|(unknown|invalid) model|model_not_found/i;

/** What a 404 turned out to be; `response` replaces the one read (its body is consumed). */
export interface NotFoundVerdict {
  modelMissing: boolean;
  response: Response;
}

/** Reads a 404's body (bounded) and says whether it is about the model. */
export async function readNotFound(res: Response): Promise<NotFoundVerdict> {
  const held = (res as { [BODY_BYTES]?: Uint8Array<ArrayBuffer> })[BODY_BYTES];
  const chunks: Uint8Array[] = held ? [held] : [];
  let size = held?.byteLength ?? 0;
  const reader = held ? undefined : res.body?.getReader();
  let rest = false;
  try {
    while (reader && size <= MAX_MISSING_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    rest = size > MAX_MISSING_BODY;
  } catch {
    // A 404 whose body broke: answered with what arrived.
  }
  const bytes = concat(chunks, size);
  const init = { status: res.status, statusText: res.statusText, headers: res.headers };
  // Longer than any such message: not about the model; passed back whole, the rest streamed.
  if (rest && reader) return { modelMissing: false, response: new Response(prepend(bytes, reader), init) };
  return { modelMissing: MISSING.test(new TextDecoder().decode(bytes)), response: new Response(bytes, init) };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function prepend(head: Uint8Array<ArrayBuffer>, reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  let first = true;
  return new ReadableStream({
    async pull(controller) {
      if (first) {
        first = false;
        controller.enqueue(head);
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
