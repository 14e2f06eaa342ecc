/**
 * How much heap a served request leaves behind: a pool on memory storage (its request log then
 * lives in the heap) answers N requests in-process against the mock upstream, and the live heap
 * (after full collections) is compared before and after, with the log on and off.
 *
 * `node --expose-gc --import tsx bench/log_heap.ts [--requests N]`
 * @module
 */
import { parseArgs } from "node:util";
import { createStorage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { undiciFetch } from "../adapters/node_fetch.ts";
import { createPool, ollama } from "../mod.ts";
import { startMockUpstream } from "../tests/helpers/mock_upstream.ts";
import { positive } from "./common.ts";

const { values: argv } = parseArgs({ options: { requests: { type: "string" } } });
const requests = positive("requests", argv.requests ?? "20000");
const exposed = (globalThis as { gc?: () => void }).gc;
if (!exposed) throw new Error("run with node --expose-gc --import tsx bench/log_heap.ts");
const gc: () => void = exposed;

const ADMIN = "a".repeat(32);
const mock = await startMockUpstream({ port: 0, chunks: 3, chunkDelayMs: 0, quiet: true });

async function measure(logRetentionDays: number): Promise<number> {
  const pool = createPool({
    providers: [ollama({ baseURL: mock.url })],
    storage: createStorage({ driver: memoryDriver() }),
    auth: { adminToken: ADMIN },
    fetch: undiciFetch(),
    logRetentionDays,
  });
  const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    pool.fetch(new Request(`http://pool${path}`, { method: "POST", headers, body: JSON.stringify(body) }));
  await post("/admin/api-keys/import", { keys: ["key-aaaaaaaa1", "key-bbbbbbbb2"] }, admin);
  const { token } = await (await post("/admin/tokens", { name: "bench" }, admin)).json() as { token: string };
  const chat = { model: "llama3.2", messages: [{ role: "user", content: "hi" }] };
  const client = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const run = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i += 50) {
      await Promise.all(Array.from({ length: 50 }, async () => {
        const res = await post("/v1/chat/completions", chat, client);
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        await res.arrayBuffer();
      }));
    }
  };
  const live = async (): Promise<number> => {
    await pool.flush(); // the log's pending records go to storage
    for (let i = 0; i < 3; i++) (gc(), await new Promise((r) => setTimeout(r, 20)));
    return process.memoryUsage().heapUsed;
  };
  await run(2000); // warm: JIT, connections, per-hour names
  const before = await live();
  await run(requests);
  const after = await live();
  await pool.close();
  return after - before;
}

for (const days of [7, 0]) {
  const grown = await measure(days);
  console.log(
    `LOG_RETENTION_DAYS=${days}: live heap +${(grown / 1e6).toFixed(1)} MB after ${requests} requests, ${
      (grown / requests).toFixed(0)
    } B per request`,
  );
}
await mock.close();
process.exit(0);
