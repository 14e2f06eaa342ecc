/**
 * Fault suite (issue 8), malformed requests: over 1,000 of them, in-process through `pool.fetch`
 * and over real HTTP through `serve()` (some faults exist only on the wire). Each gets a 4xx with
 * an OpenAI-shaped body `{"error": {"message", "type", "code"}}`, none reaches the upstream, and
 * the heap returns to its baseline afterwards.
 *
 * The exceptions are requests that are not valid HTTP/1.1 at all — bare CR, LF or NUL inside a
 * header (header injection), conflicting or negative framing headers (request smuggling), a
 * head over 16 KiB, bytes that are no request line, CONNECT: the runtime's HTTP parser (llhttp
 * in Node and in Deno's node:http, Bun's own parser in Bun) refuses them before the pool sees
 * anything, with a bare 400 or 431 and a closed connection (CONNECT: closed without an answer);
 * so does node:http itself for an HTTP/1.1 request without Host.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { type RunningServer, serve } from "../../adapters/node.ts";
import { exchange, type Raw } from "../helpers/raw_http.ts";
import { ADMIN, setupPool, type TestPool } from "../helpers/setup.ts";
import { sleep } from "../helpers/poll.ts";

const MB = 1 << 20;
const LIMIT = 20 * MB; // the default maxBodyBytes

interface Case {
  method?: string;
  path?: string;
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
  headers?: [string, string][];
  status: number;
  code: string;
  wire?: false;
}

const VALID = JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] });
const PROXY_POSTS = ["/v1/chat/completions", "/api/chat", "/v1/embeddings", "/openrouter/v1/chat/completions"];

/** Every malformed request, once; `token` is a valid client token (so only the fault is wrong). */
function cases(token: string): Case[] {
  const auth: [string, string] = ["authorization", `Bearer ${token}`];
  const bad = (body: string | Uint8Array, code: string, path = "/v1/chat/completions"): Case => ({
    path,
    body,
    headers: [auth],
    status: 400,
    code,
  });
  const asToken = (value: string, code: string, name = "authorization"): Case => ({
    body: VALID,
    headers: [[name, value]],
    status: 401,
    code,
  });
  const route = (method: string, path: string, status = 404, code = "not_found"): Case => ({
    method,
    path,
    headers: [auth],
    status,
    code,
    body: method === "GET" || method === "HEAD" ? undefined : VALID,
  });
  const badJson = [
    "{nope",
    "{",
    "}",
    "[",
    '{"model":"llama3.2",}',
    "{'model':'x'}",
    '{"model":"llama3.2"',
    "NaN",
    "undefined",
    "{} {}",
    '{"a":1}x',
    "\u0000",
    '{"model":"x","messages":[}',
  ];
  return [
    ...badJson.flatMap((b) => PROXY_POSTS.map((p) => bad(b, "invalid_json", p))),
    ...[5, true, null, [], {}].map((model) => bad(JSON.stringify({ model, messages: [] }), "invalid_model")),
    ...["[]", '[{"model":"x"}]', '"text"', "42", "null", "true", "-1e999"].map((b) => bad(b, "invalid_json")),
    ...["x", 5, true, null].map((so) =>
      bad(JSON.stringify({ model: "m", stream: true, stream_options: so }), "invalid_stream_options")
    ),
    ...["", "   ", "\n\t\r\n"].map((b) => bad(b, "invalid_json")),
    ...[[0xff], [0x7b, 0xc3, 0x28, 0x7d], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0x22, 0xe2, 0x82]].map((b) =>
      bad(new Uint8Array(b), "invalid_encoding")
    ),
    // Declared larger than the limit (over the wire this is the raw-TCP test below).
    {
      body: VALID,
      headers: [auth, ["content-length", String(50 * MB)]],
      status: 413,
      code: "body_too_large",
      wire: false,
    },
    { body: VALID, status: 401, code: "missing_api_key" },
    asToken("", "missing_api_key"),
    asToken("Bearer", "missing_api_key"),
    asToken("Basic dXNlcjpwYXNz", "missing_api_key"),
    asToken("Bearer a b", "missing_api_key"),
    asToken(`Bearer ${token}x`, "invalid_api_key"),
    asToken("Bearer sk-garbage-token-000", "invalid_api_key"),
    asToken(`Bearer ${ADMIN}`, "invalid_api_key"),
    asToken(`Bearer ${"x".repeat(8_000)}`, "invalid_api_key"),
    asToken("sk-garbage", "invalid_api_key", "x-api-key"),
    { body: VALID, headers: [auth, auth], status: 401, code: "missing_api_key" }, // duplicate Authorization: "Bearer t, Bearer t"
    ...[
      ["GET", "/v1/nothing"],
      ["POST", "/v2/chat/completions"],
      ["POST", "/api/pull"],
      ["POST", "/v1/chat/completions/x"],
      ["GET", "/nothing-here"],
      ["GET", "/v1"],
      ["POST", "/openrouter/v2/x"],
    ].map(([m, p]) => route(m, p)),
    ...[
      ["GET", "/v1/chat/completions"],
      ["PUT", "/v1/chat/completions"],
      ["DELETE", "/v1/chat/completions"],
      ["PATCH", "/v1/chat/completions"],
      ["OPTIONS", "/v1/chat/completions"],
      ["POST", "/v1/models"],
      ["DELETE", "/v1/models"],
      ["POST", "/api/tags"],
      ["GET", "/api/chat"],
      ["GET", "/api/generate"],
      ["GET", "/api/embed"],
    ].map(([m, p]) => route(m, p, 405, "method_not_allowed")),
    { method: "GET", path: "/admin/stats", headers: [auth], status: 401, code: "invalid_admin_token" },
    { method: "GET", path: "/admin/api-keys", status: 401, code: "invalid_admin_token" },
    {
      path: "/admin/tokens",
      body: "{nope",
      headers: [["authorization", `Bearer ${ADMIN}`]],
      status: 400,
      code: "invalid_json",
    },
    {
      method: "GET",
      path: "/admin/api-keys?pageSize=abc",
      headers: [["authorization", `Bearer ${ADMIN}`]],
      status: 400,
      code: "invalid_paging",
    },
    {
      method: "GET",
      path: "/admin/stats?provider=nope",
      headers: [["authorization", `Bearer ${ADMIN}`]],
      status: 400,
      code: "unknown_provider",
    },
  ];
}

