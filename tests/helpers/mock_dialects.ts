/**
 * The mock upstream's other dialects, as Ollama serves them: OpenAI Responses (`/v1/responses`,
 * JSON and named SSE events ending with `response.completed`), Anthropic Messages
 * (`/v1/messages`, JSON and its named events; `/v1/messages/count_tokens`) and the native
 * `/api/version` and `/api/ps`. Kept apart from mock_upstream.ts, which calls {@link answerDialect}
 * for every request of a healthy key. Key `die-…` breaks a stream after its first text part; model
 * `insane-usage` reports usage values no real answer has (`1e300`, `-5`, `2.5`).
 * Runs on Node, Deno and Bun (test-only code).
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** What the dialect handlers need from the mock. */
export interface DialectCall {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  body: Record<string, unknown> | undefined;
  /** Text parts per streamed answer. */
  chunks: number;
  delayMs: number;
  /** Break the stream after its first text part. */
  die: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const id = (prefix: string): string => `${prefix}_${Math.random().toString(36).slice(2, 12)}`;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Answers the call if it is one of these dialects' routes; false when it is not. */
export function answerDialect(call: DialectCall): boolean | Promise<boolean> {
  const { req, path } = call;
  if (req.method === "GET" && path === "/api/version") return send(call.res, 200, { version: "0.12.6" }), true;
  if (req.method === "GET" && path === "/api/ps") return send(call.res, 200, { models: [] }), true;
  if (req.method !== "POST") return false;
  if (path === "/v1/responses") return responses(call).then(() => true);
  if (path === "/v1/messages") return messages(call).then(() => true);
  if (path === "/v1/messages/count_tokens") return send(call.res, 200, { input_tokens: 10 }), true;
  return false;
}

/** Ollama's validation answer, in the route's dialect. */
function invalid(call: DialectCall, anthropic: boolean): boolean {
  const model = call.body?.model;
  if (typeof model === "string" && model !== "missing-model") return false;
  const status = model === "missing-model" ? 404 : 400;
  const message = model === "missing-model" ? `model "${model}" not found` : "model is required";
  send(
    call.res,
    status,
    anthropic
      ? { type: "error", error: { type: status === 404 ? "not_found_error" : "invalid_request_error", message } }
      : {
        error: { message, type: "invalid_request_error", code: status === 404 ? "model_not_found" : "invalid_request" },
      },
  );
  return true;
}

/** An SSE writer for named events; false once the client is gone. */
function events(res: ServerResponse): (name: string, data: Record<string, unknown>) => boolean {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  return (name, data) => !res.destroyed && res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`) !== undefined;
}

async function responses(call: DialectCall): Promise<void> {
  if (invalid(call, false)) return;
  const { res, body } = call;
  const model = body!.model as string;
  const words = Array.from({ length: call.chunks }, (_, i) => `tok${i} `);
  const text = words.join("");
  const respId = id("resp");
  const itemId = id("msg");
  const usage = call.body!.model === "insane-usage" ? { input_tokens: 1e300, output_tokens: -5, total_tokens: 2.5 } : {
    input_tokens: 10,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: call.chunks,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 10 + call.chunks,
  };
  const base = {
    id: respId,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    model,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    parallel_tool_calls: true,
    temperature: 1,
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    text: { format: { type: "text" } },
    metadata: {},
  };
  const part = (t: string) => ({ type: "output_text", text: t, annotations: [] });
  const item = (status: string, content: unknown[]) => ({
    id: itemId,
    type: "message",
    status,
    role: "assistant",
    content,
  });
  const done = { ...base, status: "completed", output: [item("completed", [part(text)])], usage };
  if (body!.stream !== true) return send(res, 200, done);

  const emit = events(res);
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>) => emit(type, { type, sequence_number: seq++, ...data });
  ev("response.created", { response: { ...base, status: "in_progress", output: [], usage: null } });
  ev("response.in_progress", { response: { ...base, status: "in_progress", output: [], usage: null } });
  ev("response.output_item.added", { output_index: 0, item: item("in_progress", []) });
  ev("response.content_part.added", { item_id: itemId, output_index: 0, content_index: 0, part: part("") });
  for (let i = 0; i < words.length; i++) {
    if (
      !ev("response.output_text.delta", {
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        delta: words[i],
        logprobs: [],
      })
    ) return;
    if (call.die && i === 0) return void setTimeout(() => call.req.socket.destroy(), 20);
    if (call.delayMs) await sleep(call.delayMs);
  }
  ev("response.output_text.done", { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] });
  ev("response.content_part.done", { item_id: itemId, output_index: 0, content_index: 0, part: part(text) });
  ev("response.output_item.done", { output_index: 0, item: item("completed", [part(text)]) });
  ev("response.completed", { response: done });
  res.end();
}

async function messages(call: DialectCall): Promise<void> {
  if (invalid(call, true)) return;
  const { res, body } = call;
  const model = body!.model as string;
  const words = Array.from({ length: call.chunks }, (_, i) => `tok${i} `);
  const msgId = id("msg");
  const insane = model === "insane-usage";
  const message = { id: msgId, type: "message", role: "assistant", model, stop_sequence: null };
  if (body!.stream !== true) {
    return send(res, 200, {
      ...message,
      content: [{ type: "text", text: words.join("") }],
      stop_reason: "end_turn",
      usage: insane ? { input_tokens: 1e300, output_tokens: -5 } : { input_tokens: 10, output_tokens: call.chunks },
    });
  }
  const emit = events(res);
  const ev = (type: string, data: Record<string, unknown> = {}) => emit(type, { type, ...data });
  ev("message_start", {
    message: {
      ...message,
      content: [],
      stop_reason: null,
      usage: insane ? { input_tokens: 2.5, output_tokens: 1 } : { input_tokens: 10, output_tokens: 1 },
    },
  });
  ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
  ev("ping");
  for (let i = 0; i < words.length; i++) {
    if (!ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: words[i] } })) return;
    if (call.die && i === 0) return void setTimeout(() => call.req.socket.destroy(), 20);
    if (call.delayMs) await sleep(call.delayMs);
  }
  ev("content_block_stop", { index: 0 });
  ev("message_delta", {
    delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { output_tokens: insane ? 1e300 : call.chunks },
  });
  ev("message_stop");
  res.end();
}
