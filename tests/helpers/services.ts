/**
 * Real Redis and PostgreSQL (+ websockify for the Neon driver) started for a test file, on free
 * local ports with data in a temp dir, and stopped by PID afterwards. `npm test` installs the
 * Debian packages when it can; suites declare what they need with `skipUnless` (requires.ts).
 * Nothing here is mocked.
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { within } from "./poll.ts";
import { postgresBinDir } from "./requires.ts";

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const c = createConnection({ port, host: "127.0.0.1" }, () => {
        c.destroy();
        resolve(true);
      });
      c.on("error", () => resolve(false));
    });
  await within(timeoutMs, accepts, `something listening on 127.0.0.1:${port}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** A running Redis. `restart()` brings it back on the same port (for outage tests). */
export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess;
  const launch = async () => {
    // No snapshots, no append-only file: this Redis writes nothing to disk.
    child = spawn("redis-server", [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      tmpdir(),
    ], { stdio: "ignore" });
    await waitForPort(port);
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => stopChild(child),
    async restart() {
      await stopChild(child);
      await launch();
    },
  };
}

/** A running PostgreSQL with websockify in front of it, as the Neon driver needs. */
export interface PostgresServer {
  /** `postgres://postgres:…@127.0.0.1:<port>/postgres` */
  url: string;
  /** For the Neon driver's `wsProxy`: `127.0.0.1:<ws port>/`. */
  wsProxy: string;
  stop(): Promise<void>;
}

function pgBin(name: string): string {
  const dir = postgresBinDir();
  if (!dir) throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
  return join(dir, name);
}

export async function startPostgres(): Promise<PostgresServer> {
  const [port, wsPort] = [await freePort(), await freePort()];
  const root = mkdtempSync(join(tmpdir(), "pool-pg-"));
  const data = join(root, "data");
  const pwfile = join(root, "pw");
  writeFileSync(pwfile, "pool-test-pw\n");
  // initdb refuses to run as root: run the server as the postgres user when we are root.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    chmodSync(root, 0o755);
    const pg = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const uid = Number(pg.stdout.trim());
    const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
    chownSync(root, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  const run = (cmd: string, args: string[]) => {
    const full = asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] as const : [cmd, args] as const;
    const r = spawnSync(full[0], full[1] as string[], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  run(pgBin("initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth-host=scram-sha-256",
    "--auth-local=trust",
    `--pwfile=${pwfile}`,
    "-E",
    "UTF8",
  ]);
  run(pgBin("pg_ctl"), [
    "-D",
    data,
    "-l",
    join(root, "pg.log"),
    "-w",
    "start",
    "-o",
    `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`,
  ]);
  const ws = spawn("websockify", [`127.0.0.1:${wsPort}`, `127.0.0.1:${port}`], { stdio: "ignore" });
  await waitForPort(wsPort);
  return {
    url: `postgres://postgres:pool-test-pw@127.0.0.1:${port}/postgres`,
    wsProxy: `127.0.0.1:${wsPort}/`,
    async stop() {
      await stopChild(ws);
      try {
        run(pgBin("pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
