/**
 * Turning an upstream answer the pool accepted into the client's: streams tapped and driven,
 * bodies read within the limits for usage, the caller's own mistakes passed back, and the pool's
 * own answer headers.
 * @module
 */
import { passHeaders } from "./attempt.ts";
import { bufferedBody, needlesFor } from "./body.ts";
import { type BodyDriver, type BodyTarget, driveBody, drivenStream, stoppable } from "./body_stream.ts";
import type { Finish, ModelMissing, ProxyCall, ProxyDeps } from "./call.ts";
import { isModelMissing } from "./model_missing.ts";
import { markStreamed } from "./server_link.ts";
import { createTap, type StreamEnd } from "./stream.ts";
import { sourceOf, type UpstreamAnswer } from "./transport.ts";

const decoder = new TextDecoder();

/**
 * The caller's own mistake (400/404/422): its body explains it, so it goes back, without the key.
 * A 404 about the model of the request is the key's account lacking it: handed back to the loop
 * (`modelMissing`), unfinished, so another key can be asked.
 */
export async function clientError(
  d: ProxyDeps,
  c: ProxyCall,
  res: UpstreamAnswer,
  secrets: string[],
  finish: Finish,
): Promise<Response | string | { modelMissing: ModelMissing }> {
  const headers = passHeaders(res.headers, secrets);
  const body = await bufferedBody(d.limits, res, secrets, () => finish("failure"));
  if (typeof body === "string") return body;
  if (res.status === 404 && c.request.model !== undefined && body && isModelMissing(body)) {
    return { modelMissing: { status: res.status, headers, body } };
  }
  finish("client_error", undefined, undefined, { bytes: body?.byteLength ?? 0 });
  overheadHeader(d, c, headers);
  return new Response(body, { status: res.status, headers });
}

/**
 * A successful upstream answer: streams are tapped, bodies read for usage. A string (why) when
 * the body broke or stalled before anything reached the client.
 */
export async function answer(
  d: ProxyDeps,
  c: ProxyCall,
  keyId: string,
  res: UpstreamAnswer,
  upstream: AbortController,
  secrets: string[],
  finish: Finish,
): Promise<Response | string> {
  const headers = passHeaders(res.headers, secrets);
  const type = res.headers["content-type"] ?? "";
  const body = type.includes("text/event-stream") || type.includes("ndjson") ? sourceOf(res) : undefined;
  if (body) {
    // A stall ends the body here too, not only through the abort: a runtime's fetch may leave a
    // read pending after the abort (Node's, with a corrupt gzip body).
    const source = stoppable(body);
    overheadHeader(d, c, headers);
    d.metrics.streamOpened();
    const tap = createTap({
      format: c.endpoint.format,
      dropUsageChunk: c.request.injectedUsage && type.includes("text/event-stream"),
      abortUpstream: (reason) => {
        if (reason) source.stop(reason);
        upstream.abort(reason);
      },
      idleTimeoutMs: d.limits.streamIdleTimeoutMs,
      secrets: needlesFor(secrets),
      onEnd: (end: StreamEnd) => {
        d.metrics.streamClosed();
        // A stream that breaks after its client left broke because of that: no key is blamed.
        if (end.kind === "error" && !c.clientClosed) {
          d.onError(`[ollama-api-pool] stream from key ${keyId} of "${c.provider.id}" failed mid-way`);
          c.keys.report(keyId, { kind: "cooldown", ms: d.rules.errorCooldownMs, reason: "stream failed mid-way" });
          c.trace?.amendLast({ outcome: "cooldown", reason: "stream failed mid-way" });
        }
        const outcome = end.kind === "done" ? "success" : end.kind === "error" ? "failure" : "client_closed";
        finish(outcome, end.usage, keyId, { lines: end.lines, bytes: end.bytes });
      },
    });
    const stream = drivenStream(source, tap);
    const drive = (target: BodyTarget): BodyDriver => driveBody(source, tap, target);
    return markStreamed(new Response(stream, { status: res.status, headers }), {
      status: res.status,
      headers,
      body: stream,
      drive,
    });
  }
  const readAt = performance.now();
  let bytes: Uint8Array<ArrayBuffer> | null | string;
  try {
    bytes = await bufferedBody(d.limits, res, secrets, () => finish("failure", undefined, keyId));
  } finally {
    c.upstreamMs = (c.upstreamMs ?? 0) + performance.now() - readAt;
  }
  if (typeof bytes === "string") return bytes;
  const usage = bytes && type.includes("json") ? c.endpoint.format.usageOfText(decoder.decode(bytes)) : undefined;
  finish("success", usage, keyId, { bytes: bytes?.byteLength ?? 0 });
  overheadHeader(d, c, headers);
  return new Response(bytes, { status: res.status, headers });
}

/**
 * The pool's own answer headers: `x-request-id`, and `x-pool-overhead-ms`, the time this request
 * spent in the pool, upstream waits excluded.
 */
export function overheadHeader(d: ProxyDeps, c: ProxyCall, headers: Record<string, string>): void {
  if (c.requestId !== undefined) {
    // The upstream's own id stays available under another name: it is what its support asks for.
    const upstreamId = headers["x-request-id"];
    if (upstreamId !== undefined) headers["x-upstream-request-id"] = upstreamId;
    headers["x-request-id"] = c.requestId;
  }
  if (c.startedAt === undefined) return;
  const ms = Math.max(0, performance.now() - c.startedAt - (c.upstreamMs ?? 0));
  d.metrics.overhead(ms);
  headers["x-pool-overhead-ms"] = ms.toFixed(3);
}
