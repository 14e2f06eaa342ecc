/**
 * A local mock of Ollama / OpenAI-compatible upstreams over real HTTP, speaking the real wire
 * formats: OpenAI JSON and SSE (`data: [DONE]`, the usage chunk when asked), Ollama NDJSON and
 * JSON, OpenAI and Ollama error bodies, `Retry-After`. The key's prefix picks its behaviour:
 *
 * | prefix       | behaviour                                                      |
 * |--------------|----------------------------------------------------------------|
 * | `bad-`       | 401 invalid key                                                |
 * | `limited-`   | 429 with `Retry-After: 2`                                      |
 * | `limitedms-` | 429 with `retry-after-ms: 1500`                                |
 * | `limited0-`  | 429 without any retry header                                   |
 * | `capped-<w>-`| POSTs: 429 without retry header, Ollama Cloud's `<w>` usage-limit body (model lists answer) |
 * | `cappedall-<w>-` | the same for every request, model lists too                  |
 * | `err-`       | 500                                                            |
 * | `reset-`     | the socket is destroyed before any response                    |
 * | `slow-`      | headers only after `slowMs`                                    |
 * | `die-`       | a stream (or body) that breaks after its first part            |
 * | other        | a healthy key                                                  |
 *
 * A key containing `models~a+b` lists only models `a` and `b` (what that account can use) and
 * answers other models with Ollama's 404 "model not found". A key containing `usage~S~W` answers
 * `GET /api/usage` as Ollama Cloud has (`limits.session.usage` S, `limits.weekly.usage` W); other
 * keys get 404 there, as from a server without it.
 * With `raw: true` the mock answers on raw sockets instead, as `odd.<status>.<framing>.<encoding>`
 * keys say: odd statuses (1xx first, 600, 999), every body framing (content-length, chunked,
 * close-delimited, slow, stalled, reset), gzip/br/corrupt encodings, and upstreams that echo the
 * key; see odd_upstream.ts.
 * Models `missing-…` (`missing-model`) answer 404, and `fails-<5xx>` (`fails-500`) that status
 * with every key; a body without `model`, or a chat body whose `messages` is there but not an
 * array, answers 400.
 * The Responses and Anthropic Messages dialects live in mock_dialects.ts.
 * Runs on Node, Deno and Bun (node:http is test-only code, never in src/).
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { startOddServer } from "./odd_upstream.ts";
import { answerDialect } from "./mock_dialects.ts";

/** One request the mock received. */
export interface MockRequest {
  method: string;
  path: string;
  key: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> | undefined;
}

/** Options of {@link startMockUpstream}. */
export interface MockOptions {
  /** Content chunks per streamed answer. @default 3 */
  chunks?: number;
  /** Pause between streamed chunks. @default 0 */
  chunkDelayMs?: number;
  /** Delay before headers for `slow-` keys. @default 2000 */
  slowMs?: number;
  /** Port to listen on. @default a free one */
  port?: number;
  /** Keep no request log (for load tests). @default false */
  quiet?: boolean;
  /** Misbehave as `odd.…` keys say, on raw sockets (see odd_upstream.ts). @default false */
  raw?: boolean;
}

