/**
 * Scale of the key pool: a 100,000-key ollama.txt imported (a) through the admin API of a real
 * server on filesystem storage, as JSON and as a text/plain body, and (b) at start-up (`--keys`),
 * with time and the server process's RSS before, at its peak (VmHWM) and settled (`--settle`
 * seconds after the import: median of VmRSS samples over the last second); the server runs as
 * `npm start` runs it (built to plain JavaScript, dist/adapters/cli.js) and, for the JSON form,
 * also under the tsx loader. Then key-selection cost from 10 to 100,000 keys (in-process, as a
 * ratio to 10 keys) and paged listing at 100,000 keys.
 *
 * `npx tsx bench/keys.ts [--keys N] [--settle S]` — writes bench/results/keys-latest.json.
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { machineFacts, runBench, track } from "./common.ts";
import { median } from "./load.ts";
import { pickCost } from "./pick.ts";
import { type Child, freePort, killAllNow, startChild } from "./procs.ts";
import { peakRssKb, rssKb } from "./rss.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
process.on("exit", killAllNow);

/** An ollama.txt of `n` distinct keys, in the format the import route parses (bench/scale.ts too). */
export function ollamaTxt(n: number): string {
  return Array.from(
    { length: n },
    (_, i) => `user${i}@example.com----pw${i}----session${i}----sk-${i.toString(36).padStart(10, "0")}-bench-key`,
  ).join("\n");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (kb: number): number => Math.round(kb / 102.4) / 10;

/** RSS of an idle process, KB: the median of samples every 100 ms over the last second of `seconds`. */
export async function settledRssKb(pid: number, seconds: number): Promise<number> {
  await sleep(Math.max(0, seconds - 1) * 1000);
  const xs: number[] = [];
  for (let i = 0; i < 10; i++, await sleep(100)) xs.push(rssKb(pid));
  return median(xs);
}

/** The CLI as `npm start` runs it (built), or under the tsx loader. */
export type Variant = "built" | "tsx";

/** Builds what `npm start` runs (its prestart). */
export function buildServer(): void {
  const b = spawnSync(process.execPath, ["scripts/build_server.mjs"], { cwd: ROOT, stdio: "inherit" });
  if (b.status !== 0) throw new Error("scripts/build_server.mjs failed");
}

/** A server of `variant` on filesystem storage in `dataDir`; nothing upstream is reachable. */
export async function keyServer(variant: Variant, dataDir: string, admin: string, args: string[] = []): Promise<Child> {
  return track(
    await startChild({
      name: `pool-${variant}`,
      cwd: ROOT,
      file: variant === "tsx" ? "adapters/cli.ts" : "dist/adapters/cli.js",
      tsx: variant === "tsx",
      args: ["--port", String(await freePort()), "--host", "127.0.0.1", "--data-dir", dataDir, ...args],
      // Nothing listens on port 9 of loopback: no key is ever used upstream here.
      env: {
        ADMIN_TOKEN: admin,
        OLLAMA_BASE_URL: "http://127.0.0.1:9",
        OPENROUTER_BASE_URL: "http://127.0.0.1:9/api",
        DISCOVER_MODELS: "false",
      },
      ready: /listening on (http:\/\/\S+)/,
      timeoutMs: 600_000, // --keys imports before it listens
    }),
  );
}

/** Memory of one import, MB, and its time. */
export interface ImportMemory {
  ms: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  rssSettledMb: number;
}

/** Imports `content` into `server` and reads its RSS before, at the peak and settled. */
export async function importMeasured(
  server: Child,
  admin: string,
  content: string,
  form: "json" | "text",
  settleS: number,
): Promise<ImportMemory> {
  const before = await settledRssKb(server.pid, 2);
  const t0 = performance.now();
  const res = await fetch(`${server.url}/admin/api-keys/import-from-txt`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin}`, "content-type": form === "json" ? "application/json" : "text/plain" },
    body: form === "json" ? JSON.stringify({ content }) : content,
  });
  const body = await res.json() as { added?: number };
  const ms = Math.round(performance.now() - t0);
  const lines = content.split("\n").length;
  if (body.added !== lines) throw new Error(`import (${form}): ${JSON.stringify(body).slice(0, 300)}`);
  const settled = await settledRssKb(server.pid, settleS);
  // VmHWM is synced lazily by the kernel and can read a little under a VmRSS sample taken before it.
  return {
    ms,
    rssBeforeMb: mb(before),
    rssPeakMb: mb(Math.max(peakRssKb(server.pid), settled)),
    rssSettledMb: mb(settled),
  };
}

async function main(N: number, settleS: number): Promise<void> {
  const machine = machineFacts();
  const dir = await mkdtemp(join(os.tmpdir(), "pool-keys-bench-"));
  track({ name: "keys data dir", stop: () => rm(dir, { recursive: true, force: true }) });
  const admin = "bench-keys-admin-token";
  buildServer();
  const content = ollamaTxt(N);
  await writeFile(join(dir, "ollama.txt"), content);
  const runs: Array<{ server: Variant; form: string } & ImportMemory> = [];
  let server: Child | undefined;
  for (const [variant, form] of [["built", "json"], ["built", "text"], ["tsx", "json"]] as const) {
    const s = await keyServer(variant, join(dir, `data-${variant}-${form}`), admin);
    runs.push({ server: variant, form, ...await importMeasured(s, admin, content, form, settleS) });
    if (!server) server = s; // kept for the pages below
    else await s.stop(5000);
  }
  // At start-up: the time is the server's own log line; its RSS once listening.
  const t0 = performance.now();
  const started = await keyServer("built", join(dir, "data-startup"), admin, ["--keys", join(dir, "ollama.txt")]);
  const startupMs = Math.round(performance.now() - t0);
  const startupSettled = await settledRssKb(started.pid, settleS);
  const startup = {
    server: "built" as const,
    form: "--keys",
    ms: startupMs,
    rssBeforeMb: 0,
    rssPeakMb: mb(Math.max(peakRssKb(started.pid), startupSettled)),
    rssSettledMb: mb(startupSettled),
  };
  await started.stop(5000);

  const headers = { authorization: `Bearer ${admin}` };
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
    const r = await fetch(`${server!.url}${path}`, { headers });
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    await r.arrayBuffer();
    pageTimes[name] = Math.round((performance.now() - t) * 10) / 10;
  }
  await server!.stop(5000);

  const picks = [10, 1_000, 100_000].map((n) => ({ keys: n, nsPerPick: Math.round(pickCost(n) * 10) / 10 }));
  const result = {
    date: new Date().toISOString(),
    machine,
    keys: N,
    storage: "filesystem",
    settleS,
    imports: [...runs, startup],
    pages: pageTimes,
    picks: picks.map((p) => ({ ...p, vs10: Math.round((p.nsPerPick / picks[0].nsPerPick) * 100) / 100 })),
  };
  console.log(
    `\nImport of ${
      N.toLocaleString("en")
    } ollama.txt lines, filesystem storage; server RSS from /proc (settled: ${settleS} s after)`,
  );
  console.log(
    `machine: ${machine.cpus} CPUs, ${machine.cpuModel}, node ${machine.node}, loadavg ${machine.loadavg.join(" ")}\n`,
  );
  console.log("| server | how | seconds | RSS before MB | peak MB | settled MB |\n|---|---|---:|---:|---:|---:|");
  for (const r of result.imports) {
    const how = r.form === "--keys"
      ? "`--keys` at start"
      : r.form === "json"
      ? "POST, JSON {content}"
      : "POST, text/plain";
    const who = r.server === "built" ? "npm start (built)" : "tsx adapters/cli.ts";
    console.log(
      `| ${who} | ${how} | ${(r.ms / 1000).toFixed(1)} | ${
        r.rssBeforeMb || "—"
      } | **${r.rssPeakMb}** | **${r.rssSettledMb}** |`,
    );
  }
  console.log(`\nAdmin pages at ${N.toLocaleString("en")} keys (ms, one request each):`);
  for (const [k, v] of Object.entries(pageTimes)) console.log(`  ${k.padEnd(22)} ${v}`);
  console.log(`\n| keys | ns per pick | vs 10 keys |\n|---:|---:|---:|`);
  for (const p of result.picks) console.log(`| ${p.keys.toLocaleString("en")} | ${p.nsPerPick} | ${p.vs10}× |`);
  await writeFile(join(ROOT, "bench/results/keys-latest.json"), `${JSON.stringify(result, null, 2)}\n`);
}

// Run only as the entry point: bench/scale.ts imports ollamaTxt() from here.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { keys: { type: "string" }, settle: { type: "string" } } });
  await runBench("keys", () => main(Number(values.keys ?? 100_000), Number(values.settle ?? 10)));
}
