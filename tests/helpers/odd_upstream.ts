/**
 * The misbehaving half of the mock upstream (`startMockUpstream({ raw: true })`): answers written
 * byte by byte on raw sockets, because node:http cannot send them on every runtime (Deno's and
 * Bun's node:http refuse status 600, interim 1xx, close-delimited bodies). The key says what to
 * send, `odd.<status>.<framing>.<encoding>[.echo][.<anything>]`, e.g. `odd.401.chunked1.identity.1`:
 *
 * - status: any number, or `100-200` / `103-200` (an interim answer, then the final one);
 * - framing: `cl` (content-length), `chunked1` (chunked, one write), `pieces` (chunked, 7-byte
 *   chunks in separate writes), `slow` (ten pieces, 15 ms apart), `trickle` (16 bytes every
 *   40 ms: every gap short, the whole body slow), `stall` (half the body, then
 *   silence until the client leaves), `reset` (half the body, then the socket is destroyed),
 *   `close` (no length, no chunking: the body ends when the connection closes);
 * - encoding: `identity`, `gzip`, `br`, `corrupt` (claims gzip, is not);
 * - `echo`: the key comes back in `www-authenticate`, `set-cookie`, `x-echo-key` and in the body;
 * - `escaped` (with `echo`): in the body the key is written as JSON encoders may write it: `/`
 *   as `\/` (PHP), its first character as `\u00XX`, every character as `\uXXXX` (upper case);
 *   and in headers a client may see (`request-id`, `x-ratelimit-scope`, `openai-organization`):
 *   `/` as `\/`, every character `\uXXXX`, and percent-encoded as in a URL;
 * - `big<N>`: the answer carries N KiB of padding (zeros: gzip makes that a small "bomb").
 *
 * The body is the route's: a model list for `GET /v1/models`, SSE for OpenAI requests with
 * `stream: true`, NDJSON for `/api/chat` unless `stream: false`, JSON otherwise; an OpenAI error
 * body for statuses >= 400. Any other key gets `odd.200.cl.identity`. Runs on Node, Deno, Bun.
 * @module
 */
import { createServer, type Server, type Socket } from "node:net";
import { brotliCompressSync, gzipSync } from "node:zlib";

/** The scenario a key names. */
export interface OddScript {
  status: number;
  interim?: number;
  framing: "cl" | "chunked1" | "pieces" | "slow" | "trickle" | "stall" | "reset" | "close";
  encoding: "identity" | "gzip" | "br" | "corrupt";
  echo: boolean;
  /** The echoed key JSON-escaped in the body (see the module doc). */
  escaped: boolean;
  /** KiB of padding in the answer. */
  padKiB: number;
}

/** One request the raw server received. */
export interface OddRequest {
  method: string;
  path: string;
  key: string;
  headers: Record<string, string>;
  body: Record<string, unknown> | undefined;
}

/** Reads a key's scenario; undefined for keys that are not `odd.…`. */
export function oddScript(key: string): OddScript | undefined {
  const [head, status, framing, encoding, ...flags] = key.split(".");
  if (head !== "odd" || !status || !framing || !encoding) return undefined;
  const [first, final] = status.split("-").map(Number);
  return {
    status: final ?? first,
    ...(final === undefined ? {} : { interim: first }),
    framing: framing as OddScript["framing"],
    encoding: encoding as OddScript["encoding"],
    echo: flags.includes("echo"),
    escaped: flags.includes("escaped"),
    padKiB: Number(flags.find((f) => f.startsWith("big"))?.slice(3) ?? 0),
  };
}

/** The answer's body and type, before encoding and framing. */
function content(req: OddRequest, s: OddScript): { type: string; text: string } {
  const made = plainContent(req, s);
  if (!s.escaped) return made;
  const k = req.key;
  const u = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  const forms = [
    k.replaceAll("/", "\\/"),
    u(k[0]) + k.slice(1),
    [...k].map(u).join("").toUpperCase().replaceAll("\\U", "\\u"),
  ];
  return { type: made.type, text: made.text.replaceAll(k, forms.join(" ")) };
}

