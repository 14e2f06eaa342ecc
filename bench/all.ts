/**
 * `npm run bench`: the benchmarks one after another, each in its own process (they all start
 * their own servers, and running two at once on 2 cores would spoil both), each printing its own
 * tables. A failing one does not stop the rest; the exit code is non-zero if any failed.
 *
 * `npx tsx bench/all.ts [--quick] [--only overhead,streams,...]`. `--quick` is passed to those
 * that have a quick variant (overhead, streams, runtimes, storage: one round). The soak is not part of it
 * (`npm run bench:soak`, 10 minutes).
 * @module
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BENCHES: { name: string; file: string; quick: boolean }[] = [
  { name: "overhead", file: "bench/overhead.ts", quick: true },
  { name: "streams", file: "bench/streams.ts", quick: true },
  { name: "runtimes", file: "bench/runtimes.ts", quick: true }, // the pool and a bare proxy on Node, Bun, Deno
  { name: "storage", file: "bench/storage.ts", quick: true }, // needs redis-server, PostgreSQL, websockify
  { name: "storage-fs", file: "bench/storage_fs.ts", quick: false },
  { name: "keys", file: "bench/keys.ts", quick: false },
  { name: "scale", file: "bench/scale.ts", quick: false },
];
const { values: argv } = parseArgs({
  options: { quick: { type: "boolean", default: false }, only: { type: "string" } },
});
const only = argv.only?.split(",").map((s) => s.trim());
const unknown = only?.filter((n) => !BENCHES.some((b) => b.name === n));
if (unknown?.length) {
  throw new Error(
    `--only: unknown benchmark(s) ${unknown.join(", ")}; known: ${BENCHES.map((b) => b.name).join(", ")}`,
  );
}

let current: ReturnType<typeof spawn> | undefined;
let interrupted = false;
// Ctrl-C reaches the child too (same process group): let it stop its servers, then run no more.
process.on("SIGINT", () => {
  interrupted = true;
  if (!current) process.exit(130);
});

const results: { name: string; code: number | null; seconds: number }[] = [];
for (const b of BENCHES.filter((x) => !only || only.includes(x.name))) {
  console.log(
    `\n${"=".repeat(72)}\n== ${b.name}: npx tsx ${b.file}${argv.quick && b.quick ? " --quick" : ""}\n${
      "=".repeat(72)
    }\n`,
  );
  const t0 = Date.now();
  const code = await new Promise<number | null>((resolve) => {
    current = spawn(process.execPath, ["--import", "tsx", b.file, ...(argv.quick && b.quick ? ["--quick"] : [])], {
      cwd: ROOT,
      stdio: "inherit",
    });
    current.on("exit", (c, sig) => resolve(c ?? (sig ? 128 : null)));
  });
  current = undefined;
  results.push({ name: b.name, code, seconds: Math.round((Date.now() - t0) / 1000) });
  if (interrupted) break;
}
console.log(`\n${"=".repeat(72)}`);
for (const r of results) {
  console.log(`${r.name.padEnd(10)} ${r.code === 0 ? "ok" : `FAILED (exit ${r.code})`}  ${r.seconds} s`);
}
if (results.some((r) => r.code !== 0)) process.exitCode = 1;
