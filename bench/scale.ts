/**
 * Resident memory of the pool by pool size: for 10, 1,000 and 100,000 keys, a fresh server on
 * filesystem storage (the CLI's default) imports an ollama.txt of that many keys through
 * `POST /admin/api-keys/import-from-txt` (text/plain), then sits idle; its RSS is read from /proc
 * before the import and after it has been idle for `--settle` seconds (median of samples over the
 * last second: "settled"), with the peak (VmHWM) alongside. Run as `npm start` runs the server
 * (built to plain JavaScript: dist/adapters/cli.js, as `npx ollama-api-pool` from the package) and under tsx (as
 * the other benchmarks), since tsx's loader alone costs ~35 MB.
 * Idle RSS is not live heap: V8 keeps pages the import's garbage used, so "after" is an upper
 * bound of what the keys need, and the per-key figure at 100,000 keys is the meaningful one.
 *
 * `npx tsx bench/scale.ts [--sizes 10,1000,100000] [--settle S] [--only tsx|built]`
 * Writes bench/results/scale-latest.json. Key lines come from bench/keys.ts.
 * @module
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { machineFacts, positive, runBench, track } from "./common.ts";
import { buildServer, ollamaTxt, settledRssKb } from "./keys.ts";
import { round1 } from "./load.ts";
import { freePort, startChild } from "./procs.ts";
import { peakRssKb } from "./rss.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: argv } = parseArgs({
  options: { sizes: { type: "string" }, settle: { type: "string" }, only: { type: "string" } },
});
const sizes = (argv.sizes ?? "10,1000,100000").split(",").map((s) => positive("sizes", s.trim()));
const settleS = positive("settle", argv.settle ?? "10");
const variants = (["built", "tsx"] as const).filter((v) => !argv.only || argv.only === v);

interface Row {
  variant: "tsx" | "built";
  keys: number;
  importMs: number;
  beforeMb: number;
  idleAfterMb: number;
  peakMb: number;
  /** (idle after − before) ÷ keys, bytes. */
  bytesPerKey: number;
}

async function measure(variant: "tsx" | "built", n: number, dir: string): Promise<Row> {
  const admin = "bench-scale-admin-token";
  const server = track(
    await startChild({
      name: `pool-${variant}-${n}`,
      cwd: ROOT,
      file: variant === "tsx" ? "adapters/cli.ts" : "dist/adapters/cli.js",
      tsx: variant === "tsx",
      args: ["--port", String(await freePort()), "--host", "127.0.0.1", "--data-dir", join(dir, `${variant}-${n}`)],
      // Nothing listens on port 9 of loopback: no key is ever used upstream here.
      env: {
        ADMIN_TOKEN: admin,
        OLLAMA_BASE_URL: "http://127.0.0.1:9",
        OPENROUTER_BASE_URL: "http://127.0.0.1:9/api",
        DISCOVER_MODELS: "false",
      },
      ready: /listening on (http:\/\/\S+)/,
    }),
  );
  try {
    const before = await settledRssKb(server.pid, 2);
    const t0 = performance.now();
    const res = await fetch(`${server.url}/admin/api-keys/import-from-txt`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "text/plain" },
      body: ollamaTxt(n),
    });
    const body = (await res.json()) as { added?: number };
    const importMs = Math.round(performance.now() - t0);
    if (body.added !== n) throw new Error(`import of ${n} keys: ${JSON.stringify(body).slice(0, 300)}`);
    const after = await settledRssKb(server.pid, settleS);
    return {
      variant,
      keys: n,
      importMs,
      // VmHWM is synced lazily by the kernel and can read a little under a VmRSS sample taken before it.
      beforeMb: round1(before / 1024),
      idleAfterMb: round1(after / 1024),
      peakMb: round1(Math.max(after, peakRssKb(server.pid)) / 1024),
      bytesPerKey: Math.round(((after - before) * 1024) / n),
    };
  } finally {
    await server.stop(5000);
  }
}

async function main(): Promise<void> {
  const machine = machineFacts();
  console.log(
    `machine: ${machine.cpus} CPUs, ${machine.cpuModel}, node ${machine.node}, ${machine.platform}, loadavg ${
      machine.loadavg.join(" ")
    }`,
  );
  if (variants.includes("built")) buildServer();
  const dir = await mkdtemp(join(os.tmpdir(), "pool-scale-bench-"));
  track({ name: "scale data dir", stop: () => rm(dir, { recursive: true, force: true }) });
  const rows: Row[] = [];
  for (const variant of variants) {
    for (const n of sizes) {
      const r = await measure(variant, n, dir);
      rows.push(r);
      console.log(
        `${variant.padEnd(5)} ${
          String(n).padStart(6)
        } keys: import ${r.importMs} ms, RSS ${r.beforeMb} MB before, peak ${r.peakMb} MB, ${r.idleAfterMb} MB settled`,
      );
    }
  }
  const fmt = (n: number): string => n.toLocaleString("en-US");
  const lines = [
    `### Pool RSS by number of keys (filesystem storage, settled: idle ${settleS} s after the import)`,
    ``,
    `| server | keys | import ms | RSS before MB | peak MB | settled MB | (settled − before) per key |`,
    `|---|---:|---:|---:|---:|---:|---:|`,
    ...rows.map((r) =>
      `| ${r.variant === "tsx" ? "tsx adapters/cli.ts" : "npm start (built)"} | ${fmt(r.keys)} | ${
        fmt(r.importMs)
      } | ${r.beforeMb} | ${r.peakMb} | **${r.idleAfterMb}** | ${fmt(r.bytesPerKey)} B |`
    ),
  ];
  console.log(`\n${lines.join("\n")}`);
  await writeFile(
    join(ROOT, "bench/results/scale-latest.json"),
    `${JSON.stringify({ date: new Date().toISOString(), machine, settleS, rows }, null, 2)}\n`,
  );
  console.log("\nwrote bench/results/scale-latest.json");
}

await runBench("scale", main);