function plainContent(req: OddRequest, s: OddScript): { type: string; text: string } {
  const said = s.echo ? ` (you sent ${req.key})` : "";
  if (s.status >= 400 || s.status < 200) {
    return {
      type: "application/json",
      text: JSON.stringify({
        error: {
          message: `odd upstream says ${s.status}${said}${s.padKiB ? ` ${"0".repeat(s.padKiB * 1024)}` : ""}`,
          type: "invalid_request_error",
          code: "odd",
        },
      }),
    };
  }
  const model = typeof req.body?.model === "string" ? req.body.model : "llama3.2";
  if (req.method === "GET") {
    const echoed = s.echo ? [{ id: `echo/${req.key}`, object: "model", owned_by: "odd" }] : [];
    return {
      type: "application/json",
      text: JSON.stringify({
        object: "list",
        data: [{ id: "llama3.2", object: "model", owned_by: `odd${said}` }, ...echoed],
      }),
    };
  }
  const words = ["Hello", " from", ` the odd upstream${said}`, ".", ...(s.padKiB ? ["0".repeat(s.padKiB * 1024)] : [])];
  if (req.path.startsWith("/api/") && req.body?.stream !== false) {
    const lines = words.map((w) => JSON.stringify({ model, message: { role: "assistant", content: w }, done: false }));
    lines.push(
      JSON.stringify({
        model,
        message: { role: "assistant", content: "" },
        done: true,
        prompt_eval_count: 5,
        eval_count: 4,
      }),
    );
    return { type: "application/x-ndjson", text: lines.map((l) => `${l}\n`).join("") };
  }
  if (req.body?.stream === true) {
    const frames = words.map((w) => ({
      id: "c1",
      object: "chat.completion.chunk",
      model,
      choices: [{ index: 0, delta: { content: w }, finish_reason: null }],
    }));
    frames.push(
      {
        id: "c1",
        object: "chat.completion.chunk",
        model,
        choices: [],
        usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
      } as never,
    );
    return {
      type: "text/event-stream",
      text: `${frames.map((f) => `data: ${JSON.stringify(f)}\n\n`).join("")}data: [DONE]\n\n`,
    };
  }
  if (req.path.startsWith("/api/")) {
    return {
      type: "application/json",
      text: JSON.stringify({
        model,
        message: { role: "assistant", content: words.join("") },
        done: true,
        prompt_eval_count: 5,
        eval_count: 4,
      }),
    };
  }
  const choice = { index: 0, message: { role: "assistant", content: words.join("") }, finish_reason: "stop" };
  return {
    type: "application/json",
    text: JSON.stringify({
      id: "c1",
      object: "chat.completion",
      model,
      choices: [choice],
      usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
    }),
  };
}

function encode(text: string, encoding: OddScript["encoding"]): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (encoding === "gzip") return gzipSync(bytes);
  if (encoding === "br") return brotliCompressSync(bytes);
  if (encoding === "corrupt") {
    const gz = gzipSync(bytes);
    for (let i = 10; i < gz.length - 8; i++) gz[i] ^= 0x5a; // a valid header, then garbage
    return gz;
  }
  return bytes;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NO_BODY = new Set([204, 304]);

