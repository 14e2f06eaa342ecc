/**
 * Where a proxied request's CPU goes: the pool (or `--target bare`) saturated by autocannon with
 * the benchmark's chat request, under `node --cpu-prof`; prints req/s, the proxy's CPU per
 * request, and the functions with the most self time. The profile is left in the printed
 * directory. (Node's `--heap-prof` keeps only objects still alive when it is written, so it
 * cannot show per-request garbage; bench/gc_tail.ts shows what the collector does instead.)
 *
 * `npx tsx bench/request_profile.ts [--target pool|bare] [--connections C] [--duration S] [--stream] [--no-profile]`
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chatSpec, machineFacts, positive, preparePool, runBench, track } from "./common.ts";
import { type Profile, summarize } from "./cpu_profile.ts";
import { measure } from "./load.ts";
import { type Child, freePort, startChild, startMock } from "./procs.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: argv } = parseArgs({
  options: {
    target: { type: "string" },
    connections: { type: "string" },
    duration: { type: "string" },
    stream: { type: "boolean", default: false },
    "no-profile": { type: "boolean", default: false },
  },
});
const target = argv.target === "bare" ? "bare" : "pool";
const connections = positive("connections", argv.connections ?? "50");
const durationS = positive("duration", argv.duration ?? "10");
const profile = !argv["no-profile"];

async function main(): Promise<void> {
  const m = machineFacts();
  console.log(`machine: ${m.cpus} CPUs, node ${m.node}, loadavg ${m.loadavg.join(" ")}`);
  const dir = await mkdtemp(join(tmpdir(), "request-profile-"));
  const mock = track(
    await startMock(ROOT, ["--chunks", "3", "--delay", "0"]),
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
        args: ["--target", mock.url, "--port", String(await freePort())],
        ready: /^(http:\/\/\S+)$/m,
      }),
    );
  } else {
    const admin = randomBytes(24).toString("hex");
    proxy = track(
      await startChild({
        name: "pool",
        cwd: ROOT,
        file: "adapters/cli.ts",
        nodeArgs,
        args: ["--port", String(await freePort()), "--host", "127.0.0.1", "--storage", "memory:"],
        env: { ADMIN_TOKEN: admin, OLLAMA_BASE_URL: mock.url },
        ready: /listening on (http:\/\/\S+)/,
      }),
    );
    bearer = await preparePool(proxy.url, admin);
  }
  const spec = chatSpec(proxy.url, bearer, argv.stream);
  await measure(spec, connections, 2, {}); // warm-up: JIT, sockets
  const s = await measure(spec, connections, durationS, { [target]: proxy.pid, mock: mock.pid });
  await proxy.stop(10_000); // SIGTERM: the profiles are written on exit
  const cpuUs = ((s.cpu[target] ?? NaN) / 100) * 1e6 / s.rps;
  console.log(
    `${target}: ${Math.round(s.rps)} req/s at c=${connections}, non2xx ${s.non2xx}, errors ${s.errors}; cpu% ${
      JSON.stringify(s.cpu)
    }`,
  );
  console.log(`CPU per request ≈ ${cpuUs.toFixed(1)} µs (the process's CPU ÷ requests)`);
  if (!profile) return;
  const files = await readdir(dir);
  const cpu = files.find((f) => f.endsWith(".cpuprofile"));
  console.log(`profiles: ${dir}\n`);
  if (cpu) console.log(summarize(JSON.parse(await readFile(join(dir, cpu), "utf8")) as Profile, 40));
}

await runBench("request_profile", main);
