/**
 * Runs the Upstash REST stand-in as its own process (for bench/storage.ts, so its CPU shows apart
 * from the pool's): `tsx tests/helpers/upstash_rest_cli.ts --redis-port N`, with the token in
 * `UPSTASH_REDIS_REST_TOKEN` (not in the arguments, which `ps` shows); prints its URL.
 * @module
 */
import { parseArgs } from "node:util";
import { startUpstashRest } from "./upstash_rest.ts";

const { values } = parseArgs({ options: { "redis-port": { type: "string" } } });
const port = Number(values["redis-port"]);
if (!Number.isInteger(port) || port < 1) throw new Error("--redis-port N is required");
const rest = await startUpstashRest(port, { token: process.env.UPSTASH_REDIS_REST_TOKEN || undefined });
console.log(rest.url);
const stop = () => rest.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
