/** `GET /openapi.json` and `GET /api-docs`: the API description, as data and as a page. @module */
import { Hono } from "hono";
import { buildOpenApi, type OpenApiDocument } from "../openapi/document.ts";
import type { PoolState } from "../state.ts";
import { ApiDocsPage } from "../ui/pages/api_docs.tsx";
import type { PoolEnv } from "./context.ts";
import { mountBase, page } from "./pages.ts";

/** Mount points whose document is kept built. */
const MAX_CACHED_BASES = 16;

export function docsRoutes(state: PoolState): Hono<PoolEnv> {
  const app = new Hono<PoolEnv>();
  // Providers are fixed for the pool's life, so the document only varies with the mount point
  // (its `servers` entry); build each once rather than per request.
  const docs = new Map<string, { doc: OpenApiDocument; text: string }>();
  const docFor = (base: string) => {
    let d = docs.get(base);
    if (!d) {
      const doc = buildOpenApi(state.options.providers, base, { users: state.users !== undefined });
      d = { doc, text: JSON.stringify(doc) };
      // A pool mounted at a parameter sees many bases; keep a few, build the rest each time.
      if (docs.size < MAX_CACHED_BASES) docs.set(base, d);
    }
    return d;
  };

  app.get("/openapi.json", (c) =>
    new Response(docFor(mountBase(c)).text, {
      headers: { "content-type": "application/json; charset=utf-8", "cache-control": "public, max-age=300" },
    }));
  app.get("/api-docs", (c) => {
    const base = mountBase(c);
    return page(ApiDocsPage({ base, doc: docFor(base).doc }), 200, true);
  });
  return app;
}
