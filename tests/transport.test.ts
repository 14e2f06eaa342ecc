/**
 * The transport contract (src/proxy/transport.ts) on a real HTTP server, for both transports the
 * pool ships: any `fetch` adapted by fetchTransport, and the Node adapter's undici one. And the
 * one driver of stream bodies (body_stream.ts) with the tap's hooks.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { undiciFetch } from "../adapters/node_fetch.ts";
import { driveBody, drivenStream } from "../src/proxy/body_stream.ts";
import type { StreamTap } from "../src/proxy/stream.ts";
import { readBody } from "../src/proxy/body.ts";
import { discardAnswer, sourceOf, type Transport, transportOf, type UpstreamAnswer } from "../src/proxy/transport.ts";

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Reads a web stream whole; rejects when it errors. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<string> {
  let out = "";
  const reader = stream.getReader();
  for (;;) {
    const r = await reader.read();
    if (r.done) return out;
    out += text(r.value);
  }
}

/** A tap that records what the driver told it and passes chunks on unchanged. */
function recordingTap(): StreamTap & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    chunk: (b) => (log.push("chunk"), b),
    done: () => (log.push("done"), undefined),
    failed: () => (log.push("failed"), new TextEncoder().encode('data: {"error":1}\n\n')),
    cancelled: () => void log.push("cancelled"),
    waiting: () => void log.push("waiting"),
  };
}

/** The most the /flood route sends: far beyond what socket buffers hold between a paused reader and it. */
const FLOOD_BYTES = 32 * 1024 * 1024;
/** Bytes the /flood route has handed to its socket so far. */
let flooded = 0;

let server: Server;
let base = "";
before(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    if (path === "/json") {
      res.writeHead(200, { "Content-Type": "application/json", "X-Thing": "1", "Content-Length": "11" }).end(
        '{"ok":true}',
      );
    } else if (path === "/repeated") {
      res.setHeader("x-dup", ["a", "b"]);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    } else if (path === "/sse") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: 1\n\n");
      setTimeout(() => res.end("data: 2\n\n"), 20);
    } else if (path === "/gzip") {
      const body = gzipSync("data: zipped\n\n");
      res.writeHead(200, { "content-type": "text/event-stream", "content-encoding": "gzip" }).end(body);
    } else if (path === "/break") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: 1\n\n");
      setTimeout(() => res.socket?.destroy(), 20);
    } else if (path === "/flood") {
      // As fast as the reader takes it: a write that returns false waits for "drain".
      flooded = 0;
      res.writeHead(200, { "content-type": "text/event-stream" });
      const chunk = Buffer.alloc(64 * 1024, "data: x\n\n");
      const pump = (): void => {
        while (flooded < FLOOD_BYTES && !res.destroyed) {
          flooded += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    } else if (path === "/204") {
      res.writeHead(204).end();
    } else if (path === "/999") {
      res.socket?.end("HTTP/1.1 999 Odd\r\ncontent-length: 0\r\n\r\n");
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));

const transports: Array<[string, () => Transport]> = [
  ["fetch adapted", () => transportOf((url, init) => fetch(url, init))],
  ["undiciFetch", () => transportOf(undiciFetch())],
];

for (const [name, make] of transports) {
  describe(`transport contract (${name})`, () => {
    const send = (path: string, method = "GET"): Promise<UpstreamAnswer> =>
      make().send(base + path, { method, headers: { accept: "*/*" }, signal: new AbortController().signal });

    it("answers status, a lowercase header record and the body", async () => {
      const a = await send("/json");
      assert.equal(a.status, 200);
      assert.equal(a.headers["content-type"], "application/json");
      assert.equal(a.headers["x-thing"], "1");
      const read = await readBody(a, { maxBytes: 1024, idleMs: 1000 });
      assert.ok(read.ok);
      assert.equal(text(read.bytes), '{"ok":true}');
    });

    it("joins a repeated header's values with a comma, as Headers.get does", async () => {
      const a = await send("/repeated");
      assert.equal(a.headers["x-dup"], "a, b");
      discardAnswer(a);
    });

    it("streams through the one driver, the tap told of every chunk and the end", async () => {
      const tap = recordingTap();
      const a = await send("/sse");
      assert.equal(await drain(drivenStream(sourceOf(a)!, tap)), "data: 1\n\ndata: 2\n\n");
      assert.deepEqual(tap.log.filter((x) => x !== "waiting"), ["chunk", "chunk", "done"]);
      assert.ok(tap.log.includes("waiting"), "the idle timer is armed while the reader waits");
    });

    it("decodes a compressed body and drops content-encoding", async () => {
      const a = await send("/gzip");
      assert.equal(a.headers["content-encoding"], undefined);
      assert.equal(await drain(drivenStream(sourceOf(a)!)), "data: zipped\n\n");
    });

    it("a body that breaks ends the tapped stream with the tap's error event", async () => {
      const tap = recordingTap();
      const a = await send("/break");
      assert.equal(await drain(drivenStream(sourceOf(a)!, tap)), 'data: 1\n\ndata: {"error":1}\n\n');
      assert.equal(tap.log.at(-1), "failed");
    });

    it("a body that breaks errors an untapped stream, and one discarded unread harms nothing", async () => {
      await assert.rejects(drain(drivenStream(sourceOf(await send("/break"))!)));
      const unread = await send("/break");
      await new Promise((r) => setTimeout(r, 60)); // broken before anyone looked
      discardAnswer(unread);
    });

    it("204 and HEAD have no body", async () => {
      const a = await send("/204");
      assert.equal(a.status, 204);
      assert.equal(a.body, null);
      assert.equal(sourceOf(a), undefined);
      const h = await send("/json", "HEAD");
      assert.equal(h.body, null);
    });

    it("a reader that has enough pauses the upstream: the body is not read ahead into memory", async () => {
      const a = await send("/flood");
      let got = 0;
      const driver = driveBody(sourceOf(a)!, undefined, {
        write: (bytes) => (got += bytes.length, false), // full after every chunk: wants nothing more
        close: () => {},
        error: () => {},
      });
      driver.want();
      await new Promise((r) => setTimeout(r, 400));
      // Socket buffers on both sides hold a few MB at most; an unpaused body would be all 32 MB.
      assert.ok(got > 0 && got <= 1024 * 1024, `delivered ${got} bytes while the reader wanted none`);
      assert.ok(flooded < FLOOD_BYTES / 2, `the upstream wrote ${flooded} bytes to a paused reader`);
      const before = got;
      driver.want(); // and it flows again when the reader asks
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(got > before, "nothing came after the reader asked again");
      driver.cancel();
    });

    it("a cancelled reader cancels the source and tells the tap once", async () => {
      const tap = recordingTap();
      const reader = drivenStream(sourceOf(await send("/sse"))!, tap).getReader();
      assert.equal(text((await reader.read()).value!), "data: 1\n\n");
      await reader.cancel();
      await reader.cancel().catch(() => {});
      assert.equal(tap.log.filter((x) => x === "cancelled").length, 1);
    });
  });
}

describe("transport contract: undici's status check", () => {
  it("a status outside 200-599 rejects send", async () => {
    const t = transportOf(undiciFetch());
    await assert.rejects(
      t.send(`${base}/999`, { method: "GET", headers: {}, signal: new AbortController().signal }),
      /outside 200-599/,
    );
  });

  it("undiciFetch is still a fetch: a standard Response from the same answer", async () => {
    const res = await undiciFetch()(`${base}/sse`, {});
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    assert.equal(await res.text(), "data: 1\n\ndata: 2\n\n");
  });
});
