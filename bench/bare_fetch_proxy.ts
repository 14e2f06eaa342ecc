/**
 * The bare proxy of bench/runtimes.ts on Bun and Deno: the runtime's own server (`Bun.serve`,
 * `Deno.serve`) and its own `fetch` to the upstream, no logic at all. The pool runs on exactly
 * these two APIs there (examples/bun/server.ts, examples/deno/main.ts), so `pool / bare` on one
 * runtime isolates what the pool adds, as bench/bare_proxy.ts does for Node.
 *
 * `bun bench/bare_fetch_proxy.ts --target http://127.0.0.1:P [--port N]`, or the same with
 * `deno run -A`; prints its URL as the first line of stdout once it listens.
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";

// The two runtime APIs used here, typed locally: the project's tsc checks bench/ with Node's types.
type Handler = (request: Request) => Promise<Response>;
interface BunApi {
  serve(o: { port: number; hostname: string; idleTimeout: number; fetch: Handler }): { port: number };
}
interface DenoApi {
  serve(o: { port: number; hostname: string; onListen(addr: { port: number }): void }, handler: Handler): unknown;
}
const runtime = globalThis as unknown as { Bun?: BunApi; Deno?: DenoApi };

const { values } = parseArgs({ options: { target: { type: "string" }, port: { type: "string" } } });
if (!values.target) {
  console.error("usage: bare_fetch_proxy.ts --target http://127.0.0.1:PORT [--port N]");
  process.exit(2);
}
const target = new URL(values.target).origin;
const upstreamErrors = new Map<string, number>();

async function forward(request: Request): Promise<Response> {
  const { pathname, search } = new URL(request.url);
  const headers = new Headers(request.headers);
  headers.delete("host"); // fetch sets the upstream's own
  try {
    return await fetch(`${target}${pathname}${search}`, {
      method: request.method,
      headers,
      // Read whole, as the pool does, so the upstream gets the client's content-length instead
      // of a chunked body (the mock and the Node bare proxy see the same framing).
      body: request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer(),
      redirect: "manual",
    });
  } catch (err) {
    // Errors must show up in the benchmark as non-2xx, not end the baseline; the first of each
    // kind goes to stderr so the benchmark can say why.
    const why = (err as Error).name + ": " + (err as Error).message;
    const n = (upstreamErrors.get(why) ?? 0) + 1;
    upstreamErrors.set(why, n);
    if (n === 1) console.error(`bare_fetch_proxy: upstream error ${why}`);
    return new Response("bad gateway", { status: 502 });
  }
}

const port = Number(values.port ?? 0);
const hostname = "127.0.0.1";
if (runtime.Bun) {
  // The same idle timeout as examples/bun/server.ts (Bun's default of 10 s cuts slow streams).
  const server = runtime.Bun.serve({ port, hostname, idleTimeout: 255, fetch: forward });
  console.log(`http://${hostname}:${server.port}`);
} else if (runtime.Deno) {
  runtime.Deno.serve({ port, hostname, onListen: (addr) => console.log(`http://${hostname}:${addr.port}`) }, forward);
} else {
  console.error("bare_fetch_proxy.ts runs on Bun or Deno; Node's bare proxy is bench/bare_proxy.ts");
  process.exit(2);
}