/** Writes the scripted answer to `socket`; resolves when done with the socket (kept open or not). */
async function answer(socket: Socket, req: OddRequest, s: OddScript): Promise<"keep" | "closed"> {
  const { type, text } = content(req, s);
  const body = NO_BODY.has(s.status) || (s.status === 205) ? new Uint8Array(0) : encode(text, s.encoding);
  const head = [
    `HTTP/1.1 ${s.status} Odd`,
    `content-type: ${type}`,
    "x-request-id: req-odd-1",
    "x-ratelimit-remaining-requests: 99",
    "openai-processing-ms: 3",
    "access-control-allow-origin: *",
    "x-internal-debug: upstream-node-7",
  ];
  if (s.encoding !== "identity" && body.length) head.push(`content-encoding: ${s.encoding === "br" ? "br" : "gzip"}`);
  if (s.echo) {
    head.push(
      `www-authenticate: Bearer realm="${req.key}"`,
      `set-cookie: session=${req.key}`,
      `x-echo-key: ${req.key}`,
    );
    if (s.escaped) {
      const u = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
      head.push(
        `request-id: req-${req.key.replaceAll("/", "\\/")}`,
        `x-ratelimit-scope: ${[...req.key].map(u).join("")}`,
        `openai-organization: https://org.example/?key=${encodeURIComponent(req.key)}`,
      );
    }
  }
  const write = (b: string | Uint8Array) => !socket.destroyed && socket.write(b);
  if (s.interim) {
    write(
      `HTTP/1.1 ${s.interim} ${s.interim === 100 ? "Continue" : "Early Hints"}\r\n${
        s.interim === 103 ? "link: </style.css>; rel=preload\r\n" : ""
      }\r\n`,
    );
  }
  const noBody = NO_BODY.has(s.status);
  if (s.framing === "cl" || noBody) head.push(`content-length: ${noBody ? 0 : body.length}`);
  else if (s.framing === "close") head.push("connection: close");
  else head.push("transfer-encoding: chunked");
  const headBytes = `${head.join("\r\n")}\r\n\r\n`;
  const chunk = (b: Uint8Array) =>
    b.length ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from("\r\n")]) : Buffer.alloc(0);
  if (noBody || s.framing === "cl") {
    write(Buffer.concat([Buffer.from(headBytes), body]));
    return "keep";
  }
  if (s.framing === "close") {
    write(Buffer.concat([Buffer.from(headBytes), body]));
    socket.end();
    return "closed";
  }
  if (s.framing === "chunked1") {
    write(Buffer.concat([Buffer.from(headBytes), chunk(body), Buffer.from("0\r\n\r\n")]));
    return "keep";
  }
  write(headBytes);
  if (s.framing === "reset" || s.framing === "stall") {
    write(chunk(body.subarray(0, body.length >> 1)));
    if (s.framing === "reset") {
      await sleep(10);
      socket.destroy();
    }
    return "closed"; // stall: silence until the client gives up and closes
  }
  const piece = s.framing === "slow" ? Math.ceil(body.length / 10) : s.framing === "trickle" ? 16 : 7;
  for (let i = 0; i < body.length; i += piece) {
    if (socket.destroyed) return "closed";
    write(chunk(body.subarray(i, i + piece)));
    await (s.framing === "slow"
      ? sleep(15)
      : s.framing === "trickle"
      ? sleep(40)
      : new Promise((r) => setImmediate(r)));
  }
  write("0\r\n\r\n");
  return "keep";
}

/** Parses requests off a socket one after another (keep-alive) and answers each. */
function serveSocket(socket: Socket, onRequest: (r: OddRequest) => void, fallback: string): void {
  let buffered = Buffer.alloc(0);
  let busy = false;
  socket.on("error", () => {});
  const next = async (): Promise<void> => {
    if (busy) return;
    const end = buffered.indexOf("\r\n\r\n");
    if (end < 0) return;
    const lines = buffered.subarray(0, end).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const at = l.indexOf(":");
      if (at > 0) headers[l.slice(0, at).trim().toLowerCase()] = l.slice(at + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (buffered.length < end + 4 + length) return;
    const raw = buffered.subarray(end + 4, end + 4 + length).toString("utf8");
    buffered = buffered.subarray(end + 4 + length);
    const [method, target] = lines[0].split(" ");
    let body: Record<string, unknown> | undefined;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch { /* not JSON */ }
    const key = /^Bearer (.+)$/.exec(headers.authorization ?? "")?.[1] ?? "";
    const req: OddRequest = { method, path: new URL(target, "http://odd").pathname, key, headers, body };
    onRequest(req);
    busy = true;
    const kept = await answer(socket, req, oddScript(key) ?? oddScript(fallback)!);
    busy = false;
    if (kept === "keep") void next();
  };
  socket.on("data", (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
    void next();
  });
}

/** A raw server on 127.0.0.1 answering as the keys say. */
export async function startOddServer(
  onRequest: (r: OddRequest) => void,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    serveSocket(socket, onRequest, "odd.200.cl.identity");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
