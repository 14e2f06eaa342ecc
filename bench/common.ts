/**
 * What bench/overhead.ts and bench/storage.ts share: the list of things to stop (with Ctrl-C
 * handling), machine facts, the chat request, and a pool prepared like a small real one.
 * @module
 */
import os from "node:os";
import type { RequestSpec } from "./load.ts";
import { killAllNow } from "./procs.ts";
import type { MachineFacts } from "./report.ts";

/** Anything started that must be stopped: a child server, Redis, Postgres, a temp dir. */
export interface Stoppable {
  name: string;
  stop(graceMs?: number): Promise<void>;
}

const started: Stoppable[] = [];
let cleaning: Promise<void> | undefined;

/** Registers something to stop on {@link cleanup}, in reverse order of registration. */
export function track<T extends Stoppable>(s: T): T {
  started.push(s);
  return s;
}

/**
 * Stops everything, last started first (proxies before the upstream they talk to, pools before
 * their database). One by one, so each gets its grace period; a failing stop does not keep the
 * others running.
 */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const s of started.splice(0).reverse()) {
      try {
        await s.stop(3000);
      } catch (err) {
        console.error(`stopping ${s.name}: ${(err as Error).message}`);
      }
    }
  })();
  return cleaning;
}

process.on("exit", killAllNow); // covers paths where the async cleanup never ran
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping child processes…`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** A positive integer from a command-line flag. */
export function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

/** Machine facts, printed above the tables: ratios from a busy or tiny machine read differently. */
export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** An authenticated JSON request to an admin route; throws with the body on a non-2xx. */
export async function adminJson(
  method: "GET" | "POST",
  url: string,
  token: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} -> ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Gives a fresh pool ~10 keys, like a small real pool (key selection has something to choose
 * between), and returns a client token for it.
 */
export async function preparePool(url: string, admin: string): Promise<string> {
  const keys = Array.from({ length: 10 }, (_, i) => `key-${"abcdefghij"[i].repeat(8)}${i + 1}`);
  const imported = await adminJson("POST", `${url}/admin/api-keys/import`, admin, { keys });
  if (imported.added !== keys.length && imported.existing !== keys.length) {
    throw new Error(`key import did not take all ${keys.length} keys: ${JSON.stringify(imported)}`);
  }
  const { token } = (await adminJson("POST", `${url}/admin/tokens`, admin, { name: "bench" })) as { token: unknown };
  if (typeof token !== "string") throw new Error("POST /admin/tokens returned no token");
  return token;
}

/** The benchmark's chat completion request, sent with `bearer`. */
export function chatSpec(base: string, bearer: string, stream: boolean): RequestSpec {
  const body: Record<string, unknown> = { model: "llama3.2", messages: [{ role: "user", content: "hi" }] };
  if (stream) body.stream = true;
  return {
    url: `${base}/v1/chat/completions`,
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

/** What every answer to {@link chatSpec} contains when it is whole. */
export const expectMarker = (stream: boolean): string => (stream ? "data: [DONE]" : '"chat.completion"');

/**
 * Runs a benchmark's `main`: on failure prints the error (and the tails of the servers' stderr,
 * which usually explain a setup failure) and sets exit code 1; always stops every child.
 */
export async function runBench(
  name: string,
  main: () => Promise<void>,
  servers: Array<{ name: string; alive(): boolean; stderr(): string }> = [],
): Promise<void> {
  try {
    await main();
  } catch (err) {
    console.error(`\n${name}: ${(err as Error).stack ?? err}`);
    for (const c of servers) {
      if (c.alive() && c.stderr().trim()) console.error(`\n--- ${c.name} stderr (tail) ---\n${c.stderr().trim()}`);
    }
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}
