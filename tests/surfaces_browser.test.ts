/**
 * A browser chat app on another origin, as LobeChat or NextChat run: a page served from one port
 * calls the pool on another in Chromium. The browser sends the CORS preflight (the request has
 * `Authorization`/`x-api-key` and JSON) and must then be allowed to read the answer and the
 * pool's own headers; the admin API must stay out of its reach.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { type RunningServer, serve } from "../adapters/node.ts";
import { createPool, ollama } from "../mod.ts";
import { launchChromium, step, watchPage } from "./helpers/browser.ts";
import { skipUnless } from "./helpers/requires.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { adminRequest } from "./helpers/setup.ts";

const ADMIN = "browser-cors-admin-token";

describe(
  "a chat page on another origin, in Chromium",
  skipUnless("a chat page on another origin, in Chromium", "chromium"),
  () => {
    let mock: MockUpstream;
    let server: RunningServer;
    let site: Server;
    let browser: Browser;
    let poolUrl: string;
    let siteUrl: string;
    let token: string;
    const seen: string[] = [];

    before(async () => {
      mock = await startMockUpstream();
      const pool = createPool({
        providers: [ollama({ baseURL: mock.url })],
        auth: { adminToken: ADMIN },
        logger: { info() {}, warn() {}, error() {} },
      });
      const admin = (method: string, path: string, body?: unknown) =>
        pool.fetch(adminRequest(ADMIN, method, path, body));
      token = (await (await admin("POST", "/admin/tokens", { name: "browser" })).json()).token;
      await admin("POST", "/admin/api-keys/import?provider=ollama", { keys: ["good-key-browser01"] });
      // Every request the pool gets, to see the browser's preflights.
      server = await serve({
        ...pool,
        fetch: (req, env, ctx) => (seen.push(`${req.method} ${new URL(req.url).pathname}`), pool.fetch(req, env, ctx)),
      }, {
        port: 0,
        hostname: "127.0.0.1",
        handleSignals: false,
      });
      poolUrl = `http://127.0.0.1:${server.port}`;
      site = createServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end("<!doctype html><title>chat app</title><p>a chat app</p>");
      });
      await new Promise<void>((r) => site.listen(0, "127.0.0.1", r));
      siteUrl = `http://localhost:${(site.address() as AddressInfo).port}`; // another host name: another origin
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      await new Promise((r) => site?.close(r));
      await mock?.close();
    });

    it("preflights, calls chat and Anthropic Messages, reads the pool's headers; the admin API stays closed", async () => {
      const page = await (await browser.newContext()).newPage();
      const watch = watchPage(page);
      await page.goto(siteUrl);

      const chat = await step(page, "chat completion from the page", () =>
        page.evaluate(async ({ poolUrl, token }) => {
          const res = await fetch(`${poolUrl}/v1/chat/completions`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${token}`,
              "content-type": "application/json",
              "x-stainless-os": "browser",
            },
            body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }),
          });
          return {
            status: res.status,
            text: (await res.json()).choices[0].message.content,
            overhead: res.headers.get("x-pool-overhead-ms"),
          };
        }, { poolUrl, token }));
      assert.deepEqual({ status: chat.status, text: chat.text }, { status: 200, text: "tok0 tok1 tok2 " });
      assert.match(String(chat.overhead), /^\d+(\.\d+)?$/, "x-pool-overhead-ms is exposed to the page");

      const streamed = await step(
        page,
        "streamed Anthropic message from the page",
        () =>
          page.evaluate(async ({ poolUrl, token }) => {
            const res = await fetch(`${poolUrl}/v1/messages`, {
              method: "POST",
              headers: {
                "x-api-key": token,
                "anthropic-version": "2023-06-01",
                "anthropic-dangerous-direct-browser-access": "true",
                "content-type": "application/json",
              },
              body: JSON.stringify({
                model: "llama3.2",
                max_tokens: 32,
                stream: true,
                messages: [{ role: "user", content: "hi" }],
              }),
            });
            return { status: res.status, body: await res.text() };
          }, { poolUrl, token }),
      );
      assert.equal(streamed.status, 200);
      assert.match(streamed.body, /event: message_stop/);

      const denied = await step(page, "a wrong token is a readable 401", () =>
        page.evaluate(async (poolUrl) => {
          const res = await fetch(`${poolUrl}/v1/messages`, {
            method: "POST",
            headers: { "x-api-key": "wrong", "content-type": "application/json" },
            body: "{}",
          });
          return { status: res.status, type: (await res.json()).error.type };
        }, poolUrl));
      assert.deepEqual(denied, { status: 401, type: "authentication_error" });

      const adminCall = await step(
        page,
        "the admin API refuses the page",
        () =>
          page.evaluate(async ({ poolUrl, admin }) => {
            try {
              await fetch(`${poolUrl}/admin/stats`, { headers: { authorization: `Bearer ${admin}` } });
              return "readable";
            } catch (err) {
              return `blocked: ${(err as Error).name}`;
            }
          }, { poolUrl, admin: ADMIN }),
      );
      assert.equal(adminCall, "blocked: TypeError");

      assert.ok(seen.includes("OPTIONS /v1/chat/completions"), `a preflight reached the pool: ${seen.join(", ")}`);
      assert.ok(seen.includes("OPTIONS /v1/messages"));
      // The admin preflight got no CORS answer, so the browser never sent the request itself.
      assert.ok(!seen.includes("GET /admin/stats"), "the admin request was never sent");
      assert.deepEqual(
        watch.problems.filter((p) => !/CORS|Failed to load resource|401/.test(p)),
        [],
      );
    });
  },
);
