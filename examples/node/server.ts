/**
 * The smallest stand-alone server: filesystem storage, Ollama and OpenRouter.
 * Run: `ADMIN_TOKEN=change-me-to-16-chars-or-more npx tsx examples/node/server.ts`.
 * @module
 */
import { createPool, ollama, openrouter } from "../../mod.ts";
import { fsStorage, serve } from "../../adapters/node.ts";

const pool = createPool({
  providers: [
    ollama({ baseURL: process.env.OLLAMA_BASE_URL }),
    openrouter({ baseURL: process.env.OPENROUTER_BASE_URL }),
  ],
  storage: fsStorage(process.env.DATA_DIR ?? "./.data"),
  auth: { adminToken: process.env.ADMIN_TOKEN },
});
await serve(pool, {
  port: Number(process.env.PORT ?? 8787),
  onListen: (i) => console.log(`listening on http://127.0.0.1:${i.port}`),
});
