/**
 * A hostile client on `/v1/messages` (Anthropic's stream) that reads every content event and
 * hangs up before the closing `message_delta`, the event that reports the output tokens. Anthropic's
 * `message_start` already carries a usage object (input tokens, output 1), so the pool took the
 * usage as known and charged 1 output token for a whole answer: a quota or `tpm` could be spent
 * many times over. A client that leaves is now charged at least the estimate of what it was sent.
 * Real sockets, `serve()` and the undici transport.
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type RunningServer, serve } from "../../adapters/node.ts";
import { undiciFetch } from "../../adapters/node_fetch.ts";
import { createPool, ollama, type Pool } from "../../mod.ts";
import { sleep, within } from "../helpers/poll.ts";
import { skipUnless } from "../helpers/requires.ts";

const ADMIN = "hangup-anthropic-admin-01";
/** Content events per answer; the closing message_delta reports this many output tokens. */
const PARTS = 40;
const PAUSE_MS = 400;

const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

/** An Anthropic Messages upstream that pauses before the event carrying the output tokens. */
async function anthropicUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    req.on("error", () => {});
    await new Promise((resolve) => req.on("data", () => {}).on("end", resolve));
    res.writeHead(200, { "content-type": "text/event-stream" });
    const message = { id: "msg_1", type: "message", role: "assistant", model: "m", content: [], usage: {} };
    res.write(
      event("message_start", {
        type: "message_start",
        message: { ...message, usage: { input_tokens: 10, output_tokens: 1 } },
      }),
    );
    res.write(
      event("content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "text", text: "" },
      }),
    );
    for (let i = 0; i < PARTS; i++) {
      res.write(
        event("content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "text_delta", text: `t${i} ` },
        }),
      );
    }
    res.write(event("content_block_stop", { type: "content_block_stop", index: 0 }));
    await sleep(PAUSE_MS);
    if (res.destroyed) return;
    res.write(
      event("message_delta", {
        type: "message_delta",
        delta: { stop_reason: "end_turn" },
        usage: { output_tokens: PARTS },
      }),
    );
    res.end(event("message_stop", { type: "message_stop" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

describe("a client leaving an Anthropic stream before its usage", skipUnless("anthropic hang-up", "time"), () => {
  let upstream: Awaited<ReturnType<typeof anthropicUpstream>>;
  let pool: Pool;
  let server: RunningServer;
  let base: string;
  const admin = async (method: string, path: string, body?: unknown) =>
    (await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    })).json();
  const body = JSON.stringify({
    model: "m",
    max_tokens: 64,
    stream: true,
    messages: [{ role: "user", content: "hi" }],
  });

  before(async () => {
    upstream = await anthropicUpstream();
    pool = createPool({
      providers: [ollama({ baseURL: upstream.url })],
      fetch: undiciFetch(),
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
    });
    server = await serve(pool, { port: 0, hostname: "127.0.0.1", handleSignals: false });
    base = `http://127.0.0.1:${server.port}`;
    await admin("POST", "/admin/api-keys/import", { keys: ["key-anthropic-000001"] });
  });
  after(async () => {
    await server.close();
    await upstream.close();
  });

  it("is charged for the content it read, not one output token", async () => {
    const { id, token } = await admin("POST", "/admin/tokens", { name: "leaver" });
    const ac = new AbortController();
    const res = await fetch(`${base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": token, "content-type": "application/json" },
      body,
      signal: ac.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let got = "";
    while (!got.includes("content_block_stop")) {
      const { done, value } = await reader.read();
      if (done) break;
      got += decoder.decode(value, { stream: true });
    }
    assert.ok(got.includes(`t${PARTS - 1} `) && !got.includes("message_delta"), "left before the usage event");
    ac.abort();
    await reader.cancel().catch(() => {});
    let charged = { requests: 0, completionTokens: 0 };
    await within(5000, async () => {
      await pool.flush();
      charged = (await admin("GET", "/admin/tokens")).tokens.find((t: { id: string }) => t.id === id);
      return charged.requests === 1;
    }, "the request counted");
    assert.ok(
      charged.completionTokens >= PARTS,
      `charged ${charged.completionTokens} output tokens for ${PARTS} content events`,
    );
  });
});
