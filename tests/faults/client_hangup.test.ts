/**
 * Hostile clients that hang up early, on real sockets against `serve()`, with both upstream
 * transports: before the upstream's headers, while a chunked non-stream body is arriving, and in
 * the middle of SSE and NDJSON streams. None of that cools or blames a key; every such request
 * is counted (global, key, token, model, hour) as `client_closed`; and a client that leaves a
 * stream before the upstream's usage event is charged, so `quota` and `tpm` hold.
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { getRequestListener } from "@hono/node-server";
import { type RunningServer, serve } from "../../adapters/node.ts";
import { undiciFetch } from "../../adapters/node_fetch.ts";
import { nodeHandler } from "../../adapters/node_write.ts";
import { clientGoneOf } from "../../src/proxy/server_link.ts";
import { createPool, type FetchLike, ollama, type Pool } from "../../mod.ts";
import { sleep } from "../helpers/poll.ts";
import { skipUnless } from "../helpers/requires.ts";
import { adminRequest } from "../helpers/setup.ts";

const ADMIN = "hangup-admin-token-0001";
/** Content events of every streamed answer; the upstream reports 10 prompt + 10 completion tokens. */
const PARTS = 10;
/** The pause before each answer's last part (the usage event, the rest of a body): time to hang up in. */
const PAUSE_MS = 400;

/**
 * An Ollama-like upstream whose answers take long enough to leave in the middle of. The model
 * picks the shape: `slow-headers` waits before its headers, `slow-body` sends a non-stream body
 * chunked (no content-length) with a pause in the middle; streams pause before their usage.
 */
async function slowUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    // Deno's node:http reports the pool aborting an answer as an error of the (read) request;
    // read with events, not `for await`, whose iterator throws that error where nobody catches it.
    req.on("error", () => {});
    const text = await new Promise<string>((resolve) => {
      let got = "";
      req.on("data", (chunk: Buffer) => (got += chunk));
      req.on("end", () => resolve(got));
    });
    const body = JSON.parse(text || "{}");
    const stream = req.url === "/api/chat" ? body.stream !== false : body.stream === true;
    if (body.model === "slow-headers") await sleep(PAUSE_MS);
    if (res.destroyed) return;
    const usage = { prompt_tokens: 10, completion_tokens: PARTS, total_tokens: 10 + PARTS };
    if (!stream) {
      const answer = JSON.stringify({
        id: "x",
        object: "chat.completion",
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop" }],
        usage,
      });
      res.writeHead(200, { "content-type": "application/json" });
      if (body.model !== "slow-body") return void res.end(answer);
      res.write(answer.slice(0, 20));
      await sleep(PAUSE_MS);
      if (!res.destroyed) res.end(answer.slice(20));
      return;
    }
    if (req.url === "/api/chat") {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      for (let i = 0; i < PARTS && !res.destroyed; i++) {
        res.write(
          `${JSON.stringify({ model: body.model, message: { role: "assistant", content: `t${i} ` }, done: false })}\n`,
        );
      }
      await sleep(PAUSE_MS);
      if (!res.destroyed) {
        res.end(
          `${
            JSON.stringify({
              model: body.model,
              message: { role: "assistant", content: "" },
              done: true,
              prompt_eval_count: 10,
              eval_count: PARTS,
            })
          }\n`,
        );
      }
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    const frame = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
    for (let i = 0; i < PARTS && !res.destroyed; i++) {
      frame({
        id: "x",
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta: { content: `t${i} ` }, finish_reason: null }],
      });
    }
    frame({ id: "x", object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
    await sleep(PAUSE_MS);
    if (res.destroyed) return;
    if (body.stream_options?.include_usage) frame({ id: "x", object: "chat.completion.chunk", choices: [], usage });
    res.end("data: [DONE]\n\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/**
 * Sends a request on a raw socket and destroys the socket once `leave` says so (given what
 * arrived so far) or after `afterMs`; resolves with what arrived.
 */
function hangUp(
  port: number,
  path: string,
  token: string,
  body: unknown,
  leave: { afterMs?: number; when?: (got: string) => boolean },
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const json = JSON.stringify(body);
    let got = "";
    const go = (): void => {
      socket.destroy();
      resolve(got);
    };
    socket.on("error", () => {});
    socket.on("data", (d: Buffer) => {
      got += d.toString("utf8");
      if (leave.when?.(got)) go();
    });
    if (leave.afterMs !== undefined) setTimeout(go, leave.afterMs);
    socket.write(
      `POST ${path} HTTP/1.1\r\nhost: pool\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: ${
        Buffer.byteLength(json)
      }\r\n\r\n${json}`,
    );
  });
}

/** The parts of `GET /admin/stats` these tests read. */
interface Stats {
  total_requests: number;
  success_count: number;
  failure_count: number;
  client_closed_count: number;
  estimated_tokens: number;
  top_models: Array<{ model: string; requests: number }>;
  hourly: Array<{ requests: number }>;
}

const chatBody = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content: "hi" }],
  ...extra,
});

