/**
 * What crash-safe filesystem writes cost. The same work on three drivers in one process, one after
 * another per round: unstorage's plain fs driver (`writeFile` in place), the atomic driver without
 * fsync (temporary file + rename: what statistics get) and with fsync (file and folder: what
 * keys, tokens, users and the admin credential get). Measured: one record written at a time
 * (an admin creating a token), a 10,000-key import through the pool's own `putKeys` (chunks of
 * 256 via `setItems`, one folder fsync per chunk), and a statistics flush of 2,000 counter records
 * (the kv counter sink: read, merge, write, never fsync'ed).
 *
 * The proxy's request path writes nothing (statistics and key state are flushed in the
 * background); `bench/storage.ts` measures throughput on the file backend against memory.
 *
 * `npx tsx bench/storage_fs.ts [--rounds N] [--keys N]`; writes bench/results/storage-fs-latest.json.
 * @module
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createStorage, type Storage } from "unstorage";
import fsDriver from "unstorage/drivers/fs";
import { atomicFsDriver } from "../adapters/fs_atomic.ts";
import type { KeyRecord } from "../src/keys/types.ts";
import { type CounterBatch, kvCounterSink } from "../src/store/counters.ts";
import { createStore } from "../src/store/store.ts";
import { machineFacts, positive } from "./common.ts";

const { values: argv } = parseArgs({ options: { rounds: { type: "string" }, keys: { type: "string" } } });
const rounds = positive("rounds", argv.rounds ?? "3");
const KEYS = positive("keys", argv.keys ?? "10000");
const SINGLE = 200;
const STATS_RECORDS = 2000;

const VARIANTS = {
  "plain fs (writeFile in place)": (dir: string) => createStorage({ driver: fsDriver({ base: dir }) }),
  "atomic, no fsync (statistics)": (dir: string) =>
    createStorage({ driver: atomicFsDriver({ base: dir, durable: () => false }) }),
  "atomic + fsync (keys, tokens, users, meta)": (dir: string) =>
    createStorage({ driver: atomicFsDriver({ base: dir, durable: () => true }) }),
};
type Variant = keyof typeof VARIANTS;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round2 = (x: number): number => Math.round(x * 100) / 100;

function keyRecords(n: number, round: number): KeyRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${round}-${i.toString(16).padStart(12, "0")}`,
    provider: "ollama",
    secret: `sk-bench-${i}-${"x".repeat(40)}`,
    state: "active",
    failures: 0,
    createdAt: Date.now(),
  }));
}

function statsBatch(n: number): CounterBatch {
  const batch: CounterBatch = new Map();
  for (let i = 0; i < n; i++) {
    batch.set(`stats:key:ollama:${i}`, {
      add: { requests: 3, success: 2, tokens: 900 },
      max: { lastUsed: Date.now() },
    });
  }
  return batch;
}

async function once(
  make: (dir: string) => Storage,
  round: number,
): Promise<{ singleMs: number; importMs: number; flushMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), "pool-bench-fs-"));
  const storage = make(dir);
  try {
    const store = createStore(storage);
    const t0 = performance.now();
    for (let i = 0; i < SINGLE; i++) {
      await storage.setItem(`tokens:${round}-${i}`, { id: String(i), hash: "h".repeat(64), name: "bench" });
    }
    const singleMs = (performance.now() - t0) / SINGLE;
    const records = keyRecords(KEYS, round);
    const t1 = performance.now();
    await store.putKeys(records);
    const importMs = performance.now() - t1;
    const sink = kvCounterSink(storage);
    await sink.apply(statsBatch(STATS_RECORDS)); // first flush creates the files; the second is the steady state
    const t2 = performance.now();
    await sink.apply(statsBatch(STATS_RECORDS));
    const flushMs = performance.now() - t2;
    return { singleMs, importMs, flushMs };
  } finally {
    await storage.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const machine = machineFacts();
  console.log(
    `machine: ${machine.cpus} CPUs, ${machine.cpuModel}, node ${machine.node}, ${machine.platform}, loadavg ${
      machine.loadavg.join(" ")
    }`,
  );
  console.log(
    `plan: ${rounds} round(s); ${SINGLE} single writes, ${KEYS} keys imported, ${STATS_RECORDS} counter records flushed; temp dir ${tmpdir()}\n`,
  );
  const samples = Object.fromEntries(
    Object.keys(VARIANTS).map((v) => [v, [] as Awaited<ReturnType<typeof once>>[]]),
  ) as Record<Variant, Awaited<ReturnType<typeof once>>[]>;
  for (let r = 0; r < rounds; r++) {
    for (const [name, make] of Object.entries(VARIANTS) as [Variant, (dir: string) => Storage][]) {
      samples[name].push(await once(make, r));
    }
  }
  const rows = (Object.keys(VARIANTS) as Variant[]).map((v) => ({
    variant: v,
    singleWriteMs: round2(median(samples[v].map((s) => s.singleMs))),
    importMs: Math.round(median(samples[v].map((s) => s.importMs))),
    keysPerSecond: Math.round(KEYS / (median(samples[v].map((s) => s.importMs)) / 1000)),
    statsFlushMs: Math.round(median(samples[v].map((s) => s.flushMs))),
  }));
  console.log(
    `| driver | one record written (ms) | ${KEYS.toLocaleString("en-US")}-key import (ms) | keys/s | ${
      STATS_RECORDS.toLocaleString("en-US")
    }-record stats flush (ms) |`,
  );
  console.log("|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.variant} | ${r.singleWriteMs} | ${r.importMs} | ${
        r.keysPerSecond.toLocaleString("en-US")
      } | ${r.statsFlushMs} |`,
    );
  }
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  await mkdir(dir, { recursive: true });
  await writeFile(
    `${dir}storage-fs-latest.json`,
    `${
      JSON.stringify(
        {
          date: new Date().toISOString(),
          machine,
          settings: { rounds, keys: KEYS, single: SINGLE, statsRecords: STATS_RECORDS },
          rows,
          samples,
        },
        null,
        2,
      )
    }\n`,
  );
  console.log("\nwrote bench/results/storage-fs-latest.json");
}

await main();
