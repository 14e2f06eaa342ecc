/**
 * STORAGE_URL → unstorage `Storage`: one place that knows every scheme the stand-alone server,
 * the export/import/migrate commands and the benches accept.
 * @module
 */
import { createStorage, type Storage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { Settings } from "../src/settings/read.ts";
import { fsStorage } from "./node.ts";

/** The storage a URL names; Redis, Upstash and Postgres drivers are loaded only when named. */
export async function storageFrom(url: string | undefined, dataDir: string): Promise<Storage> {
  if (!url) return fsStorage(dataDir);
  if (url === "memory:" || url === "memory") return createStorage({ driver: memoryDriver() });
  if (url.startsWith("file:")) return fsStorage(url.slice(5).replace(/^\/\/(?=\/)/, "") || dataDir);
  if (/^rediss?:\/\//.test(url)) return (await import("./redis.ts")).redisStorage(url);
  // Upstash's own variable names, as its console shows them: the URL alone carries no token.
  if (url === "upstash:" || url === "upstash") {
    const { UPSTASH_REDIS_REST_URL: restUrl, UPSTASH_REDIS_REST_TOKEN: token } = process.env;
    if (!restUrl || !token) {
      throw new Error("STORAGE_URL=upstash: needs UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN");
    }
    return (await import("./upstash.ts")).upstashStorage({ url: restUrl, token });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const [{ neonStorage }, { default: ws }] = await Promise.all([import("./neon.ts"), import("ws")]);
    return neonStorage({
      connectionString: url,
      // A self-hosted Postgres needs a WebSocket-to-TCP proxy in front (docs/OPERATIONS.md, "Postgres
      // through the Neon driver").
      wsProxy: process.env.NEON_WS_PROXY || undefined,
      secureWebSocket: new Settings(process.env).bool("NEON_SECURE_WEBSOCKET"), // true/false/1/0/yes/no like every setting
      webSocket: (globalThis as { WebSocket?: unknown }).WebSocket ?? ws,
    });
  }
  const shown = url.replace(/\/\/[^@/]*@/, "//***@"); // never print credentials
  throw new Error(
    `STORAGE_URL "${shown}" is not supported; use memory:, file:./path, redis://…, upstash: or postgres://…`,
  );
}
