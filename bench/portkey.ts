/**
 * The Portkey AI gateway (`@portkey-ai/gateway`, a devDependency) as a peer target of
 * bench/overhead.ts: another Node/Hono gateway doing the same job, for scale next to the pool.
 *
 * How it runs: the package's own Node entry `build/start-server.js` (its `start:node` script and
 * `bin`), `--port=N` (its only port flag; default 8787) and `--headless` (no console UI routes).
 * It listens without a host, i.e. on every interface, so bench/portkey_preload.ts (which loads
 * bench/loopback_guard.ts) binds it to 127.0.0.1 and refuses any outbound connection that is
 * not loopback; it also works around Portkey's streaming bug on Node (see that file).
 *
 * Outbound traffic: the open-source gateway has no telemetry; it calls out only to the provider
 * a request names and, when configured, to Portkey's hosted guardrails/files APIs or Redis
 * (REDIS_CONNECTION_STRING), cloud credential endpoints (AWS_*, AZURE_*) or a proxy
 * (HTTP(S)_PROXY). It therefore starts with an environment of PATH and HOME only, and
 * TRUSTED_CUSTOM_HOSTS=127.0.0.1 (its SSRF check then accepts only that custom host).
 *
 * Routing is per request, by headers (Portkey's documented "provider + custom host" mode):
 * `x-portkey-provider: openai` and `x-portkey-custom-host: <mock>/v1`; the `authorization`
 * header is passed on as the OpenAI key, so the mock sees the same key as direct and bare.
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { chatSpec } from "./common.ts";
import type { RequestSpec } from "./load.ts";
import { type Child, freePort, startChild } from "./procs.ts";

/** The gateway's Node entry, or undefined (with the reason) when the package is not installed. */
export function portkeyEntry(root: string): { file?: string; version?: string; why?: string } {
  try {
    const pkgJson = createRequire(join(root, "package.json")).resolve("@portkey-ai/gateway/package.json");
    const pkg = createRequire(pkgJson)(pkgJson) as { version: string; scripts?: Record<string, string> };
    // Its start:node script is "node build/start-server.js".
    return { file: relative(root, join(dirname(pkgJson), "build/start-server.js")), version: pkg.version };
  } catch (err) {
    return { why: `@portkey-ai/gateway is not installed (npm i): ${(err as Error).message.split("\n")[0]}` };
  }
}

/** Starts the gateway on a free loopback port; resolves once it printed its ready line. */
export async function startPortkey(root: string, file: string): Promise<Child> {
  const port = await freePort();
  const child = await startChild({
    name: "portkey",
    cwd: root,
    file,
    nodeArgs: ["--import", "./bench/portkey_preload.ts"],
    args: [`--port=${port}`, "--headless"],
    cleanEnv: true,
    env: { TRUSTED_CUSTOM_HOSTS: "127.0.0.1" },
    // It prints a 1 s spinner, then "Your AI Gateway is running at:" and the URL in ANSI colours.
    ready: /running at:[\s\S]*?(http:\/\/localhost:\d+)/,
    timeoutMs: 30_000,
  });
  // It announces "localhost"; the guard bound it to 127.0.0.1 (the only address we may use).
  return { ...child, url: child.url.replace("localhost", "127.0.0.1") };
}

/** The benchmark's chat request through Portkey, routed by headers to the mock. */
export function portkeySpec(base: string, mockUrl: string, upstreamKey: string, stream: boolean): RequestSpec {
  const spec = chatSpec(base, upstreamKey, stream);
  spec.headers = { ...spec.headers, "x-portkey-provider": "openai", "x-portkey-custom-host": `${mockUrl}/v1` };
  return spec;
}

/** Lines where the loopback guard refused a connection: any is a failed run. */
export function blockedConnections(child: Child): string[] {
  return child.stderr().split("\n").filter((l) => l.includes("loopback_guard: BLOCKED"));
}
