/**
 * The user pages and the admin Users tab in Chromium: register with a mailed code, see and copy
 * the token, check in, sign out and back in (same token), then an admin disables the user from
 * the dashboard and the token stops working.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { type RunningServer, serve } from "../adapters/node.ts";
import { createPool, ollama } from "../mod.ts";
import { launchChromium, loginAdmin, step, watchPage } from "./helpers/browser.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { skipUnless } from "./helpers/requires.ts";

const ADMIN = "ui-users-admin-token";
const EMAIL = "ada+pool@example.com";
const PASSWORD = "correct horse battery";

describe("user pages in Chromium", skipUnless("user pages in Chromium", "chromium"), () => {
  let mock: MockUpstream;
  let server: RunningServer;
  let browser: Browser;
  let url: string;
  const mails: Array<{ to: string; subject: string; text: string }> = [];

  before(async () => {
    mock = await startMockUpstream();
    const pool = createPool({
      providers: [ollama({ baseURL: mock.url })],
      auth: { adminToken: ADMIN },
      users: {
        secret: "a-test-secret-of-at-least-32-characters!",
        pbkdf2Iterations: 100_000,
        mailer: { send: (m) => Promise.resolve(void mails.push(m)) },
      },
      logger: { info() {}, warn() {}, error() {} },
    });
    server = await serve(pool, { port: 0, hostname: "127.0.0.1", handleSignals: false });
    url = `http://127.0.0.1:${server.port}`;
    await fetch(`${url}/admin/api-keys/import`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ keys: ["ui-user-key-0001"] }),
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await mock?.close();
  });

  const chat = async (token: string) => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "llama3.2:1b", messages: [{ role: "user", content: "hi" }] }),
    });
    await res.text();
    return res.status;
  };
  const codeFromMail = async (page: Page, n: number): Promise<string> => {
    for (let i = 0; i < 100 && mails.length < n; i++) await page.waitForTimeout(50);
    assert.equal(mails.length, n, "the code was mailed");
    return /\b(\d{6})\b/.exec(mails[n - 1].text)![1];
  };

  it("registers, checks in, signs in again with the same token; an admin disables the user", async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const watch = watchPage(page);

    const token = await step(page, "register", async () => {
      await page.goto(`${url}/user`);
      await page.fill("#reg-email", EMAIL);
      await page.click("#register-code-btn");
      await page.waitForSelector("#register-code-btn:has-text('Resend in')");
      const code = await codeFromMail(page, 1);
      assert.equal(mails[0].to, EMAIL);
      await page.fill("#register-form input[name=code]", code);
      await page.fill("#reg-password", PASSWORD);
      await page.click("#register-form button[type=submit]");
      await page.waitForURL(`${url}/user/dashboard`);
      await page.waitForSelector("#u-token:has-text('sk-')");
      const value = (await page.textContent("#u-token"))!;
      assert.match(value, /^sk-[A-Za-z0-9]{48}$/);
      assert.equal(await page.textContent("#u-email"), EMAIL);
      assert.match((await page.textContent("#u-countdown"))!, /^2 d 2\d:\d\d:\d\d$/, "about three days left");
      return value;
    });
    assert.equal(await chat(token), 200);

    await step(page, "check in once a day", async () => {
      await page.click("#u-checkin");
      await page.waitForSelector("#msg:has-text('checked in')");
      await page.waitForSelector("#u-checkin-info:has-text('Checked in today')");
      assert.equal(await page.isDisabled("#u-checkin"), true, "one check-in a day");
      await page.waitForSelector("#signins-body tr >> nth=0");
      assert.equal(await page.locator("#signins-body tr").count(), 1);
      assert.match((await page.textContent("#u-countdown"))!, /^3 d /, "24 h more");
      assert.match((await page.textContent("#u-checkin-info"))!, /Checked in today .*UTC/);
    });

    await step(page, "sign out and back in with the password", async () => {
      await page.click("#u-logout");
      await page.waitForURL(`${url}/user`);
      await page.fill("#login-email", EMAIL);
      await page.fill("#login-password", "wrong password!");
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector("#msg.error");
      await page.fill("#login-password", PASSWORD);
      await page.click("#login-form button[type=submit]");
      await page.waitForURL(`${url}/user/dashboard`);
      await page.waitForSelector("#u-token:has-text('sk-')");
      assert.equal(await page.textContent("#u-token"), token, "signing in does not mint a new token");
    });

    const admin = await context.newPage();
    const adminWatch = watchPage(admin);
    await step(admin, "admin disables the user", async () => {
      await loginAdmin(admin, ADMIN, `${url}/`);
      await admin.click("nav.tabs >> text=Users");
      const row = admin.locator("#users-body tr", { hasText: EMAIL });
      await row.waitFor();
      assert.match((await row.textContent())!, /active/);
      await row.locator("button", { hasText: "Details" }).click();
      await admin.waitForSelector("#user-signins tr td");
      await row.locator("button", { hasText: "Disable" }).click();
      await admin.waitForSelector(`#users-body tr:has-text("${EMAIL}") td.status-disabled`);
    });
    assert.equal(await chat(token), 401, "a disabled user's token is refused at once");

    await step(admin, "batch enable", async () => {
      await admin.locator("#users-body tr", { hasText: EMAIL }).locator("input[type=checkbox]").check();
      await admin.click("#users-enable");
      await admin.waitForSelector(`#users-body tr:has-text("${EMAIL}") td.status-active`);
    });
    assert.equal(await chat(token), 200);

    for (const p of [page, admin]) assert.equal(await p.evaluate("globalThis.__xss"), undefined);
    assert.deepEqual(watch.problems.filter((p) => !/Failed to load resource: .* 401/.test(p)), []);
    assert.deepEqual(adminWatch.problems, []);
    await context.close();
  });

  it("fits a 375 px phone screen", async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
    const page = await context.newPage();
    await step(page, "phone user pages", async () => {
      await page.goto(`${url}/user`);
      assert.ok(await page.evaluate<number>("document.documentElement.scrollWidth") <= 375, "/user fits");
      await page.fill("#login-email", EMAIL);
      await page.fill("#login-password", PASSWORD);
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector("#u-token:has-text('sk-')");
      const width = await page.evaluate<number>("document.documentElement.scrollWidth");
      assert.ok(width <= 375, `/user/dashboard is ${width} px wide`);
    });
    await context.close();
  });
});
