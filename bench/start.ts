/**
 * What `npm start` should run: the server under the tsx loader (`tsx adapters/cli.ts`, the old
 * start) or built to plain JavaScript first (`node scripts/build_server.mjs`, then
 * `node dist/adapters/cli.js`, the start now). For each: seconds from the command to
 * "listening" (the build included), idle RSS, and non-stream throughput and RSS under load
 * (autocannon, `--connections`, interleaved rounds: compare the ratio, not the absolute figures).
 *
 * `npx tsx bench/start.ts [--rounds 3] [--duration 5] [--connections 50]`
 * Writes bench/results/start-latest.json. Linux only (RSS from /proc).
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chatSpec, machineFacts, positive, preparePool, runBench, track } from "./common.ts";
import { measure, median, round1 } from "./load.ts";
import { type Child, freePort, startChild, startMock } from "./procs.ts";
import { peakRssKb, rssKb } from "./rss.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: argv } = parseArgs({
  options: { rounds: { type: "string" }, duration: { type: "string" }, connections: { type: "string" } },
});
const rounds = positive("rounds", argv.rounds ?? "3");
const durationS = positive("duration", argv.duration ?? "5");
const connections = positive("connections", argv.connections ?? "50");
const ADMIN = "bench-start-admin-token";

type Variant = "tsx" | "built";
/** The command `npm start` ran (tsx) or runs (built), as a shell line. */
const COMMAND: Record<Variant, string> = {
  tsx: "exec node_modules/.bin/tsx adapters/cli.ts",
  built: "node scripts/build_server.mjs && exec node dist/adapters/cli.js",
};

/** Seconds from running the command to the server's "listening" line. */
async function secondsToListen(variant: Variant, dir: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn("sh", ["-c", `${COMMAND[variant]} --port 0 --host 127.0.0.1 --storage memory:`], {
    cwd: ROOT,
    env: { ...process.env, ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: "http://127.0.0.1:9", DATA_DIR: dir },
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (b: Buffer) => {
        out += b;
        if (/listening on/.test(out)) resolve();
      });
      child.once("exit", (code) => reject(new Error(`${variant} start exited ${code}: ${out}`)));
    });
    return (performance.now() - t0) / 1000;
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid!, "SIGTERM"); // the group: tsx's CLI runs the server as its child
    await exited;
  }
}

/** The server of a variant, started so that the PID held is the server itself. */
async function server(variant: Variant, mockUrl: string): Promise<Child> {
  return track(
    await startChild({
      name: `pool-${variant}`,
      cwd: ROOT,
      file: variant === "tsx" ? "adapters/cli.ts" : "dist/adapters/cli.js",
      tsx: variant === "tsx",
      args: ["--port", String(await freePort()), "--host", "127.0.0.1", "--storage", "memory:"],
      env: { ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: mockUrl, OPENROUTER_BASE_URL: `${mockUrl}/api` },
      ready: /listening on (http:\/\/\S+)/,
    }),
  );
}

const mb = (kb: number): number => round1(kb / 1024);

async function main(): Promise<void> {
  const machine = machineFacts();
  console.log(
    `machine: ${machine.cpus} CPUs, ${machine.cpuModel}, node ${machine.node}, loadavg ${machine.loadavg.join(" ")}`,
  );
  const dir = await mkdtemp(join(os.tmpdir(), "pool-start-bench-"));
  track({ name: "start data dir", stop: () => rm(dir, { recursive: true, force: true }) });
  const variants: Variant[] = ["tsx", "built"];
  const startS: Record<Variant, number[]> = { tsx: [], built: [] };
  for (let r = 0; r < 3; r++) for (const v of variants) startS[v].push(await secondsToListen(v, dir));

  const mock = track(
    await startMock(ROOT, ["--delay", "0"]),
  );
  const servers = { tsx: await server("tsx", mock.url), built: await server("built", mock.url) };
  await new Promise((r) => setTimeout(r, 2000));
  const idleKb = { tsx: rssKb(servers.tsx.pid), built: rssKb(servers.built.pid) };
  const specs = {
    tsx: chatSpec(servers.tsx.url, await preparePool(servers.tsx.url, ADMIN), false),
    built: chatSpec(servers.built.url, await preparePool(servers.built.url, ADMIN), false),
  };
  const pids = { mock: mock.pid, tsx: servers.tsx.pid, built: servers.built.pid };
  for (const v of variants) await measure(specs[v], connections, 1, pids); // warm-up
  const rps: Record<Variant, number[]> = { tsx: [], built: [] };
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 ? [...variants].reverse() : variants) {
      const s = await measure(specs[v], connections, durationS, pids);
      if (s.non2xx + s.errors > 0) throw new Error(`${v}: ${s.non2xx} non-2xx, ${s.errors} errors`);
      rps[v].push(s.rps);
      console.log(`round ${r + 1}/${rounds} ${v.padEnd(5)} ${Math.round(s.rps)} req/s  p99 ${s.p99} ms`);
    }
  }
  const rows = variants.map((v) => ({
    variant: v,
    command: COMMAND[v].replace(/exec /g, ""),
    secondsToListen: Math.round(median(startS[v]) * 100) / 100,
    idleRssMb: mb(idleKb[v]),
    loadPeakRssMb: mb(peakRssKb(servers[v].pid)),
    loadRssAfterMb: mb(rssKb(servers[v].pid)),
    rps: Math.round(median(rps[v])),
  }));
  const ratio = round1((median(rps.built) / median(rps.tsx)) * 100);
  console.log(
    `\n| server | seconds to "listening" (median of 3) | idle RSS MB | RSS under load, peak MB | non-stream req/s c=${connections} (median of ${rounds}) |`,
  );
  console.log("|---|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(`| \`${r.command}\` | ${r.secondsToListen} | ${r.idleRssMb} | ${r.loadPeakRssMb} | ${r.rps} |`);
  }
  console.log(`\nbuilt ÷ tsx throughput: ${ratio} %`);
  await writeFile(
    join(ROOT, "bench/results/start-latest.json"),
    `${
      JSON.stringify({ date: new Date().toISOString(), machine, connections, durationS, rounds, rows, ratio }, null, 2)
    }\n`,
  );
}

await runBench("start", main);
