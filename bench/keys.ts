/**
 * Scale of the key pool: a 100,000-key ollama.txt imported (a) through the admin API of a real
 * server on filesystem storage, as JSON and as a text/plain body, and (b) at start-up by the
 * `tsc`-built server (`--keys`), with time and peak RSS of the server process; key-selection cost
 * from 10 to 100,000 keys (in-process, as a ratio to 10 keys); paged listing at 100,000 keys.
 *
 * `npx tsx bench/keys.ts [--keys N]` — writes bench/results/keys-latest.json.
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { pickCost } from "./pick.ts";
import { freePort, killAllNow, startChild } from "./procs.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
process.on("exit", killAllNow);

/** An ollama.txt of `n` distinct keys, in the format the import route parses (bench/scale.ts too). */
export function ollamaTxt(n: number): string {
  return Array.from(
    { length: n },
    (_, i) => `user${i}@example.com----pw${i}----session${i}----sk-${i.toString(36).padStart(10, "0")}-bench-key`,
  ).join("\n");
}

/** Peak and current resident memory of a process, from /proc (MB). */
async function rss(pid: number): Promise<{ peakMb: number; nowMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { peakMb: Math.round(kb("VmHWM") / 1024), nowMb: Math.round(kb("VmRSS") / 1024) };
}

/** The built server importing `file` at start: seconds (from its own log) and peak RSS. */
async function builtStartupImport(file: string, dataDir: string): Promise<{ seconds: number; rssPeakMb: number }> {
  spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
  const child = spawn(process.execPath, [
    "dist/adapters/cli.js",
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--data-dir",
    dataDir,
    "--keys",
    file,
  ], {
    cwd: ROOT,
    env: {
      ...process.env,
      ADMIN_TOKEN: "bench-keys-probe-admin",
      OLLAMA_BASE_URL: "http://127.0.0.1:9",
      DISCOVER_MODELS: "false",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (b: Buffer) => {
        out += b;
        if (/listening on/.test(out)) resolve();
      });
      child.on("exit", (code) => reject(new Error(`built server exited ${code}: ${out}`)));
    });
    const seconds = Number(/\(([\d.]+) s\)/.exec(out)?.[1]);
    return { seconds, rssPeakMb: (await rss(child.pid!)).peakMb };
  } finally {
    child.kill("SIGTERM");
  }
}

