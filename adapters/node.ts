/**
 * Node.js glue: serve a pool over HTTP, filesystem storage, graceful shutdown.
 * @example
 * import { createPool, ollama } from "ollama-api-pool";
 * import { fsStorage, serve } from "ollama-api-pool/node";
 * const pool = createPool({ providers: [ollama()], storage: fsStorage("./.data") });
 * serve(pool, { port: 8787 });
 * @module
 */
import { getRequestListener } from "@hono/node-server";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createStorage, type Storage } from "unstorage";
import { PoolError } from "../src/errors.ts";
import type { Pool } from "../src/pool.ts";
import { atomicFsDriver } from "./fs_atomic.ts";
import { nodeHandler } from "./node_write.ts";

export { undiciFetch, type UndiciFetchOptions } from "./node_fetch.ts";
export { atomicFsDriver, type AtomicFsOptions, DURABLE_PREFIXES } from "./fs_atomic.ts";

/**
 * Filesystem storage under `dir` (created when missing). Writes are atomic (temporary file and
 * rename) and keys, tokens, users and the admin credential are fsync'ed: see {@link atomicFsDriver}.
 */
export function fsStorage(dir: string): Storage {
  return createStorage({ driver: atomicFsDriver({ base: dir }) });
}

/**
 * The client's IP on Node: the socket's address, or (behind one proxy you trust) the last
 * `x-forwarded-for` entry, the address that proxy saw. Pass as `createPool({ clientIp: nodeClientIp() })`.
 */
export function nodeClientIp(trustProxy = false): (request: Request, env: unknown) => string | undefined {
  return (request, env) => {
    if (trustProxy) {
      // The last entry is the one your proxy added; earlier ones came from the client and can be forged.
      const forwarded = request.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim();
      if (forwarded) return forwarded;
    }
    return (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
  };
}

/** Options of {@link serve}. */
export interface ServeOptions {
  /** @default 8787 */
  port?: number;
  /** @default "0.0.0.0" */
  hostname?: string;
  /**
   * How often background work (statistics flush, multi-instance sync) is checked for, also
   * without traffic; what is due is decided by the pool's own intervals.
   * @default 1000
   */
  tickMs?: number;
  /**
   * Flush and exit on SIGTERM/SIGINT.
   * @default true
   */
  handleSignals?: boolean;
  onListen?(info: AddressInfo): void;
}

/** A running server. */
export interface RunningServer {
  port: number;
  /** Stops accepting, flushes the pool, resolves when closed. */
  close(): Promise<void>;
}

/** Serves a pool with `@hono/node-server`. */
export async function serve(pool: Pool, options: ServeOptions = {}): Promise<RunningServer> {
  await pool.ready();
  // Requests Node accepts but that make no URL (a Host with a space, a backslash in the path)
  // never reach the pool; @hono/node-server's error handler answers them, OpenAI-shaped.
  const listener = getRequestListener(nodeHandler(pool.fetch), {
    errorHandler: () =>
      new PoolError(400, "invalid_request", "the request's target or Host header is not a valid URL").toResponse(),
  });
  const server = createServer(listener);
  // A port in use (EADDRINUSE) or not allowed (EACCES) rejects here instead of crashing the process.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8787, options.hostname ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  options.onListen?.(server.address() as AddressInfo);
  const timer = setInterval(() => pool.tick(), options.tickMs ?? 1000);
  timer.unref?.();
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await pool.close();
    })();
    return closing;
  };
  if (options.handleSignals ?? true) {
    const onSignal = (): void => {
      close().then(() => process.exit(0), () => process.exit(1));
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }
  return { port: (server.address() as AddressInfo).port, close };
}
