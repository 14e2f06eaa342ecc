/**
 * A local stand-in for Upstash's REST API, since the service cannot be reached from tests: the
 * HTTP envelope is Upstash's, the data lives in a real redis-server (through a plain RESP client, tests/helpers/resp.ts). What it
 * speaks, as Upstash documents it and `@upstash/redis` sends it:
 * - `POST /` with one command as a JSON array (`["SET","k","v","EX",60]`) → `{"result": …}`;
 * - `POST /pipeline` and `POST /multi-exec` with an array of commands → `[{"result"}|{"error"}, …]`
 *   (multi-exec inside MULTI/EXEC; a transaction Redis refuses as a whole → `{"error"}`, 400);
 * - `Authorization: Bearer <token>` (else 401 `{"error": "Unauthorized"}`);
 * - `Upstash-Encoding: base64`: every string in the result base64-encoded except the status
 *   reply `OK` (the client decodes every other string, status replies such as TYPE's included);
 * - a failed command: 400 `{"error": "<Redis's message>"}`.
 * `tests/upstash_rest.test.ts` checks it once against `@upstash/redis` itself.
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type Reply, ReplyError, type RespClient, respClient, Status } from "./resp.ts";

/** Options of {@link startUpstashRest}. */
export interface UpstashRestOptions {
  /** @default "upstash-test-token-0123456789" */
  token?: string;
  /**
   * Largest request body accepted; beyond it 413, as Upstash answers past its request size limit.
   * @default 16 MiB
   */
  maxBodyBytes?: number;
}

export interface UpstashRest {
  /** For `UPSTASH_REDIS_REST_URL`. */
  url: string;
  /** For `UPSTASH_REDIS_REST_TOKEN`. */
  token: string;
  /** Requests answered so far (per path), to show that a flush is one request. */
  requests: Map<string, number>;
  /**
   * Commands received so far by name (lower case), each command of a pipeline or transaction
   * counted on its own, as Upstash bills them; `total` is their sum.
   */
  commands: CommandCount;
  close(): Promise<void>;
}

type Command = Array<string | number>;

/** Commands by name; names past the first 100 are counted under "other" (the map's bound). */
export class CommandCount extends Map<string, number> {
  total = 0;
  add(commands: Command[]): void {
    for (const [name] of commands) {
      const key = String(name).toLowerCase();
      const counted = this.has(key) || this.size < 100 ? key : "other";
      this.set(counted, (this.get(counted) ?? 0) + 1);
      this.total++;
    }
  }
  /** Zeroes the counts, e.g. after a test's setup. */
  reset(): void {
    this.clear();
    this.total = 0;
  }
}
const ENDPOINTS = new Set(["/", "/pipeline", "/multi-exec"]);

/** A reply as the REST API shows it: strings base64 when asked, except the status `OK`. */
function toJson(value: Reply, base64: boolean): unknown {
  if (value instanceof Status) {
    return value.text === "OK" || !base64 ? value.text : Buffer.from(value.text).toString("base64");
  }
  if (typeof value === "string") return base64 ? Buffer.from(value).toString("base64") : value;
  if (Array.isArray(value)) return value.map((v) => toJson(v, base64));
  if (value instanceof ReplyError) return null; // only EXEC nests errors; handled by the caller
  return value;
}

const item = (
  r: Reply,
  base64: boolean,
) => (r instanceof ReplyError ? { error: r.message } : { result: toJson(r, base64) });

/** The body as text, or undefined past `limit` (the rest is read and dropped, so a 413 can be sent). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] | undefined = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) chunks = undefined;
      else chunks?.push(c);
    });
    req.on("end", () => resolve(chunks && Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const isCommand = (c: unknown): c is Command =>
  Array.isArray(c) && c.length > 0 && c.every((a) => typeof a === "string" || typeof a === "number");

/** Starts the REST server for the Redis on `redisPort`, on a free port of 127.0.0.1. */
export async function startUpstashRest(redisPort: number, options: UpstashRestOptions = {}): Promise<UpstashRest> {
  const token = options.token ?? "upstash-test-token-0123456789";
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  let conn: Promise<RespClient> | undefined;
  // One connection, opened again after Redis went away (outage tests restart it).
  const redis = async (): Promise<RespClient> => {
    const c = await (conn ??= respClient(redisPort).catch((err) => {
      conn = undefined;
      throw err;
    }));
    return c;
  };
  const send = async (commands: Command[]): Promise<Reply[]> => {
    const c = await redis();
    try {
      return await c.send(commands);
    } catch (err) {
      conn = undefined;
      throw err;
    }
  };
  const expected = Buffer.from(`Bearer ${token}`);
  const requests = new Map<string, number>();
  const commands = new CommandCount();
  const answer = (res: ServerResponse, status: number, json: unknown) =>
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));

  const handle = async (path: string, body: unknown, base64: boolean): Promise<[number, unknown]> => {
    if (path === "/" && isCommand(body)) {
      commands.add([body]);
      const [r] = await send([body]);
      return r instanceof ReplyError ? [400, { error: r.message }] : [200, item(r, base64)];
    }
    if (!(Array.isArray(body) && body.length > 0 && body.every(isCommand))) {
      return [400, { error: "ERR failed to parse command" }];
    }
    if (ENDPOINTS.has(path)) commands.add(body);
    if (path === "/pipeline") return [200, (await send(body)).map((r) => item(r, base64))];
    if (path === "/multi-exec") {
      const replies = await send([["MULTI"], ...body, ["EXEC"]]);
      const exec = replies[replies.length - 1];
      // A command Redis refused while queueing aborts the whole transaction (EXECABORT).
      if (!Array.isArray(exec)) {
        return [400, { error: exec instanceof ReplyError ? exec.message : "ERR transaction aborted" }];
      }
      return [200, exec.map((r) => item(r, base64))];
    }
    return [404, { error: "ERR unsupported request" }];
  };

  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    // Only the three endpoints are counted: the map stays at three entries whatever is requested.
    if (ENDPOINTS.has(path)) requests.set(path, (requests.get(path) ?? 0) + 1);
    const auth = Buffer.from(req.headers.authorization ?? "");
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      return answer(res, 401, { error: "Unauthorized" });
    }
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    const text = await readBody(req, maxBodyBytes).catch(() => undefined);
    if (text === undefined) return answer(res, 413, { error: "ERR max request size exceeded" });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return answer(res, 400, { error: "ERR failed to parse command" });
    }
    try {
      const [status, json] = await handle(path, body, base64);
      answer(res, status, json);
    } catch (err) {
      // Redis unreachable: Upstash answers 5xx, which the client reports as an error.
      answer(res, 503, { error: `ERR ${(err as Error).message}` });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    commands,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      (await conn?.catch(() => undefined))?.close();
    },
  };
}