const initOf = (c: Case): RequestInit =>
  ({
    method: c.method ?? "POST",
    headers: c.headers ?? [],
    body: c.body as BodyInit | undefined,
    ...(c.body instanceof ReadableStream ? { duplex: "half" } : {}),
  }) as RequestInit;

/** A 4xx with exactly the OpenAI error shape, and the expected status and code. */
async function expectError(res: Response, c: Case): Promise<void> {
  const where = `${c.method ?? "POST"} ${c.path ?? "/v1/chat/completions"} ${
    JSON.stringify(c.headers?.map(([k, v]) => [k, v.slice(0, 30)]))
  } ${String(c.body).slice(0, 40)}`;
  assert.equal(res.status, c.status, where);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/, where);
  const body = await res.json();
  assert.deepEqual(Object.keys(body), ["error"], where);
  // Proxy routes name the request too, as their x-request-id header does.
  const id = res.headers.get("x-request-id");
  assert.deepEqual(
    Object.keys(body.error).sort(),
    id === null ? ["code", "message", "type"] : ["code", "message", "request_id", "type"],
    where,
  );
  if (id !== null) assert.equal(body.error.request_id, id, where);
  assert.ok(typeof body.error.message === "string" && typeof body.error.type === "string", where);
  assert.equal(body.error.code, c.code, where);
  if (c.status === 405) assert.ok(res.headers.get("allow"), where);
}

/** A full GC where the runtime offers one: `gc` (exposed), `Bun.gc`, or V8's flag set at run time (Node, Deno). */
function gcFunction(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;
  const bun = (globalThis as { Bun?: { gc(full: boolean): void } }).Bun;
  if (bun) return () => bun.gc(true);
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc");
    return typeof gc === "function" ? gc : undefined;
  } catch {
    return undefined;
  }
}
const gc = gcFunction();
/** heapUsed once garbage is collected (twice, with a turn of the event loop between: JSC scans the stack conservatively). */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