const transports: Array<[string, () => FetchLike | undefined]> = [["global fetch", () => undefined], [
  "undiciFetch",
  () => undiciFetch(),
]];

const hangups = (transport: string): string => `clients hanging up early (${transport})`;
for (const [transport, makeFetch] of transports) {
  describe(hangups(transport), skipUnless(hangups(transport), "time"), () => {
    let upstream: Awaited<ReturnType<typeof slowUpstream>>;
    let pool: Pool;
    let server: RunningServer;
    let base: string;
    const admin = async (method: string, path: string, body?: unknown) =>
      (await fetch(adminRequest(ADMIN, method, path, body, base))).json();
    const newToken = (policy: Record<string, unknown> = {}): Promise<{ id: string; token: string }> =>
      admin("POST", "/admin/tokens", { name: "hangup", ...policy });
    /** Waits until the pool has counted `n` client_closed requests in all. */
    const closedCount = async (n: number): Promise<Stats> => {
      for (let i = 0; i < 250; i++) {
        const stats = await admin("GET", "/admin/stats");
        if (stats.client_closed_count >= n) {
          return stats;
        }
        await sleep(20);
      }
      throw new Error(`the pool did not count ${n} client_closed requests`);
    };
    const keysActive = async () => {
      const list = (await admin("GET", "/admin/api-keys?pageSize=200")).api_keys as Array<
        { status: string; reason: string | null }
      >;
      assert.deepEqual(list.map((k) => [k.status, k.reason]), list.map(() => ["active", null]));
    };

    before(async () => {
      upstream = await slowUpstream();
      pool = createPool({
        providers: [ollama({ baseURL: upstream.url })],
        fetch: makeFetch(),
        auth: { adminToken: ADMIN },
        logger: { info() {}, warn() {}, error() {} },
      });
      server = await serve(pool, { port: 0, hostname: "127.0.0.1", handleSignals: false });
      base = `http://127.0.0.1:${server.port}`;
      await admin("POST", "/admin/api-keys/import", {
        keys: ["key-hangup-000001", "key-hangup-000002", "key-hangup-000003", "key-hangup-000004", "key-hangup-000005"],
      });
    });
    after(async () => {
      await server.close();
      await upstream.close();
    });

    it("five clients leaving during chunked non-stream bodies cool no key; all five are counted everywhere as client_closed", async () => {
      const { id, token } = await newToken();
      const before = await admin("GET", "/admin/stats");
      // The pool answers non-stream requests once the whole body is in: the client leaves before that.
      await Promise.all(
        Array.from(
          { length: 5 },
          () => hangUp(server.port, "/v1/chat/completions", token, chatBody("slow-body"), { afterMs: PAUSE_MS / 2 }),
        ),
      );
      const stats = await closedCount(before.client_closed_count + 5);
      await keysActive();
      assert.equal(stats.total_requests - before.total_requests, 5);
      assert.equal(stats.failure_count, before.failure_count);
      // Under the model's name once a request for it has succeeded; until then under "other".
      const other = (s: { top_models: Array<{ model: string; requests: number }> }) =>
        s.top_models.find((m) => m.model === "other")?.requests ?? 0;
      assert.equal(other(stats) - other(before), 5);
      assert.equal(stats.hourly.at(-1)!.requests - before.hourly.at(-1).requests, 5);
      const tok = (await admin("GET", "/admin/tokens")).tokens.find((t: { id: string }) => t.id === id);
      assert.equal(tok.requests, 5);
      const keys = (await admin("GET", "/admin/keys/stats")).stats as Array<
        { clientClosedCount: number; successCount: number; failureCount: number }
      >;
      assert.equal(
        keys.reduce((a, k) => a + k.clientClosedCount, 0),
        5,
      );
      assert.equal(
        keys.reduce((a, k) => a + k.successCount + k.failureCount, 0),
        0,
      );
      // And the next legitimate request is served, not told that keys are cooling down.
      const res = await fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(chatBody("slow-body")),
      });
      assert.equal(res.status, 200);
      assert.equal((await res.json()).choices[0].message.content, "hello");
    });

    it("a client leaving before the upstream's headers is counted (not only in /metrics) and blames no key", async () => {
      const { token } = await newToken();
      const before = await admin("GET", "/admin/stats");
      await hangUp(server.port, "/v1/chat/completions", token, chatBody("slow-headers"), { afterMs: PAUSE_MS / 4 });
      const stats = await closedCount(before.client_closed_count + 1);
      assert.equal(stats.total_requests - before.total_requests, 1);
      await keysActive();
      const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
      assert.match(metrics, /pool_requests_total\{provider="ollama",model="slow-headers",status="499"\} 1/);
    });

    it("a client leaving right after sending its request is counted too, and blames no key", async () => {
      const { id, token } = await newToken();
      const before = await admin("GET", "/admin/stats");
      await Promise.all(
        Array.from(
          { length: 5 },
          () => hangUp(server.port, "/v1/chat/completions", token, chatBody("slow-headers"), { afterMs: 0 }),
        ),
      );
      await sleep(PAUSE_MS * 2);
      const stats = await admin("GET", "/admin/stats");
      const tok = (await admin("GET", "/admin/tokens")).tokens.find((t: { id: string }) => t.id === id);
      // Requests the server never read are nobody's; each one the pool took is counted as client_closed.
      assert.equal(stats.total_requests - before.total_requests, tok.requests);
      assert.equal(stats.client_closed_count - before.client_closed_count, tok.requests);
      assert.equal(stats.success_count, before.success_count);
      await keysActive();
    });

    for (
      const [kind, path, extra, contentEnd] of [
        ["SSE", "/v1/chat/completions", { stream: true }, `"finish_reason":"stop"`],
        ["NDJSON", "/api/chat", {}, `t${PARTS - 1} `],
      ] as const
    ) {
      it(`a client leaving a ${kind} stream mid-way blames no key and is counted as client_closed`, async () => {
        const { token } = await newToken();
        const before = await admin("GET", "/admin/stats");
        const got = await hangUp(server.port, path, token, chatBody("llama3.2", extra), {
          when: (g) => g.includes("t0 "),
        });
        assert.match(got, /^HTTP\/1\.1 200/);
        const stats = await closedCount(before.client_closed_count + 1);
        assert.equal(stats.success_count, before.success_count);
        await keysActive();
      });

      for (const policy of [{ quota: 18 }, { tpm: 18 }]) {
        const name = Object.keys(policy)[0];
        it(`${name} 18 holds on ${kind} streams: an honest client gets 200, 429, 429, and so does one that leaves before the usage event`, async () => {
          const honest = await newToken(policy);
          const statuses: number[] = [];
          for (let i = 0; i < 3; i++) {
            const res = await fetch(`${base}${path}`, {
              method: "POST",
              headers: { authorization: `Bearer ${honest.token}`, "content-type": "application/json" },
              body: JSON.stringify(chatBody("llama3.2", extra)),
            });
            statuses.push(res.status);
            await res.text();
          }
          assert.deepEqual(statuses, [200, 429, 429]);

          const hostile = await newToken(policy);
          const before = await admin("GET", "/admin/stats");
          const got = await hangUp(server.port, path, hostile.token, chatBody("llama3.2", extra), {
            when: (g) => g.includes(contentEnd),
          });
          assert.match(got, /^HTTP\/1\.1 200/);
          assert.ok(!got.includes('"usage"') && !got.includes("eval_count"), "left before the usage event");
          const stats = await closedCount(before.client_closed_count + 1);
          assert.ok(stats.estimated_tokens > before.estimated_tokens, "the charge is marked as an estimate");
          const after: number[] = [got.startsWith("HTTP/1.1 200") ? 200 : 0];
          for (let i = 0; i < 2; i++) {
            const res = await fetch(`${base}${path}`, {
              method: "POST",
              headers: { authorization: `Bearer ${hostile.token}`, "content-type": "application/json" },
              body: JSON.stringify(chatBody("llama3.2", extra)),
            });
            after.push(res.status);
            await res.text();
          }
          assert.deepEqual(after, [200, 429, 429]);
        });
      }
    }
  });
}

