/**
 * Reading the start of an upstream error answer's body, for classification: some reasons (Ollama
 * Cloud's usage caps) are only in the body. Bounded in bytes and in time, and never throws.
 * @module
 */
import { MAX_ERROR_BODY_BYTES } from "../providers/types.ts";
import type { HasBody } from "./body.ts";

/**
 * Longest wait for an error body (2 s): the key is resting either way, and the client waits for
 * the next key meanwhile. An error body that takes longer is classified without it.
 */
export const ERROR_BODY_WAIT_MS = 2_000;

const decoder = new TextDecoder();

/**
 * The first {@link MAX_ERROR_BODY_BYTES} of `res`'s body as text (what arrived within
 * {@link ERROR_BODY_WAIT_MS}); undefined when nothing could be read. The body is consumed and
 * released: the rest is cancelled.
 */
export async function readErrorBody(res: HasBody, waitMs = ERROR_BODY_WAIT_MS): Promise<string | undefined> {
  let body: Uint8Array | ReadableStream<Uint8Array> | null;
  try {
    body = res.body; // a getter on some transports' answers and on Responses: may throw
  } catch {
    return undefined;
  }
  if (!body) return undefined;
  if (body instanceof Uint8Array) {
    return body.length ? decoder.decode(body.subarray(0, MAX_ERROR_BODY_BYTES)) : undefined;
  }
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = body.getReader();
  } catch {
    return undefined; // already locked or read by somebody else
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), waitMs);
  });
  try {
    while (size < MAX_ERROR_BODY_BYTES) {
      const r = await Promise.race([reader.read(), late]);
      if (!r || r.done) break;
      const need = MAX_ERROR_BODY_BYTES - size;
      const part = r.value.byteLength > need ? r.value.subarray(0, need) : r.value;
      chunks.push(part);
      size += part.byteLength;
    }
  } catch {
    // a body that broke: classify on what came
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
  if (size === 0) return undefined;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) (bytes.set(c, at), at += c.byteLength);
  return decoder.decode(bytes);
}
