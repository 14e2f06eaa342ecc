/**
 * The pool mounted under `/llm` of an existing Hono app, beside the app's own routes.
 * Run: `npx tsx examples/hono-middleware/app.ts` (ADMIN_TOKEN and OLLAMA_BASE_URL from env).
 * @module
 */
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import { createPool, ollama } from "../../mod.ts";

/** Builds the host app; exported so tests can drive it in-process. */
export function buildApp(
  pool = createPool({
    providers: [ollama({ baseURL: process.env.OLLAMA_BASE_URL })],
    auth: { adminToken: process.env.ADMIN_TOKEN },
  }),
): Hono {
  const app = new Hono();
  app.get("/", (c) => c.text("my app; the LLM pool lives under /llm"));
  app.route("/llm", pool.app);
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = buildApp();
  serve(
    { fetch: app.fetch, port: Number(process.env.PORT ?? 8787) },
    (info) => console.log(`listening on http://127.0.0.1:${info.port}`),
  );
}
