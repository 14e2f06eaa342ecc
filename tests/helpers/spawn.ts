/**
 * Servers started as child processes for the runtime smoke tests (Deno, Bun, node:http, the
 * packaged CLI): wait for the "listening on <url>" line, then stop them by PID. `npx` does not
 * pass SIGTERM on to the server it starts, so `stop()` signals the process tree leaf first, each
 * by its own PID (found in /proc), and the wrappers exit with their child.
 * @module
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/** A server running as a child process. */
export interface Spawned {
  /** The URL the server announced. */
  url: string;
  pid: number;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM to the tree (SIGKILL after 5 s); resolves when the spawned process has exited. */
  stop(): Promise<void>;
}

/** Options of {@link spawnServer}. */
export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** @default 30_000 */
  timeoutMs?: number;
}

const READY = /listening on (http:\/\/\S+)/;

/** The PIDs below `pid`, deepest first (Linux /proc; empty elsewhere). */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(
      Number,
    );
  } catch {
    // gone already, or no /proc
  }
  return children.flatMap((c) => [...descendants(c), c]);
}

/**
 * This process's environment without `npm_*`: under `npm test` those name this repository
 * (`npm_config_local_prefix`, `npm_package_*`), and an `npx` in another folder would follow them.
 */
export function childEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => !e[0].startsWith("npm_") && e[1] !== undefined),
  );
}

function signal(pid: number, sig: "SIGTERM" | "SIGKILL"): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already exited
  }
}

/** Running and not a zombie (an orphan's zombie may never be reaped in a container). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** `node` arguments that run the stand-alone server (the CLI) from source. */
export const CLI_FROM_SOURCE: readonly string[] = ["--import", "tsx", "adapters/cli.ts"];

/** `node` arguments for the stand-alone server from source on a free port of 127.0.0.1, with `more` flags. */
export function serverArgs(...more: string[]): string[] {
  return [...CLI_FROM_SOURCE, "--port", "0", "--host", "127.0.0.1", ...more];
}

/** Starts `cmd args` and resolves once it printed its listening line. */
export async function spawnServer(cmd: string, args: string[], o: SpawnOptions = {}): Promise<Spawned> {
  const child = spawn(cmd, args, { cwd: o.cwd, env: { ...childEnv(), ...o.env }, stdio: ["ignore", "pipe", "pipe"] });
  const pid = child.pid!;
  let out = "";
  // "error" instead of "exit" when the command cannot be started at all (ENOENT).
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", (err) => {
      out += `\n${err.message}`;
      resolve();
    });
  });
  let onData = (): void => {};
  for (const stream of [child.stdout!, child.stderr!]) {
    const decoder = new TextDecoder(); // one per stream: a character may be split across chunks
    stream.on("data", (b: Uint8Array) => {
      out += decoder.decode(b, { stream: true });
      onData();
    });
  }
  const stop = async (): Promise<void> => {
    const tree = [...descendants(pid), pid];
    for (const p of tree) signal(p, "SIGTERM");
    const until = Date.now() + 5000;
    while (tree.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const p of tree.filter(alive)) signal(p, "SIGKILL");
    await exited;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${cmd} printed no listening line in ${o.timeoutMs ?? 30_000} ms:\n${out}`)),
        o.timeoutMs ?? 30_000,
      );
      onData = () => {
        const m = READY.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${cmd} exited (${child.exitCode ?? child.signalCode}) before listening:\n${out}`));
      });
    });
    return { url, pid, output: () => out, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
