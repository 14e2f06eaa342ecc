/**
 * The dashboard's Logs tab and Analytics charts in a real Chromium: find a request by status,
 * open its attempts, and read the charts — with a hostile model name and token name that must
 * stay text, and no script error or CSP violation.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { type RunningServer, serve } from "../adapters/node.ts";
import { createPool, ollama } from "../mod.ts";
import { launchChromium, loginAdmin, step, watchPage } from "./helpers/browser.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { skipUnless } from "./helpers/requires.ts";

const ADMIN = "ui-logs-admin-token";
const HOSTILE = `<img src=x onerror="globalThis.__xss=1">`;

describe(
  "Logs tab and Analytics charts in Chromium",
  skipUnless("Logs tab and Analytics charts in Chromium", "chromium"),
  () => {
    let mock: MockUpstream;
    let server: RunningServer;
    let browser: Browser;
    let url: string;
    let failingKey: string;

    before(async () => {
      mock = await startMockUpstream();
      const pool = createPool({
        providers: [ollama({ baseURL: mock.url })],
        auth: { adminToken: ADMIN },
        logger: { info() {}, warn() {}, error() {} },
      });
      server = await serve(pool, { port: 0, hostname: "127.0.0.1", handleSignals: false });
      url = `http://127.0.0.1:${server.port}`;
      const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
      await (await fetch(`${url}/admin/api-keys/import`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ keys: ["err-ui-key-long-0001", "ui-key-good-long-0002"] }),
      })).text();
      const listed = await (await fetch(`${url}/admin/api-keys`, { headers: admin })).json();
      failingKey = listed.api_keys.find((k: { username: string | null; id: string; api_key: string }) =>
        k.api_key === "err-…0001"
      ).id;
      const { token } = await (await fetch(`${url}/admin/tokens`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ name: HOSTILE }),
      })).json();
      const client = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      const send = async (model: string, id: string) => {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: "POST",
          headers: { ...client, "x-request-id": id },
          body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
        });
        await res.text();
      };
      await send("llama3.2", "ok-first"); // the failing key first, then the good one
      await send(HOSTILE, "hostile-model");
      await send("missing-model", "not-found");
      await pool.flush();
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      await mock?.close();
    });

    it("finds requests, shows their attempts and draws the charts; hostile names stay text", async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const watch = watchPage(page);
      await step(page, "log in", async () => {
        await loginAdmin(page, ADMIN, `${url}/`);
      });
      await step(page, "logs tab", async () => {
        await page.click("nav.tabs >> text=Logs");
        await page.waitForSelector("#logs-body tr.log-row");
        assert.equal(await page.locator("#logs-body tr.log-row").count(), 3);
        const hostile = page.locator("#logs-body tr.log-row", { hasText: "hostile-model" });
        assert.equal(
          await hostile.locator("td").nth(2).textContent(),
          HOSTILE.replace(/[^\w.:/@+-]/g, "_"),
          "the model as statistics keep it",
        );
        assert.equal(await hostile.locator("td").nth(3).textContent(), HOSTILE, "the token name is text");
        assert.equal(await page.locator("#logs-body img").count(), 0);
      });
      await step(page, "open a request's attempts", async () => {
        await page.locator("#logs-body tr.log-row", { hasText: "ok-first" }).click();
        await page.waitForSelector("#logs-body tr.log-detail");
        const detail = (await page.textContent("#logs-body tr.log-detail"))!;
        assert.match(detail, /cooldown/);
        assert.match(detail, /upstream answered 500/);
      });
      await step(page, "filter by status", async () => {
        await page.fill("#logs-filter input[name=status]", "404");
        await page.click("#logs-filter button[type=submit]");
        // (no waitForFunction: the page's CSP forbids the eval it needs)
        await page.locator("#logs-body tr.log-row", { hasText: "ok-first" }).waitFor({ state: "detached" });
        assert.equal(await page.locator("#logs-body tr.log-row").count(), 1);
        assert.match((await page.textContent("#logs-body tr.log-row"))!, /not-found/);
      });
      await step(page, "a key's detail", async () => {
        await page.click("nav.tabs >> text=Keys");
        await page.locator(`#keys-body tr[data-id="${failingKey}"] button[data-action=details]`).click();
        await page.waitForSelector("#key-detail:not([hidden])");
        const text = (await page.textContent("#key-detail"))!;
        assert.match(text, /upstream answered 500/);
        assert.match(text, /success rate/);
        assert.ok(!text.includes("err-ui-key-long-0001"), "the secret is masked");
      });
      await step(page, "analytics charts", async () => {
        await page.click("nav.tabs >> text=Analytics");
        await page.waitForSelector("section.charts svg");
        assert.ok(await page.locator("section.charts svg").count() >= 6);
        const requests = await page.getAttribute("section.charts svg >> nth=0", "aria-label");
        assert.match(requests!, /3 in 24 hours/);
        const ranking = await page.locator("section.charts text.rank-label").allTextContents();
        assert.ok(ranking.some((t) => t.startsWith("<img")), "the hostile token name is drawn as text");
        assert.ok(ranking.includes("upstream_404"), "errors by reason name the upstream's 404");
        assert.equal(await page.locator("section.charts img").count(), 0);
        assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
      });
      assert.deepEqual(watch.problems, []);
      await context.close();
    });
  },
);
