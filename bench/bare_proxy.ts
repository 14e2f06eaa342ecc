/**
 * The baseline of the overhead benchmark: a reverse proxy with no logic at all, only
 * `node:http` in and `http.request` out over a keep-alive Agent, bodies piped both ways.
 * Nothing a Node proxy does can be cheaper, so `pool / bare` isolates what the pool adds.
 *
 * `node --import tsx bench/bare_proxy.ts --target http://127.0.0.1:P [--port N] [--host H] [--max-sockets N]`
 * prints its URL as the first line of stdout once it listens.
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

/** Options of {@link startBareProxy}. */
export interface BareProxyOptions {
  /** Upstream origin, e.g. `http://127.0.0.1:4000`. */
  target: string;
  /** @default 0 (a free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** Keep-alive sockets to the upstream; large so the pool of sockets is never the limit. @default 256 */
  maxSockets?: number;
}

/** A running bare proxy. */
export interface BareProxy {
  url: string;
  close(): Promise<void>;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and must not be forwarded;
// Node would otherwise e.g. forward the client's `connection: close` to the pooled upstream socket.
const HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
}

/** Starts the proxy; resolves once it listens. */
export async function startBareProxy(options: BareProxyOptions): Promise<BareProxy> {
  const target = new URL(options.target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 });

  const upstreamErrors = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const headers = endToEnd(req.headers);
    headers.host = target.host;
    let clientGone = false;
    const up = http.request(
      { agent, hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, endToEnd(upRes.headers));
        upRes.pipe(res);
      },
    );
    up.on("error", (err: NodeJS.ErrnoException) => {
      // Errors must show up in the benchmark as non-2xx / resets, not crash the baseline; the
      // first of each kind goes to stderr so a benchmark can say why (the error path only).
      if (clientGone) return; // our own destroy() below, not an upstream failure
      const code = err.code ?? err.message;
      const n = (upstreamErrors.get(code) ?? 0) + 1;
      upstreamErrors.set(code, n);
      if (n === 1) console.error(`bare_proxy: upstream error ${code} (reused socket: ${up.reusedSocket})`);
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end("bad gateway");
      else res.destroy();
    });
    // A client that goes away mid-response must release the upstream socket.
    res.on("close", () => {
      if (res.writableFinished) return;
      clientGone = true;
      up.destroy();
    });
    req.pipe(up);
  });
  // Benchmarks keep connections open between bursts; Node's 5 s default would drop them.
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}

// Run as a process only when this file is the entry point (importing it starts nothing).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      target: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      "max-sockets": { type: "string" },
    },
  });
  if (!values.target) {
    console.error("usage: bare_proxy.ts --target http://127.0.0.1:PORT [--port N] [--host H]");
    process.exit(2);
  }
  const maxSockets = values["max-sockets"] === undefined ? undefined : Number(values["max-sockets"]);
  const proxy = await startBareProxy({
    target: values.target,
    port: Number(values.port ?? 0),
    host: values.host,
    maxSockets,
  });
  console.log(proxy.url);
  const stop = (): void => void proxy.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
