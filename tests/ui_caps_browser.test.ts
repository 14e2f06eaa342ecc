/**
 * The dashboard's Keys tab in a real Chromium shows why a key rests after an Ollama Cloud usage
 * cap ("weekly usage limit until Mon 00:00 UTC"), from the same key list the admin API serves.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { type RunningServer, serve } from "../adapters/node.ts";
import { createPool, ollama } from "../mod.ts";
import { launchChromium, loginAdmin, step, watchPage } from "./helpers/browser.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { skipUnless } from "./helpers/requires.ts";

const ADMIN = "ui-caps-admin-token-01";

describe(
  "usage caps in the dashboard (Chromium)",
  skipUnless("usage caps in the dashboard (Chromium)", "chromium"),
  () => {
    let mock: MockUpstream;
    let server: RunningServer;
    let browser: Browser;
    let url: string;

    before(async () => {
      mock = await startMockUpstream();
      const now = Date.parse("2026-11-27T17:49:00Z"); // a Friday
      const pool = createPool({
        providers: [ollama({ baseURL: mock.url })],
        auth: { adminToken: ADMIN },
        now: () => now,
        logger: { info() {}, warn() {}, error() {} },
      });
      server = await serve(pool, { port: 0, hostname: "127.0.0.1", handleSignals: false });
      url = `http://127.0.0.1:${server.port}`;
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      await mock?.close();
    });

    it("the Keys tab says which usage limit a key reached and until when", async () => {
      const admin = (path: string, body: unknown) =>
        fetch(`${url}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      await (await admin("/admin/api-keys/import", {
        keys: [{ key: "capped-weekly-ui-0001", username: "capped account" }, {
          key: "good-key-ui-00001",
          username: "fine account",
        }],
      })).text();
      const { token } = await (await admin("/admin/tokens", { name: "ui" })).json();
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }),
        });
        assert.equal(res.status, 200);
        await res.text();
      }
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      const watch = watchPage(page);
      await step(page, "log in", async () => {
        await loginAdmin(page, ADMIN, `${url}/`);
      });
      await step(page, "see the capped key's reason", async () => {
        await page.click("nav.tabs >> text=Keys");
        const row = page.locator("#keys-body tr", { hasText: "capped account" });
        await row.waitFor();
        assert.match(await row.innerText(), /weekly usage limit until Mon 00:00 UTC/);
        assert.equal(await row.locator("td.status-cooling").count(), 1);
        assert.doesNotMatch(
          await page.locator("#keys-body tr", { hasText: "fine account" }).innerText(),
          /usage limit/,
        );
      });
      assert.deepEqual(watch.problems, []);
    });
  },
);
