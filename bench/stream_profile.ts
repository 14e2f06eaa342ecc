/**
 * Where a forwarded stream chunk's CPU goes: N concurrent SSE streams through the pool (or the
 * bare proxy) run under `node --cpu-prof`; prints the proxy's CPU per forwarded chunk and the
 * functions with the most self time, grouped by file. The profile is left in the printed
 * directory for a closer look (Chrome DevTools, speedscope).
 *
 * `npx tsx bench/stream_profile.ts [--target pool|bare] [--streams N] [--chunks C] [--delay MS]`
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chatSpec, positive, preparePool, runBench, track } from "./common.ts";
import { type Child, freePort, startChild, startMock } from "./procs.ts";
import { runRound } from "./streams_round.ts";
import { type Profile, summarize } from "./cpu_profile.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: argv } = parseArgs({
  options: {
    target: { type: "string" },
    streams: { type: "string" },
    chunks: { type: "string" },
    delay: { type: "string" },
    "ramp-ms": { type: "string" },
    "no-profile": { type: "boolean", default: false },
  },
});
const target = argv.target === "bare" ? "bare" : "pool";
const rampMs = positive("ramp-ms", argv["ramp-ms"] ?? "500");
const profile = !argv["no-profile"];
const N = positive("streams", argv.streams ?? "200");
const chunks = positive("chunks", argv.chunks ?? "200");
const delay = positive("delay", argv.delay ?? "20");

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "stream-profile-"));
  const mock = track(
    await startMock(ROOT, ["--chunks", String(chunks), "--delay", String(delay)]),
  );
  const nodeArgs = profile ? ["--cpu-prof", "--cpu-prof-dir", dir] : [];
  let proxy: Child;
  let bearer = "key-aaaaaaaa1";
  if (target === "bare") {
    proxy = track(
      await startChild({
        name: "bare",
        cwd: ROOT,
        file: "bench/bare_proxy.ts",
        nodeArgs,
        args: ["--target", mock.url, "--port", String(await freePort()), "--max-sockets", String(N + 64)],
        ready: /^(http:\/\/\S+)$/m,
      }),
    );
  } else {
    const admin = randomBytes(24).toString("hex");
    proxy = track(
      await startChild({
        name: "pool",
        cwd: ROOT,
        file: "bench/pool_server.ts",
        nodeArgs,
        args: ["--port", String(await freePort()), "--connections", String(N + 64)],
        env: { ADMIN_TOKEN: admin, OLLAMA_BASE_URL: mock.url, OPENROUTER_BASE_URL: `${mock.url}/api` },
        ready: /listening on (http:\/\/\S+)/,
      }),
    );
    bearer = await preparePool(proxy.url, admin);
  }
  const spec = chatSpec(proxy.url, bearer, true);
  await runRound({ target, spec, pid: proxy.pid, pids: {}, streams: Math.ceil(N / 10), rampMs }); // warm-up
  const r = await runRound({
    target,
    spec,
    pid: proxy.pid,
    pids: { [target]: proxy.pid, mock: mock.pid },
    streams: N,
    rampMs,
  });
  await proxy.stop(10_000); // SIGTERM: the profile is written on exit
  const cpuS = ((r.cpu[target] ?? NaN) / 100) * r.totalS;
  console.log(
    `${target}: ${N} streams × ${chunks} chunks, ${delay} ms apart; failed ${r.failed}; cpu% ${JSON.stringify(r.cpu)}`,
  );
  console.log(
    `CPU per forwarded chunk ≈ ${
      ((cpuS / (N * chunks)) * 1e6).toFixed(1)
    } µs (the process's CPU over the round ÷ content chunks)`,
  );
  console.log(`TTFB p50 ${r.ttfbP50} p99 ${r.ttfbP99} ms (streams started over ${rampMs} ms), all done ${r.totalS} s`);
  if (!profile) return;
  const file = (await readdir(dir)).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no profile written in ${dir}`);
  console.log(`profile: ${join(dir, file)}\n`);
  console.log(summarize(JSON.parse(await readFile(join(dir, file), "utf8")) as Profile));
}

await runBench("stream_profile", main);