async function main(N: number): Promise<void> {
  const dir = await mkdtemp(join(os.tmpdir(), "pool-keys-bench-"));
  const admin = "bench-keys-admin-token";
  const server = await startChild({
    name: "pool",
    cwd: ROOT,
    file: "adapters/cli.ts",
    args: ["--port", String(await freePort()), "--host", "127.0.0.1", "--data-dir", join(dir, "data")],
    env: { ADMIN_TOKEN: admin, OLLAMA_BASE_URL: "http://127.0.0.1:9", DISCOVER_MODELS: "false" },
    ready: /listening on (http:\/\/\S+)/,
  });
  try {
    const before = await rss(server.pid);
    const content = ollamaTxt(N);
    await writeFile(join(dir, "ollama.txt"), content);
    const headers = { authorization: `Bearer ${admin}`, "content-type": "application/json" };
    const t0 = performance.now();
    const res = await fetch(`${server.url}/admin/api-keys/import-from-txt`, {
      method: "POST",
      headers,
      body: JSON.stringify({ content }),
    });
    const imported = await res.json();
    const importMs = performance.now() - t0;
    if (imported.added !== N) throw new Error(`import: ${JSON.stringify(imported).slice(0, 300)}`);
    const after = await rss(server.pid);
    // The same file again as text/plain, into a fresh server, for its own peak.
    const plainServer = await startChild({
      name: "pool-plain",
      cwd: ROOT,
      file: "adapters/cli.ts",
      args: ["--port", String(await freePort()), "--host", "127.0.0.1", "--data-dir", join(dir, "data-plain")],
      env: { ADMIN_TOKEN: admin, OLLAMA_BASE_URL: "http://127.0.0.1:9", DISCOVER_MODELS: "false" },
      ready: /listening on (http:\/\/\S+)/,
    });
    const t1 = performance.now();
    const plainRes = await fetch(`${plainServer.url}/admin/api-keys/import-from-txt`, {
      method: "POST",
      headers: { ...headers, "content-type": "text/plain" },
      body: content,
    });
    if ((await plainRes.json()).added !== N) throw new Error("text/plain import did not add every key");
    const plain = { ms: Math.round(performance.now() - t1), rssPeakMb: (await rss(plainServer.pid)).peakMb };
    await plainServer.stop(5000);
    const startup = await builtStartupImport(join(dir, "ollama.txt"), join(dir, "data-built"));

    const pageTimes: Record<string, number> = {};
    for (
      const [name, path] of [
        ["api-keys page 1", "/admin/api-keys?page=1&pageSize=100"],
        ["api-keys last page", `/admin/api-keys?page=${N / 100}&pageSize=100`],
        ["api-keys search", "/admin/api-keys?search=user99999@&pageSize=100"],
        ["keys/stats last page", `/admin/keys/stats?page=${N / 500}&pageSize=500`],
        ["health", "/health"],
      ] as const
    ) {
      const t = performance.now();
      const r = await fetch(`${server.url}${path}`, { headers });
      if (!r.ok) throw new Error(`${path}: ${r.status}`);
      await r.arrayBuffer();
      pageTimes[name] = Math.round((performance.now() - t) * 10) / 10;
    }

    const picks = [10, 1_000, 100_000].map((n) => ({ keys: n, nsPerPick: Math.round(pickCost(n) * 10) / 10 }));
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version },
      import: {
        keys: N,
        ms: Math.round(importMs),
        storage: "filesystem",
        rssBeforeMb: before.nowMb,
        rssAfterMb: after.nowMb,
        rssPeakMb: after.peakMb,
      },
      importTextPlain: plain,
      builtStartupImport: startup,
      pages: pageTimes,
      picks: picks.map((p) => ({ ...p, vs10: Math.round((p.nsPerPick / picks[0].nsPerPick) * 100) / 100 })),
    };
    console.log(
      `\nImport of ${
        N.toLocaleString("en")
      } keys (ollama.txt through POST /admin/api-keys/import-from-txt, filesystem storage):`,
    );
    console.log(
      `  JSON {content} (tsx server):       ${
        result.import.ms.toLocaleString("en")
      } ms; RSS ${before.nowMb} MB before, peak ${after.peakMb} MB`,
    );
    console.log(
      `  text/plain body (tsx server):      ${plain.ms.toLocaleString("en")} ms; peak RSS ${plain.rssPeakMb} MB`,
    );
    console.log(`  --keys at start (tsc-built server): ${startup.seconds} s; peak RSS ${startup.rssPeakMb} MB`);
    console.log(`\nAdmin pages at ${N.toLocaleString("en")} keys (ms, one request each):`);
    for (const [k, v] of Object.entries(pageTimes)) console.log(`  ${k.padEnd(22)} ${v}`);
    console.log(`\n| keys | ns per pick | vs 10 keys |\n|---:|---:|---:|`);
    for (const p of result.picks) console.log(`| ${p.keys.toLocaleString("en")} | ${p.nsPerPick} | ${p.vs10}× |`);
    console.log(`\nmachine: ${result.machine.cpus} CPUs, ${result.machine.cpuModel}, node ${result.machine.node}`);
    await writeFile(join(ROOT, "bench/results/keys-latest.json"), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await server.stop(5000);
    await rm(dir, { recursive: true, force: true });
  }
}

// Run only as the entry point: bench/scale.ts imports ollamaTxt() from here.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { keys: { type: "string" } } });
  await main(Number(values.keys ?? 100_000));
}
