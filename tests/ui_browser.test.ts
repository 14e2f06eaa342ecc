/**
 * The dashboard and the stats page in a real Chromium (Debian's, via playwright-core): log in,
 * import keys, create a token, disable a key, run a health check, see stats — with hostile
 * strings in a key label and a token name that must stay text — on a desktop and a 375 px phone;
 * served at the root and mounted under `/llm` of a host Hono app (README's hono-middleware
 * example), where the mount point is visited with and without its trailing slash.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { type RunningServer, serve } from "../adapters/node.ts";
import { buildApp } from "../examples/hono-middleware/app.ts";
import { createPool, ollama, openrouter } from "../mod.ts";
import { launchChromium, loginAdmin, step, watchPage } from "./helpers/browser.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { skipUnless } from "./helpers/requires.ts";

const ADMIN = "ui-admin-token-0123";
const XSS = (tag: string) => `<img src=x onerror="globalThis.__xss='${tag}'">`;

const dashboardSuite = (mount: string): string => `dashboard in Chromium${mount ? `, mounted at ${mount}` : ""}`;
for (const mount of ["", "/llm"]) {
  describe(dashboardSuite(mount), skipUnless(dashboardSuite(mount), "chromium"), () => {
    let mock: MockUpstream;
    let server: RunningServer;
    let browser: Browser;
    let url: string;
    let pool: ReturnType<typeof createPool>;

    before(async () => {
      mock = await startMockUpstream();
      pool = createPool({
        providers: [ollama({ baseURL: mock.url }), openrouter({ baseURL: `${mock.url}/api` })],
        auth: { adminToken: ADMIN },
        logger: { info() {}, warn() {}, error() {} },
      });
      // Mounted: the host app of examples/hono-middleware serves the pool under /llm.
      const host = mount ? buildApp(pool) : undefined;
      server = await serve(
        host
          ? { ...pool, fetch: (req, env, ctx) => Promise.resolve(host.fetch(req, env as never, ctx as never)) }
          : pool,
        { port: 0, hostname: "127.0.0.1", handleSignals: false },
      );
      url = `http://127.0.0.1:${server.port}${mount}`;
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      await mock?.close();
    });

    const noScriptRan = async (page: Page) =>
      assert.equal(
        await page.evaluate(() => (globalThis as { __xss?: string }).__xss),
        undefined,
        "no injected script ran",
      );

    it("manages the pool from the browser, and hostile strings stay text", async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const watch = watchPage(page);

      await step(page, "log in", async () => {
        await page.goto(mount ? url : `${url}/`); // mounted: the mount point without a trailing slash
        await page.fill("#token", "wrong");
        await page.click("button[type=submit]");
        await page.waitForSelector("text=That is not the admin token.");
        await loginAdmin(page, ADMIN);
        assert.equal(new URL(page.url()).pathname, `${mount}/`, "the login redirects to the dashboard");
        const cookies = await context.cookies();
        const session = cookies.find((c) => c.name === "pool_admin");
        assert.ok(session?.httpOnly && session.sameSite === "Strict", "session cookie is HttpOnly and SameSite=Strict");
        assert.equal(await page.evaluate("document.cookie"), "", "scripts cannot read the session");
      });

      await step(page, "import keys", async () => {
        await page.click("nav.tabs >> text=Import");
        const lines = [
          `${XSS("label")}----pw----sess----ui-key-alpha-0001`,
          "ui-key-beta-0002",
          "",
          "not a key line with spaces",
          "bad-ui-key-0003",
        ];
        await page.fill("textarea[name=content]", lines.join("\n"));
        await page.click("#import-form button[type=submit]");
        await page.waitForSelector("[data-field=added]");
        assert.equal(await page.textContent("[data-field=added]"), "3");
        assert.equal(await page.textContent("[data-field=invalid]"), "1");
        assert.equal(await page.getAttribute("#import-progress", "value"), "1");
        await page.waitForSelector("#import-result td >> text=4"); // the invalid line's number
      });

      await step(page, "see keys and disable one", async () => {
        await page.click("nav.tabs >> text=Keys");
        await page.waitForSelector("#keys-body tr[data-id]");
        assert.equal(await page.locator("#keys-body tr[data-id]").count(), 3);
        const hostileRow = page.locator("#keys-body tr", { hasText: "onerror" });
        assert.equal(await hostileRow.locator("td").nth(1).textContent(), XSS("label"), "the label is shown as text");
        assert.equal(await page.locator("#keys-body img").count(), 0);
        await hostileRow.locator("button", { hasText: "Disable" }).click();
        await page.waitForSelector("#keys-body tr:has-text('onerror') td.status-disabled");
        await hostileRow.locator("input[data-field=weight]").fill("3");
        await hostileRow.locator("input[data-field=priority]").focus(); // leaving the field saves it
        await page.waitForSelector("text=weight set to 3");
        await page.selectOption("#keys-filter select[name=status]", "disabled");
        // (waitForFunction would need eval, which the page's CSP rightly refuses)
        await page.waitForSelector("#keys-body td.status-active", { state: "detached" });
        assert.equal(await page.locator("#keys-body tr[data-id]").count(), 1);
        await page.selectOption("#keys-filter select[name=status]", "");
        await page.fill("#keys-filter input[name=search]", "no-such-label");
        await page.click("#keys-filter button[type=submit]");
        await page.waitForSelector("#keys-body >> text=No keys match.");
      });
      const states =
        (await (await fetch(`${url}/admin/api-keys`, { headers: { authorization: `Bearer ${ADMIN}` } })).json())
          .api_keys;
      assert.equal(
        states.filter((k: { status: string }) => k.status === "disabled").length,
        1,
        "the server has the key disabled",
      );
      assert.deepEqual(
        states.map((k: { weight: number }) => k.weight).sort(),
        [1, 1, 3],
        "the server has the weight set in the dashboard",
      );

      const token = await step(page, "create a token", async () => {
        await page.click("nav.tabs >> text=Client tokens");
        await page.fill("#token-create input[name=name]", XSS("token"));
        await page.click("#token-create button[type=submit]");
        await page.waitForSelector("#new-token");
        const value = (await page.textContent("#new-token"))!;
        assert.match(value, /^sk-[A-Za-z0-9]{48}$/);
        await page.waitForSelector("#tokens-body tr[data-id]");
        assert.equal(await page.locator("#tokens-body tr[data-id] td").first().textContent(), XSS("token"));
        assert.ok(
          !(await page.locator("#tokens-body").textContent())!.includes(value),
          "the list shows the token masked",
        );
        return value;
      });

      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({
            model: i < 2 ? "llama3.2:1b" : XSS("model"),
            messages: [{ role: "user", content: "hi" }],
          }),
        });
        assert.equal(res.status, 200);
        await res.text();
      }
      await pool.flush();

      await step(page, "analytics", async () => {
        await page.click("nav.tabs >> text=Analytics");
        await page.waitForSelector("#models-body tr");
        assert.match((await page.textContent("#analytics-cards"))!, /3\s*requests/);
        assert.match((await page.textContent("#models-body"))!, /llama3\.2:1b/);
        await page.waitForSelector("#keystats-body tr td code");
      });

      await step(page, "health check with progress", async () => {
        await page.click("nav.tabs >> text=Health check");
        await page.click("#health-form button");
        await page.waitForSelector("#health-body tr td.status-disabled");
        assert.match((await page.textContent("#health-info"))!, /3 of 3 checked/);
        assert.match((await page.textContent("#health-body"))!, /unhealthy/);
      });

      await step(page, "public stats", async () => {
        await page.goto(`${url}/stats`);
        await page.waitForSelector("svg[role=img]");
        assert.match((await page.textContent(".grid"))!, /3\s*requests/);
        assert.equal(await page.locator(".chart rect.bar-ok").count(), 24);
        assert.match((await page.textContent("main"))!, /llama3\.2:1b/);
      });

      await step(page, "log out", async () => {
        await page.goto(`${url}/`);
        await page.click("text=Log out");
        await page.waitForSelector("#token");
        const res = await page.request.get(`${url}/admin/tokens`);
        assert.equal(res.status(), 401, "the session is gone");
      });

      await noScriptRan(page);
      // The one expected console line: the browser's note about the wrong-token login's 401.
      const problems = watch.problems.filter((p) => !/Failed to load resource: .* 401/.test(p));
      assert.deepEqual(problems, [], "no script error, CSP violation or dialog");
      assert.equal(watch.problems.length - problems.length, 1);
      await context.close();
    });

    it("fits a 375 px phone screen", async () => {
      const context = await browser.newContext({
        viewport: { width: 375, height: 740 },
        isMobile: true,
        hasTouch: true,
      });
      const page = await context.newPage();
      const watch = watchPage(page);
      const fits = async (name: string) => {
        const width = await page.evaluate<number>("document.documentElement.scrollWidth");
        assert.ok(width <= 375, `${name} is ${width} px wide on a 375 px screen`);
      };
      await step(page, "phone stats", async () => {
        await page.goto(`${url}/stats`);
        await page.waitForSelector("svg[role=img]");
        await fits("/stats");
      });
      await step(page, "phone dashboard", async () => {
        await page.goto(`${url}/`);
        await fits("the login page");
        await loginAdmin(page, ADMIN);
        for (const tab of ["keys", "import", "tokens", "analytics", "health"]) {
          await page.goto(`${url}/?tab=${tab}`);
          await page.waitForLoadState("networkidle");
          await fits(`the ${tab} tab`);
        }
      });
      await noScriptRan(page);
      assert.deepEqual(watch.problems, []);
      await context.close();
    });
  });
}
