/**
 * Two versions of the pool side by side with the bare proxy, same mock, interleaved rounds: the
 * working tree's pool (`pool`) and the one in another checkout (`base`, e.g. a `git worktree` of
 * the commit before a change), both run as adapters/cli.ts on memory storage. For before/after
 * ratios from one run on a shared machine.
 *
 * `npx tsx bench/ab.ts --base DIR [--rounds N] [--duration S] [--connections C] [--stream] [--rate R]`
 * With `--rate`, each target gets R req/s, evenly paced (bench/paced.ts), instead of autocannon's
 * saturating load: CPU per request is then measured where no process waits for a core, which is
 * steadier than req/s on a machine other jobs are using.
 * @module
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chatSpec, machineFacts, positive, preparePool, runBench, track } from "./common.ts";
import { measure, median, type RequestSpec } from "./load.ts";
import { measurePaced } from "./paced.ts";
import { freePort, startBareProxy, startChild, startMock } from "./procs.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: argv } = parseArgs({
  options: {
    base: { type: "string" },
    rounds: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string" },
    stream: { type: "boolean", default: false },
    rate: { type: "string" },
  },
});
if (!argv.base) throw new Error("--base DIR (another checkout of the project) is required");
const rounds = positive("rounds", argv.rounds ?? "3");
const durationS = positive("duration", argv.duration ?? "5");
const connections = positive("connections", argv.connections ?? "50");

async function startPool(
  name: string,
  cwd: string,
  mock: string,
): Promise<{ url: string; pid: number; token: string }> {
  const admin = randomBytes(24).toString("hex");
  const child = track(
    await startChild({
      name,
      cwd,
      file: "adapters/cli.ts",
      args: ["--port", String(await freePort()), "--host", "127.0.0.1", "--storage", "memory:"],
      env: { ADMIN_TOKEN: admin, OLLAMA_BASE_URL: mock },
      ready: /listening on (http:\/\/\S+)/,
    }),
  );
  return { url: child.url, pid: child.pid, token: await preparePool(child.url, admin) };
}

async function main(): Promise<void> {
  const m = machineFacts();
  console.log(`machine: ${m.cpus} CPUs, node ${m.node}, loadavg ${m.loadavg.join(" ")}`);
  const mock = track(
    await startMock(ROOT, ["--chunks", "3", "--delay", "0"]),
  );
  const bare = track(
    await startBareProxy(ROOT, mock.url),
  );
  const pool = await startPool("pool", ROOT, mock.url);
  const base = await startPool("base", argv.base!, mock.url);
  const specs: Record<string, RequestSpec> = {
    bare: chatSpec(bare.url, "key-aaaaaaaa1", argv.stream),
    pool: chatSpec(pool.url, pool.token, argv.stream),
    base: chatSpec(base.url, base.token, argv.stream),
  };
  const pids: Record<string, number> = { bare: bare.pid, pool: pool.pid, base: base.pid, mock: mock.pid };
  const targets = ["bare", "pool", "base"];
  for (const t of targets) await measure(specs[t], connections, 1, pids); // warm-up
  const rps: Record<string, number[]> = { bare: [], pool: [], base: [] };
  const cpuUs: Record<string, number[]> = { bare: [], pool: [], base: [] };
  for (let r = 0; r < rounds; r++) {
    const order = targets.map((_, i) => targets[(i + r) % targets.length]);
    for (const t of order) {
      const s = argv.rate
        ? await measurePaced(specs[t], {
          rate: positive("rate", argv.rate),
          connections,
          durationS,
          warmupS: 1,
          expect: argv.stream ? "data: [DONE]" : '"chat.completion"',
        }, pids)
        : await measure(specs[t], connections, durationS, pids);
      rps[t].push(s.rps);
      const us = ((s.cpu[t] ?? NaN) / 100) * 1e6 / s.rps;
      cpuUs[t].push(us);
      console.log(
        `round ${r + 1} ${t.padEnd(4)} ${String(Math.round(s.rps)).padStart(6)} req/s  ${
          us.toFixed(1)
        } µs CPU/req  p99 ${s.p99} ms  non2xx ${s.non2xx} errors ${s.errors}  cpu% ${JSON.stringify(s.cpu)}`,
      );
    }
  }
  const cpu = (t: string): string =>
    `${median(cpuUs[t]).toFixed(1)} µs (${(median(cpuUs[t]) / median(cpuUs.bare)).toFixed(2)}×)`;
  console.log(`\nCPU per request, medians: bare ${cpu("bare")}, pool ${cpu("pool")}, base ${cpu("base")}`);
  const b = median(rps.bare);
  console.log(
    `c=${connections} ${argv.stream ? "stream" : "non-stream"}, medians of ${rounds}: bare ${Math.round(b)}, pool ${
      Math.round(median(rps.pool))
    } (${(median(rps.pool) / b * 100).toFixed(1)} %), base ${Math.round(median(rps.base))} (${
      (median(rps.base) / b * 100).toFixed(1)
    } %); loadavg ${machineFacts().loadavg.join(" ")}`,
  );
}

await runBench("ab", main);
