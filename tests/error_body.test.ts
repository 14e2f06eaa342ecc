/** Reading error bodies for classification: bounded in bytes and time, never throwing. @module */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_ERROR_BODY_BYTES } from "../src/providers/types.ts";
import { readErrorBody } from "../src/proxy/error_body.ts";

const enc = new TextEncoder();

describe("readErrorBody", () => {
  it("reads a small body whole", async () => {
    assert.equal(
      await readErrorBody(new Response('{"error":"weekly usage limit"}', { status: 429 })),
      '{"error":"weekly usage limit"}',
    );
  });

  it("stops at 64 KiB of an endless body and cancels the rest", async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(enc.encode("x".repeat(10_000)));
      },
      cancel() {
        cancelled = true;
      },
    });
    const text = await readErrorBody(new Response(endless, { status: 500 }));
    assert.equal(text?.length, MAX_ERROR_BODY_BYTES);
    assert.ok(cancelled);
  });

  it("gives up on a body that stalls, keeping what came", async () => {
    const stalled = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode("you have reached your "));
      },
    });
    const t0 = Date.now();
    assert.equal(await readErrorBody(new Response(stalled, { status: 429 }), 100), "you have reached your ");
    assert.ok(Date.now() - t0 < 2_000);
  });

  it("keeps what came of a body that breaks, and never throws", async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode("partial"));
      },
      pull(c) {
        c.error(new Error("connection reset"));
      },
    });
    assert.equal(await readErrorBody(new Response(broken, { status: 502 })), "partial");
    const used = new Response("x", { status: 500 });
    await used.text();
    assert.equal(await readErrorBody(used), undefined);
    assert.equal(await readErrorBody(new Response(null, { status: 503 })), undefined);
  });
});
