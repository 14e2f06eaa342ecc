/**
 * Runs the mock upstream as its own process (for benchmarks and manual tries):
 * `tsx tests/helpers/mock_cli.ts [--port N] [--chunks N] [--delay MS]`; prints its URL.
 * @module
 */
import { parseArgs } from "node:util";
import { startMockUpstream } from "./mock_upstream.ts";

const { values } = parseArgs({
  options: { port: { type: "string" }, chunks: { type: "string" }, delay: { type: "string" } },
});
const mock = await startMockUpstream({
  port: Number(values.port ?? 0),
  chunks: Number(values.chunks ?? 3),
  chunkDelayMs: Number(values.delay ?? 0),
  quiet: true,
});
console.log(mock.url);
const stop = () => mock.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