describe("the Node adapter's client-gone signal", () => {
  it("tells of a client that left before the pool asked (while its request was still being read)", async () => {
    let told: boolean | undefined;
    const listener = getRequestListener(nodeHandler(async (req) => {
      await sleep(300); // the pool still busy with the request when the client leaves
      told = false;
      clientGoneOf(req)(() => (told = true));
      return new Response("late");
    }));
    const server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      await hangUp((server.address() as AddressInfo).port, "/x", "t", {}, { afterMs: 50 });
      for (let i = 0; i < 50 && told !== true; i++) await sleep(20);
      assert.equal(told, true);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("a client gone before any upstream attempt", () => {
  it("is counted as client_closed but charged nothing: no upstream had the request", async () => {
    const upstream = await slowUpstream();
    const pool = createPool({
      providers: [ollama({ baseURL: upstream.url })],
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
    });
    try {
      const admin = async (method: string, path: string, body?: unknown) =>
        (await pool.fetch(adminRequest(ADMIN, method, path, body))).json();
      await admin("POST", "/admin/api-keys/import", { keys: ["key-hangup-000009"] });
      const { token } = await admin("POST", "/admin/tokens", { name: "gone", quota: 18 });
      const left = new AbortController();
      left.abort();
      const res = await pool.fetch(
        new Request("http://pool/v1/chat/completions", {
          method: "POST",
          signal: left.signal,
          body: JSON.stringify(chatBody("slow-body")),
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        }),
      );
      assert.equal(res.status, 499);
      const stats = await admin("GET", "/admin/stats");
      assert.deepEqual([stats.total_requests, stats.client_closed_count, stats.prompt_tokens, stats.estimated_tokens], [
        1,
        1,
        0,
        0,
      ]);
      const keys = (await admin("GET", "/admin/keys/stats")).stats as Array<{ totalRequests: number }>;
      assert.equal(keys[0].totalRequests, 0);
    } finally {
      await pool.close();
      await upstream.close();
    }
  });
});