/** A running mock. */
export interface MockUpstream {
  url: string;
  /** Requests per key secret. */
  hits: Map<string, number>;
  /** Responses the client side closed before they were complete. */
  readonly closedEarly: number;
  requests: MockRequest[];
  reset(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MODELS = ["llama3.2", "qwen3:8b", "gpt-oss:20b"];

function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("error", reject);
    req.on("end", () => {
      const text = Buffer.concat(parts).toString("utf8");
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  native: boolean,
  status: number,
  message: string,
  code: string,
  headers?: Record<string, string>,
): void {
  send(res, status, native ? { error: message } : { error: { message, type: "invalid_request_error", code } }, headers);
}

/** Starts the mock on 127.0.0.1. */
export async function startMockUpstream(options: MockOptions = {}): Promise<MockUpstream> {
  if (options.raw) return startRawMock(options);
  const chunks = options.chunks ?? 3;
  const delay = options.chunkDelayMs ?? 0;
  const hits = new Map<string, number>();
  const requests: MockRequest[] = [];
  let closedEarly = 0;

  const server = createServer(async (req, res) => {
    res.on("close", () => {
      if (!res.writableFinished) closedEarly++;
    });
    const url = new URL(req.url ?? "/", "http://mock");
    const path = url.pathname.replace(/^\/api\/v1\//, "/v1/"); // OpenRouter's base is <root>/api
    const native = path.startsWith("/api/");
    const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
    const body = req.method === "POST" ? await readJson(req) : undefined;
    hits.set(key, (hits.get(key) ?? 0) + 1);
    if (!options.quiet) {
      requests.push({ method: req.method ?? "", path: url.pathname, key, headers: req.headers, body });
    }

    if (key.startsWith("reset-")) return void req.socket.destroy();
    if (key.startsWith("slow-")) await sleep(options.slowMs ?? 2000);
    if (res.destroyed) return;
    if (!key || key.startsWith("bad-")) {
      return sendError(res, native, 401, "Invalid API key provided", "invalid_api_key");
    }
    const cap = /^capped(all)?-(\w+)-/.exec(key);
    if (cap && (cap[1] || req.method === "POST")) {
      return sendError(
        res,
        native,
        429,
        `you (mock) have reached your ${
          cap[2]
        } usage limit, upgrade for higher limits: https://ollama.com/upgrade (ref: 0a1b2c)`,
        "usage_limit",
      );
    }
    if (key.startsWith("limited0-")) return sendError(res, native, 429, "Rate limit reached", "rate_limit_exceeded");
    if (key.startsWith("limitedms-")) {
      return sendError(res, native, 429, "Rate limit reached", "rate_limit_exceeded", { "retry-after-ms": "1500" });
    }
    if (key.startsWith("limited-")) {
      return sendError(res, native, 429, "Rate limit reached", "rate_limit_exceeded", { "retry-after": "2" });
    }
    if (key.startsWith("err-")) return sendError(res, native, 500, "Internal server error", "server_error");
    // Responses, Anthropic Messages, /api/version: answered in mock_dialects.ts.
    if (await answerDialect({ req, res, path, body, chunks, delayMs: delay, die: key.startsWith("die-") })) return;

    if (req.method === "GET" && path === "/v1/models") {
      const own = /models~(\S+)/.exec(key)?.[1]?.split("+") ?? MODELS;
      return send(res, 200, {
        object: "list",
        data: own.map((id) => ({ id, object: "model", created: 1700000000, owned_by: "mock" })),
      });
    }
    if (req.method === "GET" && path === "/api/usage") {
      const usage = /usage~([^~\s]+)~([^~\s]+)/.exec(key);
      if (!usage) return sendError(res, native, 404, "404 page not found", "not_found");
      return send(res, 200, {
        limits: { session: { usage: Number(usage[1]) }, weekly: { usage: Number(usage[2]) } },
        plan: "free",
      });
    }
    if (req.method === "GET" && path === "/api/tags") {
      return send(res, 200, {
        models: MODELS.map((name) => ({
          name,
          model: name,
          modified_at: "2026-01-01T00:00:00Z",
          size: 1,
          digest: "0",
          details: {},
        })),
      });
    }
    if (req.method !== "POST") return sendError(res, native, 404, `no route ${req.method} ${path}`, "not_found");
    if (!body || typeof body.model !== "string") {
      return sendError(res, native, 400, "model is required", "invalid_request");
    }
    const model = body.model;
    if (model.startsWith("missing-")) {
      return sendError(res, native, 404, `model "${model}" not found`, "model_not_found");
    }
    // A model the upstream fails on whatever the key (OpenRouter answers 500/502 per model).
    const fails = /^fails-(5\d\d)$/.exec(model);
    if (fails) return sendError(res, native, Number(fails[1]), "Internal server error", "server_error");
    const own = /models~(\S+)/.exec(key)?.[1]?.split("+");
    if (own && !own.includes(model)) {
      return sendError(res, native, 404, `model '${model}' not found`, "model_not_found");
    }
    if (
      (path === "/v1/chat/completions" || path === "/api/chat") && body.messages !== undefined &&
      !Array.isArray(body.messages)
    ) {
      return sendError(res, native, 400, "'messages' must be an array", "invalid_request");
    }
    const die = key.startsWith("die-");

    if (path === "/v1/embeddings" || path === "/api/embed" || path === "/api/embeddings") {
      if (path === "/v1/embeddings") {
        // As OpenAI does: base64 of little-endian float32 when asked (the openai SDK asks by default).
        const vector = [0.1, 0.2, 0.3];
        const embedding = body.encoding_format === "base64"
          ? Buffer.from(new Float32Array(vector).buffer).toString("base64")
          : vector;
        return send(res, 200, {
          object: "list",
          data: [{ object: "embedding", embedding, index: 0 }],
          model,
          usage: { prompt_tokens: 4, total_tokens: 4 },
        });
      }
      return send(res, 200, { model, embeddings: [[0.1, 0.2, 0.3]], prompt_eval_count: 4 });
    }

    const created = Math.floor(Date.now() / 1000);
    const words = Array.from({ length: chunks }, (_, i) => `tok${i} `);
    if (path === "/v1/chat/completions" || path === "/v1/completions") {
      const chat = path === "/v1/chat/completions";
      const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
      const usage = { prompt_tokens: 10, completion_tokens: chunks, total_tokens: 10 + chunks };
      if (body.stream !== true) {
        if (die) return void dieMidBody(res);
        const choice = chat
          ? { index: 0, message: { role: "assistant", content: words.join("") }, finish_reason: "stop" }
          : { index: 0, text: words.join(""), finish_reason: "stop" };
        return send(res, 200, {
          id,
          object: chat ? "chat.completion" : "text_completion",
          created,
          model,
          choices: [choice],
          usage,
        });
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const frame = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
      const object = chat ? "chat.completion.chunk" : "text_completion";
      for (let i = 0; i < words.length; i++) {
        if (res.destroyed) return;
        const choice = chat
          ? {
            index: 0,
            delta: i === 0 ? { role: "assistant", content: words[i] } : { content: words[i] },
            finish_reason: null,
          }
          : { index: 0, text: words[i], finish_reason: null };
        frame({ id, object, created, model, choices: [choice] });
        if (die && i === 0) return void setTimeout(() => req.socket.destroy(), 20);
        if (delay) await sleep(delay);
      }
      frame({
        id,
        object,
        created,
        model,
        choices: [
          chat ? { index: 0, delta: {}, finish_reason: "stop" } : { index: 0, text: "", finish_reason: "stop" },
        ],
      });
      const so = body.stream_options as Record<string, unknown> | undefined;
      if (so?.include_usage === true) frame({ id, object, created, model, choices: [], usage });
      res.end("data: [DONE]\n\n");
      return;
    }

    if (path === "/api/chat" || path === "/api/generate") {
      const chat = path === "/api/chat";
      const part = (text: string, done: boolean) => ({
        model,
        created_at: new Date().toISOString(),
        ...(chat ? { message: { role: "assistant", content: text } } : { response: text }),
        done,
      });
      const final = {
        ...part("", true),
        done_reason: "stop",
        total_duration: 1000,
        prompt_eval_count: 10,
        eval_count: chunks,
      };
      if (body.stream === false) {
        if (die) return void dieMidBody(res);
        return send(res, 200, {
          ...final,
          ...(chat ? { message: { role: "assistant", content: words.join("") } } : { response: words.join("") }),
        });
      }
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      for (let i = 0; i < words.length; i++) {
        if (res.destroyed) return;
        res.write(`${JSON.stringify(part(words[i], false))}\n`);
        if (die && i === 0) return void setTimeout(() => req.socket.destroy(), 20);
        if (delay) await sleep(delay);
      }
      res.end(`${JSON.stringify(final)}\n`);
      return;
    }
    sendError(res, native, 404, `no route POST ${path}`, "not_found");
  });

  function dieMidBody(res: ServerResponse): void {
    res.writeHead(200, { "content-type": "application/json", "content-length": "500" });
    res.write('{"id":"x","choices":[');
    setTimeout(() => res.socket?.destroy(), 20);
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    requests,
    get closedEarly() {
      return closedEarly;
    },
    reset() {
      closedEarly = 0;
      hits.clear();
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** The raw-socket mock: the same interface, answers as the keys script them. */
async function startRawMock(options: MockOptions): Promise<MockUpstream> {
  const hits = new Map<string, number>();
  const requests: MockRequest[] = [];
  const odd = await startOddServer((r) => {
    hits.set(r.key, (hits.get(r.key) ?? 0) + 1);
    if (!options.quiet) requests.push({ method: r.method, path: r.path, key: r.key, headers: r.headers, body: r.body });
  });
  return {
    url: odd.url,
    hits,
    requests,
    closedEarly: 0,
    reset() {
      hits.clear();
      requests.length = 0;
    },
    close: odd.close,
  };
}
