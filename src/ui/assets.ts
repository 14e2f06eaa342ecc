/**
 * The pages' static assets, served by the pool itself (no CDN, nothing external): one
 * stylesheet and one script per page family. URLs carry a content hash, so browsers may cache
 * them for a year and still never run a stale script after an upgrade.
 * @module
 */
import { sha256HexSync } from "../auth/sha256.ts";
import { ADMIN_IMPORT_HEALTH_JS } from "./assets/admin_import_health.ts";
import { ADMIN_KEYS_TOKENS_JS } from "./assets/admin_keys_tokens.ts";
import { ADMIN_LOGS_JS } from "./assets/admin_logs.ts";
import { ADMIN_USERS_JS } from "./assets/admin_users.ts";
import { CLIENT_COMMON_JS } from "./assets/client_common.ts";
import { STYLE_CSS } from "./assets/style.ts";
import { USER_JS } from "./assets/user_client.ts";

/** One asset, ready to serve. */
export interface Asset {
  body: string;
  type: string;
  /** First 16 hex chars of the SHA-256 of the body: the ETag and the `?v=` of its URL. */
  hash: string;
}

/** Wraps page scripts so their names stay out of the global scope. */
function script(...parts: string[]): string {
  return `"use strict";\n(() => {\n${parts.join("\n")}\n})();\n`;
}

const ADMIN_MAIN_JS = `
const tabs = { keys: keysTab, import: importTab, tokens: tokensTab, analytics: analyticsTab, logs: logsTab, health: healthTab, users: usersTab };
const run = tabs[root.dataset.tab];
if (run) Promise.resolve().then(run).catch((err) => say(err.message || String(err), "error"));
`;

const SOURCES: Record<string, { body: string; type: string }> = {
  "app.css": { body: STYLE_CSS, type: "text/css; charset=utf-8" },
  "admin.js": {
    body: script(
      CLIENT_COMMON_JS,
      ADMIN_KEYS_TOKENS_JS,
      ADMIN_IMPORT_HEALTH_JS,
      ADMIN_USERS_JS,
      ADMIN_LOGS_JS,
      ADMIN_MAIN_JS,
    ),
    type: "text/javascript; charset=utf-8",
  },
  "user.js": { body: script(CLIENT_COMMON_JS, USER_JS), type: "text/javascript; charset=utf-8" },
};

const ASSETS = new Map<string, Asset>(
  Object.entries(SOURCES).map(([name, a]) => [name, { ...a, hash: sha256HexSync(a.body).slice(0, 16) }]),
);

/** The asset called `name`, if there is one. */
export function asset(name: string): Asset | undefined {
  return ASSETS.get(name);
}

/** The cache-busting URL path of an asset (relative to the pool's mount point). */
export function assetPath(name: string): string {
  const a = ASSETS.get(name);
  if (!a) throw new Error(`[ollama-api-pool] no UI asset named ${name}`);
  return `/assets/${name}?v=${a.hash}`;
}