describe("fault suite: 1,000 malformed requests", () => {
  let t: TestPool;
  let server: RunningServer;
  let all: Case[];
  let base: string;
  let heapBefore = 0;
  let count = 0;
  const inProcess = async (c: Case) => {
    count++;
    await expectError(await t.pool.fetch(new Request(`http://pool${c.path ?? "/v1/chat/completions"}`, initOf(c))), c);
  };
  const overHttp = async (c: Case) => {
    count++;
    await expectError(await fetch(`${base}${c.path ?? "/v1/chat/completions"}`, initOf(c)), c);
  };
  const raw = (head: string | Uint8Array, next?: () => Uint8Array | undefined) => {
    count++;
    return exchange(server.port, head, next);
  };
  /**
   * A request head (latin1, so raw bytes pass) with a valid token; `length: null` leaves framing
   * to `extra`. `keepAlive` for bodies the pool refuses unread: asked to close, a server closes
   * right after its answer while the client still sends, and the reset that unread data causes
   * can destroy the answer in the client's buffer before it is read (seen with Bun's node:http).
   */
  const head = (
    o: { extra?: string; body?: string; line?: string; length?: string | null; auth?: string; keepAlive?: boolean } =
      {},
  ) => {
    const body = o.body ?? VALID;
    const length = o.length === null ? "" : `Content-Length: ${o.length ?? Buffer.byteLength(body, "latin1")}\r\n`;
    const line = o.line ?? "POST /v1/chat/completions HTTP/1.1";
    const close = o.keepAlive ? "" : "Connection: close\r\n";
    return Buffer.from(
      `${line}\r\nHost: 127.0.0.1\r\nAuthorization: ${o.auth ?? `Bearer ${t.token}`}\r\n${
        o.extra ?? ""
      }${length}${close}\r\n${body}`,
      "latin1",
    );
  };
  const rawJson = (r: Raw, status: number, code: string) => {
    assert.equal(r.status, status, r.body);
    const error = JSON.parse(r.body).error;
    assert.deepEqual(Object.keys(error).filter((k) => k !== "request_id").sort(), ["code", "message", "type"]);
    assert.ok(error.request_id === undefined || /^[0-9a-f-]{36}$/.test(error.request_id), error.request_id);
    assert.equal(JSON.parse(r.body).error.code, code);
  };

  before(async () => {
    t = await setupPool({ keys: ["good-malformed-01"] });
    server = await serve(t.pool, { port: 0, hostname: "127.0.0.1", handleSignals: false });
    base = `http://127.0.0.1:${server.port}`;
    all = cases(t.token);
    // Warm up every path once (compiled code and lazily built state are not a leak), then measure.
    for (const c of all) await inProcess(c);
    for (const c of all.filter((c) => c.wire !== false)) await overHttp(c);
    t.mock.reset();
    count = 0;
    heapBefore = await settledHeap();
  });
  after(async () => {
    await server.close();
    await t.close();
  });

  it("in-process: 8 rounds of every case, each a 4xx in OpenAI shape", async () => {
    for (let round = 0; round < 8; round++) for (const c of all) await inProcess(c);
  });

  it("in-process: a 50 MB streamed body is refused once it passes the limit, not read to its end", async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    for (let i = 0; i < 3; i++) {
      let pulled = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(ctl) {
          if (pulled >= 50 * MB) return ctl.close();
          pulled += chunk.byteLength;
          ctl.enqueue(chunk);
        },
      });
      await inProcess({ body, headers: [["authorization", `Bearer ${t.token}`]], status: 413, code: "body_too_large" });
      // The limit, plus the chunk that crossed it and the one the stream queued ahead: 128 KiB of 50 MB.
      assert.ok(pulled <= LIMIT + 2 * chunk.byteLength, `read ${pulled} bytes`);
    }
  });

  it("over HTTP through serve(): every case again", async () => {
    for (const c of all.filter((c) => c.wire !== false)) await overHttp(c);
  });

  it("over HTTP: 50 MB declared by Content-Length gets 413 before its body is sent", async () => {
    let once = true;
    const r = await raw(
      head({ body: "", length: String(50 * MB), keepAlive: true }),
      () => (once ? (once = false, new Uint8Array(64 * 1024)) : undefined),
    );
    rawJson(r, 413, "body_too_large");
    assert.equal(r.sent, 64 * 1024, "the answer came while 64 KiB of 50 MB were sent");
  });

  it("over HTTP: 50 MB chunked gets 413 after the limit, without waiting for the rest", async () => {
    const frame = Buffer.concat([Buffer.from(`${MB.toString(16)}\r\n`), Buffer.alloc(MB, 0x20), Buffer.from("\r\n")]);
    let n = 0;
    const r = await raw(
      head({ body: "", length: null, extra: "Transfer-Encoding: chunked\r\n", keepAlive: true }),
      () => (n < 50 ? (n++, frame) : n++ === 50 ? Buffer.from("0\r\n\r\n") : undefined),
    );
    rawJson(r, 413, "body_too_large");
    // Beyond the limit only what socket buffers absorbed while the answer travelled (3–7 MiB seen).
    assert.ok(r.sent < LIMIT + 16 * MB, `${(r.sent / MB).toFixed(1)} MiB sent before the answer`);
  });

  it("over raw TCP: injection, duplicates, long and non-HTTP heads; each refused by the pool (JSON) or the HTTP parser (bare)", async () => {
    // Well-formed HTTP, wrong for the pool: OpenAI-shaped 4xx.
    rawJson(await raw(head({ extra: `Authorization: Bearer ${t.token}\r\n` })), 401, "missing_api_key"); // duplicate Authorization
    rawJson(await raw(head({ extra: "Authorization: Bearer sk-garbage\r\n" })), 401, "missing_api_key");
    rawJson(await raw(head({ extra: `X-Pad: ${"a".repeat(12_000)}\r\n`, body: "{nope" })), 400, "invalid_json"); // long, under the 16 KiB head limit
    rawJson(await raw(head({ body: '"\xff\xfe"' })), 400, "invalid_encoding");
    rawJson(await raw(head({ auth: `Bearer ${t.token}\xff` })), 401, "invalid_api_key"); // a byte outside ASCII
    rawJson(await raw(head({ body: "", line: "GET /v1/%ZZ HTTP/1.1" })), 404, "not_found");
    // Not HTTP/1.1: the parser answers a bare 400/431 and closes; no JSON, nothing reaches the pool.
    const parserRejects: Array<[string, Uint8Array, number]> = [
      ["CR injection", head({ extra: "X-A: a\rAuthorization: Bearer sk-evil\r\n" }), 400],
      ["LF injection", head({ extra: "X-A: a\nAuthorization: Bearer sk-evil\r\n" }), 400],
      ["NUL in a header", head({ extra: "X-A: a\0b\r\n" }), 400],
      ["header without colon", head({ extra: "Bogus\r\n" }), 400],
      ["Content-Length and chunked", head({ extra: "Transfer-Encoding: chunked\r\n" }), 400],
      ["two Content-Lengths", head({ extra: "Content-Length: 3\r\n" }), 400],
      ["negative Content-Length", head({ body: "", length: "-1" }), 400],
      ["space in the path", head({ body: "", line: "GET /v1/mo dels HTTP/1.1" }), 400],
      ["unknown method", head({ body: "", line: "FOO /v1/models HTTP/1.1" }), 400],
      ["head over 16 KiB", head({ extra: `X-Long: ${"a".repeat(20_000)}\r\n` }), 431],
      [
        "no Host (HTTP/1.1 requires one; node:http's requireHostHeader)",
        Buffer.from("GET /v1/models HTTP/1.1\r\nConnection: close\r\n\r\n"),
        400,
      ],
      ["not HTTP at all", Buffer.from("HELLO WORLD\r\n\r\n"), 400],
      ["binary garbage", Buffer.from("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", "latin1"), 400],
    ];
    for (const [name, bytes, status] of parserRejects) {
      const r = await raw(bytes);
      assert.equal(r.status, status, name);
      assert.equal(r.body, "", `${name}: the parser's bare answer`);
      assert.equal(r.headers["content-type"], undefined, name);
    }
    const connectReq = await raw("CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n");
    assert.equal(connectReq.status, 0, "CONNECT: closed without an answer");
  });

  // @hono/node-server's own listener answers a request it cannot turn into a `Request` (a Host
  // that is no host name, a backslash in the path, an absolute-form target that is no URL) with an
  // empty 400 unless given an error handler; serve() in adapters/node.ts passes one.
  it("a request whose Host or target makes no URL gets a 400 in OpenAI shape", async () => {
    const cases: Array<[string, Uint8Array]> = [
      [
        "Host with a space",
        Buffer.from(
          `GET /v1/models HTTP/1.1\r\nHost: a b\r\nAuthorization: Bearer ${t.token}\r\nConnection: close\r\n\r\n`,
        ),
      ],
      [
        "backslash in the path",
        Buffer.from(
          `GET /v1\\models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${t.token}\r\nConnection: close\r\n\r\n`,
        ),
      ],
      [
        "absolute target that is no URL",
        Buffer.from(
          `GET http://[bad/v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${t.token}\r\nConnection: close\r\n\r\n`,
        ),
      ],
    ];
    const wrong: string[] = [];
    for (const [name, bytes] of cases) {
      const r = await raw(bytes);
      assert.equal(r.status, 400, name);
      let code: unknown;
      try {
        code = JSON.parse(r.body).error.code;
      } catch {
        code = undefined;
      }
      if (typeof code !== "string") {
        wrong.push(
          `${name}: ${r.status} ${JSON.stringify(r.body)} (${r.headers["content-type"] ?? "no content-type"})`,
        );
      }
    }
    assert.deepEqual(wrong, [], "answered without the OpenAI error shape");
  });

  it("the upstream received none of them, and the heap returned to its baseline", async () => {
    assert.ok(count >= 1000, `${count} malformed requests`);
    assert.equal(t.mock.hits.size, 0, `upstream saw: ${[...t.mock.hits.keys()]}`);
    const grown = (await settledHeap()) - heapBefore;
    // With a real GC, 1,000 requests and five 20 MiB reads must leave (almost) nothing behind;
    // a leak of one refused body alone would be 20 MiB. Without one (not expected on any of the
    // three runtimes), garbage may still be uncollected: a generous bound.
    const bound = gc ? 8 * MB : 48 * MB;
    console.log(`# ${count} malformed requests; heap ${grown >= 0 ? "+" : ""}${(grown / MB).toFixed(2)} MiB`);
    assert.ok(grown < bound, `heap grew ${(grown / MB).toFixed(1)} MiB (gc ${gc ? "forced" : "unavailable"})`);
  });
});

