/** ofetch for the pool's side calls (usage polling, mail webhook, Turnstile): bounded, timed, errors as errors. */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { MAX_SIDE_ANSWER_BYTES, sideFetch } from "../src/proxy/side_fetch.ts";

describe("side calls", () => {
  let url: string;
  let lastBody = "";
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      lastBody = body;
      if (req.url === "/big") return void res.end("x".repeat(MAX_SIDE_ANSWER_BYTES + 1));
      if (req.url === "/slow") return void setTimeout(() => res.end("{}"), 2000);
      if (req.url === "/fail") return void res.writeHead(500).end('{"error":"no"}');
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ok: true, method: req.method }));
    });
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const client = sideFetch((input, init) => fetch(input, init), 500);

  it("sends JSON bodies and reads JSON answers", async () => {
    const r = await client.json(`${url}/ok`, { method: "POST", body: { a: 1 } });
    assert.deepEqual(r, { status: 200, json: { ok: true, method: "POST" } });
    assert.equal(lastBody, '{"a":1}');
  });

  it("refuses answers over the bound, a non-2xx (unless accepted) and a silent server", async () => {
    await assert.rejects(client.json(`${url}/big`), /too large/);
    await assert.rejects(client.json(`${url}/fail`), (err: { status?: number }) => err.status === 500);
    assert.deepEqual(await client.json(`${url}/fail`, { acceptErrors: true }), { status: 500, json: { error: "no" } });
    const t0 = Date.now();
    await assert.rejects(client.json(`${url}/slow`));
    assert.ok(Date.now() - t0 < 1900, "the timeout ended it");
  });
});
