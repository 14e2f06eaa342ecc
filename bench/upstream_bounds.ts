/**
 * What huge upstream answers cost the stand-alone server: its peak RSS (Linux VmHWM) while it
 * proxies 4 concurrent 100 MB non-stream answers, and one 600 KB gzip answer that inflates to
 * 600 MB. Each scenario gets a fresh server (VmHWM is a lifetime peak). With MAX_RESPONSE_BYTES
 * (default 32 MiB) both end in 502s and the peak stays near 4 × the bound; without it the pool
 * buffered every byte. `npx tsx bench/upstream_bounds.ts` (Linux only: reads /proc).
 * @module
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { createGzip } from "node:zlib";
import { spawnServer } from "../tests/helpers/spawn.ts";

const MB = 1 << 20;
const ADMIN = "bench-admin-token-0123456789";

/** 600 MB of zeros, gzipped as a stream (the bench itself never holds the 600 MB). */
async function gzipBomb(mb: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gz.on("data", (b: Buffer) => parts.push(b));
  const zeros = Buffer.alloc(MB, 0x30);
  for (let i = 0; i < mb; i++) if (!gz.write(zeros)) await new Promise((r) => gz.once("drain", r));
  await new Promise((r) => gz.end(r));
  return Buffer.concat(parts);
}

const bomb = await gzipBomb(600);
const piece = Buffer.alloc(MB, 0x61);
const upstream = createServer((req, res) => {
  req.resume();
  if ((req.headers.authorization ?? "").includes("bomb")) {
    res.writeHead(200, {
      "content-type": "application/json",
      "content-encoding": "gzip",
      "content-length": bomb.length,
    });
    return void res.end(bomb);
  }
  res.writeHead(200, { "content-type": "application/json" }); // chunked, 100 MB
  res.write('{"id":"x","object":"chat.completion","pad":"');
  let sent = 0;
  const more = (): void => {
    while (sent < 100) {
      sent++;
      if (!res.write(piece)) return void res.once("drain", more);
    }
    res.end('","usage":{"prompt_tokens":1,"completion_tokens":1}}');
  };
  more();
});
await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

const kib = (pid: number, field: string): number =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

async function scenario(name: string, key: string, concurrent: number): Promise<void> {
  const server = await spawnServer("node", [
    "--import",
    "tsx",
    "adapters/cli.ts",
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--storage",
    "memory:",
  ], {
    env: { ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: upstreamUrl },
  });
  try {
    const post = (path: string, body: unknown, token = ADMIN) =>
      fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    await (await post("/admin/api-keys/import", { keys: [key] })).text();
    const { token } = await (await post("/admin/tokens", { name: "bench" })).json();
    const before = kib(server.pid, "VmRSS");
    const t0 = performance.now();
    const answers = await Promise.all(Array.from({ length: concurrent }, async () => {
      const res = await post("/v1/chat/completions", { model: "m", messages: [] }, token);
      const bytes = (await res.arrayBuffer()).byteLength;
      return `${res.status} (${bytes > MB ? `${(bytes / MB).toFixed(0)} MB` : `${bytes} B`})`;
    }));
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `${name}: ${answers.join(", ")}; RSS ${(before / 1024).toFixed(0)} MB before, peak ${
        (kib(server.pid, "VmHWM") / 1024).toFixed(0)
      } MB; ${seconds.toFixed(1)} s`,
    );
  } finally {
    await server.stop();
  }
}

console.log(
  `${os.cpus().length} × ${os.cpus()[0]?.model}, ${
    (os.totalmem() / 2 ** 30).toFixed(0)
  } GiB, Node ${process.version}; MAX_RESPONSE_BYTES ${process.env.MAX_RESPONSE_BYTES ?? "default"}`,
);
try {
  await scenario("4 × 100 MB non-stream answers", "sk-bench-big-0001", 4);
  await scenario(`one ${(bomb.length / 1024).toFixed(0)} KB gzip answer inflating to 600 MB`, "sk-bench-bomb-001", 1);
} finally {
  upstream.closeAllConnections();
  upstream.close();
}