/**
 * Not what issue 8 asked ("the upstream receives none"), but what docs/ROUTING.md documents: the
 * pool checks what it reads itself (a JSON object, `model`, `stream_options`); other fields are the
 * upstream's to judge, and its 400 comes back as it is without blaming the key (the mock checks
 * `messages` as Ollama and OpenAI do).
 */
describe("fault suite: a field only the upstream reads", () => {
  it("messages as a string reaches the upstream, whose 400 is passed back and blames no key", async () => {
    const t = await setupPool({ keys: ["good-malformed-02"] });
    try {
      const body = JSON.stringify({ model: "llama3.2", messages: "hi" });
      const openai = await t.call("/v1/chat/completions", { method: "POST", body });
      assert.equal(openai.status, 400);
      assert.deepEqual((await openai.json()).error, {
        message: "'messages' must be an array",
        type: "invalid_request_error",
        code: "invalid_request",
      });
      const native = await t.call("/api/chat", { method: "POST", body });
      assert.equal(native.status, 400);
      assert.deepEqual(await native.json(), { error: "'messages' must be an array" }); // Ollama's own error shape
      assert.equal(t.mock.hits.get("good-malformed-02"), 2);
      const [key] = (await (await t.admin("GET", "/admin/api-keys")).json()).api_keys;
      assert.deepEqual([key.status, key.failures], ["active", 0]);
    } finally {
      await t.close();
    }
  });
});
