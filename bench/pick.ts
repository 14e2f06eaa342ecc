/**
 * Cost of choosing a key, in-process: ns per `KeyPool.pick` at 10 / 1,000 / 100,000 keys (10 %
 * resting, one key already tried), for the ways a pool can be set up — no model filter, a model
 * with unknown key lists, every key listing the model, two priority tiers, a weighted tier, and a
 * model only 1 key in 100 lists (the case that passes over keys).
 *
 * `npx tsx bench/pick.ts` — prints a table; bench/keys.ts reports the first scenario too.
 * @module
 */
import { pathToFileURL } from "node:url";
import os from "node:os";
import { KeyPool } from "../src/keys/key_pool.ts";
import type { KeyRecord } from "../src/keys/types.ts";

/** How the keys of a scenario are set up, and which model requests ask for. */
interface Scenario {
  name: string;
  model?: string;
  key?(i: number): Partial<KeyRecord>;
}

export const SCENARIOS: Scenario[] = [
  { name: "no model filter" },
  { name: "model asked, lists unknown", model: "m" },
  { name: "model asked, every key lists it", model: "m", key: () => ({ models: ["m", "n"] }) },
  { name: "two priority tiers", model: "m", key: (i) => ({ priority: i % 2 }) },
  { name: "weighted tier (1-4)", model: "m", key: (i) => ({ weight: 1 + (i % 4) }) },
  { name: "rare model (1 key in 100)", model: "m", key: (i) => ({ models: i % 100 === 0 ? ["m"] : ["n"] }) },
];

/** Nanoseconds per pick over `n` keys set up as `scenario` says. */
export function pickCost(n: number, scenario: Scenario = SCENARIOS[0]): number {
  let t = 1_000_000;
  const pool = new KeyPool("bench", { failuresBeforeDisable: 3, disableMs: 3_600_000 }, () => t, () => {});
  for (let i = 0; i < n; i++) {
    pool.put({
      id: `k${i}`,
      provider: "bench",
      secret: `s${i}`,
      state: "active",
      failures: 0,
      createdAt: i,
      ...scenario.key?.(i),
    });
  }
  for (let i = 5; i < n; i += 10) pool.report(`k${i}`, { kind: "cooldown", ms: 1e12, reason: "bench" });
  const tried = new Set<string>(["k1"]);
  const rounds = Math.max(20_000, Math.min(2_000_000, 200_000_000 / n));
  for (let i = 0; i < rounds / 10; i++) pool.pick(tried, scenario.model); // warm up the JIT
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    if (!pool.pick(tried, scenario.model)) throw new Error(`${scenario.name}: no key`);
    t++;
  }
  return Number(process.hrtime.bigint() - t0) / rounds;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = [10, 1_000, 100_000];
  console.log(
    `| scenario | ${sizes.map((n) => `${n.toLocaleString("en")} keys`).join(" | ")} |\n|---|${
      sizes.map(() => "---:").join("|")
    }|`,
  );
  for (const s of SCENARIOS) {
    const ns = sizes.map((n) => pickCost(n, s));
    console.log(
      `| ${s.name} | ${
        ns.map((x) => `${x < 1000 ? x.toFixed(0) : Math.round(x).toLocaleString("en")} ns`).join(" | ")
      } |`,
    );
  }
  console.log(`\nmachine: ${os.cpus().length} CPUs, ${os.cpus()[0]?.model}, node ${process.version}`);
}
