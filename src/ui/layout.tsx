/** The frame every page shares: head, stylesheet, header links. @module */
import type { Child } from "hono/jsx";
import { assetPath } from "./assets.ts";

/** What a page passes to {@link Layout}. */
export interface LayoutProps {
  title: string;
  /** The pool's mount point ("" at the root, "/llm" when mounted there). */
  base: string;
  /** Name of a script asset to load, e.g. "admin.js". */
  script?: string;
  /** A third-party script (Turnstile on /user only); the page's CSP must allow its origin. */
  externalScript?: string;
  /** Reload the page every N seconds (the public stats page). */
  refreshSeconds?: number;
  children?: Child;
}

export function Layout(p: LayoutProps): Child {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        {/* No favicon request: the pool has no icon to serve. */}
        <link rel="icon" href="data:," />
        <title>{`${p.title} · ollama-api-pool`}</title>
        <link rel="stylesheet" href={p.base + assetPath("app.css")} />
        {p.refreshSeconds ? <meta http-equiv="refresh" content={String(p.refreshSeconds)} /> : null}
        {p.script ? <script src={p.base + assetPath(p.script)} defer></script> : null}
        {/* After the page's own script, so that runs first (user.js drops a stored session). */}
        {p.externalScript ? <script src={p.externalScript} defer></script> : null}
      </head>
      <body>
        <header class="top">
          <span class="brand">ollama-api-pool</span>
          <a href={`${p.base}/stats`}>Stats</a>
          <a href={`${p.base}/api-docs`}>API docs</a>
          <a href={`${p.base}/`}>Dashboard</a>
        </header>
        {p.children}
      </body>
    </html>
  );
}
