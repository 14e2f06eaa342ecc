/**
 * Reading the client's request: size limit, JSON validation, the model name for statistics; the
 * stream flag and any rewrite come from the endpoint's wire format (src/wire/).
 * @module
 */
import { badRequest, PoolError } from "../errors.ts";
import type { Endpoint } from "../providers/types.ts";
import { checkJsonDepth } from "./json_depth.ts";

/** The client request as the proxy needs it. */
export interface ParsedRequest {
  /** Body to send upstream (the client's own bytes unless rewritten). */
  body: string | undefined;
  /** `model` from the body, trimmed to a sane length, for statistics. */
  model?: string;
  stream: boolean;
  /**
   * The wire format rewrote the body to ask for usage the client did not ask for (OpenAI chat's
   * `stream_options.include_usage`); the stream tap drops that part of the answer again.
   */
  injectedUsage: boolean;
  /**
   * The most output tokens the client asked for (`max_tokens`, `max_completion_tokens`,
   * `max_output_tokens`, Ollama's `num_predict`), when it named a sane positive count.
   */
  maxOutputTokens?: number;
}

/** The output limit a request body names, if any (see {@link ParsedRequest.maxOutputTokens}). */
function maxOutputTokensOf(body: Record<string, unknown>): number | undefined {
  const options = body.options !== null && typeof body.options === "object"
    ? body.options as Record<string, unknown>
    : {};
  for (
    const v of [
      body.max_tokens,
      body.max_completion_tokens,
      body.max_output_tokens,
      options.num_predict,
      body.num_predict,
    ]
  ) {
    // -1 / -2 mean "no limit" to Ollama: then the default estimate applies.
    if (typeof v === "number" && Number.isInteger(v) && v > 0 && v < 1e9) return v;
  }
  return undefined;
}

const MAX_MODEL_NAME = 200;

/** Reads at most `limit` bytes of the body; 413 beyond that. */
export async function readBody(req: Request, limit: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (declared > limit) throw tooLarge(limit);
  if (Number.isInteger(declared)) {
    // HTTP framing caps the body at its declared length, so the whole-body read is bounded;
    // it is also the fast path on Node (no web stream is built for it).
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (bytes.byteLength > limit) throw tooLarge(limit); // an in-process caller may declare less than it sends
    return decodeUtf8(bytes);
  }
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return decodeUtf8(bytes);
}

/** Shared: a non-streaming decode() keeps no state between calls, failed ones included. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw badRequest("request body is not valid UTF-8", "invalid_encoding");
  }
}

function tooLarge(limit: number): PoolError {
  return new PoolError(413, "body_too_large", `request body exceeds the limit of ${limit} bytes`);
}

/** Validates and prepares a proxied request's body. */
export async function parseProxyRequest(req: Request, endpoint: Endpoint, limit: number): Promise<ParsedRequest> {
  if (endpoint.method === "GET") return { body: undefined, stream: false, injectedUsage: false };
  const text = await readBody(req, limit);
  checkJsonDepth(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // Checked only now: trimming every valid body would copy it for nothing.
    if (text.trim() === "") throw badRequest("request body is empty; a JSON object is required", "invalid_json");
    throw badRequest(`request body is not valid JSON: ${(err as Error).message}`, "invalid_json");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw badRequest("request body must be a JSON object", "invalid_json");
  }
  const body = json as Record<string, unknown>;
  if (body.model !== undefined && typeof body.model !== "string") {
    throw badRequest("'model' must be a string", "invalid_model");
  }
  const model = typeof body.model === "string" ? body.model.slice(0, MAX_MODEL_NAME) : undefined;
  const { stream, rewritten } = endpoint.format.inspect(body);
  const maxOutputTokens = maxOutputTokensOf(body);
  return {
    body: rewritten ? JSON.stringify(body) : text,
    model,
    stream,
    injectedUsage: rewritten,
    ...(maxOutputTokens === undefined ? {} : { maxOutputTokens }),
  };
}
