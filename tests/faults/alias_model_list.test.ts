/**
 * A hostile (or broken) upstream answers `GET /v1/models` with an endless event stream while
 * model aliases are configured and no key's model list is known yet. The pool read the whole
 * answer into memory to add the aliases to it: about 125 MB a second, on and on after the client
 * had gone (4.5 GB in 36 s), until the process would die of it. A streamed answer is passed on
 * as it is now, and the upstream is let go when the client leaves. Real HTTP against `serve()`.
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type RunningServer, serve } from "../../adapters/node.ts";
import { undiciFetch } from "../../adapters/node_fetch.ts";
import { createPool, ollama, type Pool } from "../../mod.ts";
import { within } from "../helpers/poll.ts";

const ADMIN = "alias-model-list-admin-01";

describe("an endless streamed model list with aliases configured", () => {
  let upstream: Server;
  let pool: Pool;
  let server: RunningServer;
  let base: string;
  /** Bytes the upstream has written, and whether its answer was closed by the pool. */
  const sent = { bytes: 0, closed: false };
  before(async () => {
    upstream = createServer((req, res: ServerResponse) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.on("close", () => (sent.closed = true));
      const chunk = `data: ${"x".repeat(16 * 1024)}\n\n`;
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) sent.bytes += chunk.length;
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    pool = createPool({
      providers: [ollama({ baseURL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` })],
      models: { fast: [{ provider: "ollama", model: "llama3.2" }] },
      fetch: undiciFetch(),
      auth: { adminToken: ADMIN },
      logger: { info() {}, warn() {}, error() {} },
    });
    server = await serve(pool, { port: 0, hostname: "127.0.0.1", handleSignals: false });
    base = `http://127.0.0.1:${server.port}`;
    await fetch(`${base}/admin/api-keys/import`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ keys: ["endless-list-key-01"] }),
    });
  });
  after(async () => {
    await server.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  it("passes the stream on instead of reading it all, and lets the upstream go with the client", async () => {
    const { token } = await (await fetch(`${base}/admin/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "lister" }),
    })).json();
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 5000);
    let status = 0;
    try {
      const res = await fetch(`${base}/v1/models`, {
        headers: { authorization: `Bearer ${token}` },
        signal: ac.signal,
      });
      status = res.status;
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel();
    } catch {
      // aborted: the pool never answered
    } finally {
      clearTimeout(timer);
    }
    assert.equal(status, 200, "the answer's headers came without the pool reading the whole body");
    await within(5000, () => sent.closed, "the upstream answer closed once the client left");
  });
});
