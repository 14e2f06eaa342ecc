/** Chromium from Debian driven by playwright-core, with a screenshot of every failing step. @module */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { CHROMIUM } from "./requires.ts";

export { CHROMIUM };

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** What a page did that a test must see: script errors, CSP reports, dialogs. */
export interface PageWatch {
  problems: string[];
}

/** Records console errors, uncaught exceptions and dialogs (an XSS `alert` would be one). */
export function watchPage(page: Page): PageWatch {
  const w: PageWatch = { problems: [] };
  page.on("console", (m) => {
    if (m.type() === "error") w.problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (err) => w.problems.push(`pageerror: ${err.message}`));
  page.on("dialog", (d) => {
    if (d.type() === "confirm") return void d.accept(); // the dashboard's delete/revoke confirmations
    w.problems.push(`dialog ${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  return w;
}

let shotDir: string | undefined;

/** Runs one step; on failure saves a full-page screenshot to a temp folder and names it in the error. */
export async function step<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    shotDir ??= await mkdtemp(join(tmpdir(), "pool-ui-shots-"));
    const file = join(shotDir, `${name.replace(/[^a-z0-9]+/gi, "-")}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    (err as Error).message = `[step "${name}", screenshot ${file}] ${(err as Error).message}`;
    throw err;
  }
}

/**
 * Logs in to the dashboard with the admin `token` and waits for its tabs. `at`: the dashboard's
 * address to open first; without it, the login form the page already shows.
 */
export async function loginAdmin(page: Page, token: string, at?: string): Promise<void> {
  if (at !== undefined) await page.goto(at);
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForSelector("nav.tabs");
}
