/**
 * Child-process plumbing for the benchmarks: free ports, servers started as
 * `node --import tsx <file>` (so the PID we hold is the server itself, not an `npx`/`tsx`
 * wrapper), readiness from a stdout line, and cleanup that also runs on errors and Ctrl-C.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";

/** A server running as a child process. */
export interface Child {
  name: string;
  pid: number;
  /** The URL the server announced. */
  url: string;
  /** False once the process has exited. */
  alive(): boolean;
  /** The last few KB the process wrote to stderr. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link startChild}. */
export interface StartOptions {
  name: string;
  /** The TypeScript entry point, relative to `cwd`. */
  file: string;
  args?: string[];
  /** Node flags after `--import tsx`, e.g. another `--import` preload. */
  nodeArgs?: string[];
  /** Run `file` with plain node, without tsx (a built .js; tsx's loader costs memory). @default true */
  tsx?: boolean;
  /**
   * Another runtime instead of node: its binary and the arguments before `file`, e.g.
   * `["node_modules/.bin/bun"]` or `["node_modules/.bin/deno", "run", "-A"]` (then `tsx` and
   * `nodeArgs` are ignored). The PID held is still the server itself: both are native binaries.
   */
  command?: string[];
  env?: Record<string, string>;
  /**
   * Start from an environment of only PATH and HOME (plus `env`) instead of ours: for
   * third-party servers that act on variables we may have set (proxies, cloud credentials).
   */
  cleanEnv?: boolean;
  cwd: string;
  /** Its first capture group (or whole match) is the URL; the server is ready when it appears. */
  ready: RegExp;
  /** @default 30_000 (tsx's first compile of a cold tree is slow on 2 cores) */
  timeoutMs?: number;
}

const live = new Map<number, ChildProcess>();

/** A port that was free a moment ago (the OS picks it; we close and hand it on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

// Each child leads its own process group (detached), so a signal to -pid reaches anything it
// might spawn, and the terminal's Ctrl-C reaches only us: we then stop children in order.
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** Starts a server and resolves once it printed its ready line. */
export function startChild(o: StartOptions): Promise<Child> {
  const base = o.cleanEnv ? { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" } : process.env;
  const loader = o.tsx === false ? [] : ["--import", "tsx"];
  const [program, ...before] = o.command ?? [process.execPath, ...loader, ...(o.nodeArgs ?? [])];
  const cp = spawn(program, [...before, o.file, ...(o.args ?? [])], {
    cwd: o.cwd,
    env: { ...base, ...o.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const pid = cp.pid;
  if (pid === undefined) return Promise.reject(new Error(`${o.name}: spawn failed`));
  live.set(pid, cp);
  const exited = new Promise<void>((resolve) => cp.once("exit", () => resolve()));
  void exited.then(() => live.delete(pid));

  let stderr = "";
  cp.stderr!.setEncoding("utf8").on("data", (d: string) => {
    stderr = (stderr + d).slice(-4000); // the tail is what explains a crash
  });

  let stopping = false;
  const stop = async (graceMs = 5000): Promise<void> => {
    stopping = true;
    if (cp.exitCode !== null || cp.signalCode !== null) return;
    signal(pid, "SIGTERM");
    const timer = setTimeout(() => signal(pid, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };

  return new Promise<Child>((resolve, reject) => {
    let out = "";
    let done = false;
    const fail = (why: string): void => {
      if (done) return;
      done = true;
      void stop(1000);
      reject(
        new Error(`${o.name} (pid ${pid}) ${why}\n--- stdout ---\n${out.slice(-2000)}\n--- stderr ---\n${stderr}`),
      );
    };
    const timer = setTimeout(() => fail(`not ready after ${o.timeoutMs ?? 30_000} ms`), o.timeoutMs ?? 30_000);
    cp.stdout!.setEncoding("utf8").on("data", (d: string) => {
      if (done) return; // keep draining so a chatty child never blocks on a full pipe
      out += d;
      const m = o.ready.exec(out);
      if (!m) return;
      done = true;
      clearTimeout(timer);
      resolve({
        name: o.name,
        pid,
        url: (m[1] ?? m[0]).trim(),
        stderr: () => stderr,
        alive: () => cp.exitCode === null && cp.signalCode === null,
        stop,
      });
    });
    cp.once("exit", (code, sig) => {
      clearTimeout(timer);
      // A server dying mid-benchmark would otherwise only show up as a wall of errors.
      if (done && !stopping) {
        console.error(`\n!!! ${o.name} (pid ${pid}) died (code ${code}, signal ${sig})\n${stderr}`);
      }
      fail(`exited early (code ${code}, signal ${sig})`);
    });
    cp.once("error", (err) => fail(`failed to start: ${err.message}`));
  });
}

/** Last resort on process exit: SIGKILL whatever is still running (synchronous). */
export function killAllNow(): void {
  for (const pid of live.keys()) signal(pid, "SIGKILL");
}

/** CPU seconds (user + system) a process has used so far, or undefined off Linux. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: fields after the ")" of comm; utime and stime are fields 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** CPU seconds all CPUs spent busy since boot (from /proc/stat), or undefined off Linux. */
export function machineBusySeconds(): number | undefined {
  try {
    // "cpu  user nice system idle iowait irq softirq steal ...", in USER_HZ; idle and iowait are not busy.
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
    return (f.reduce((a, b) => a + b, 0) - f[3] - f[4]) / 100;
  } catch {
    return undefined;
  }
}

/** A served URL alone on its line: how the mock and the bare proxy say they are listening. */
const URL_LINE = /^(http:\/\/\S+)$/m;

/** The mock upstream (tests/helpers/mock_cli.ts) on a free port; `args` are its options (`--chunks`, `--delay`). */
export async function startMock(root: string, args: string[] = []): Promise<Child> {
  return startChild({
    name: "mock",
    cwd: root,
    file: "tests/helpers/mock_cli.ts",
    args: ["--port", String(await freePort()), ...args],
    ready: URL_LINE,
  });
}

/** The bare `node:http` proxy (bench/bare_proxy.ts) in front of `target` on a free port; `args` are its options. */
export async function startBareProxy(root: string, target: string, args: string[] = []): Promise<Child> {
  return startChild({
    name: "bare",
    cwd: root,
    file: "bench/bare_proxy.ts",
    args: ["--target", target, "--port", String(await freePort()), ...args],
    ready: URL_LINE,
  });
}
