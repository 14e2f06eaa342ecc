#!/usr/bin/env node
// `npx ollama-api-pool`: tsc cannot emit a shebang into dist/adapters/cli.js, so this
// hand-written entry carries it and runs the compiled CLI. In a clone of the repository (the
// sources are there; the package ships only dist/) it runs the TypeScript sources through tsx, a
// dev dependency: dist/ may be missing or older than the sources there.
import { existsSync } from "node:fs";

const sources = new URL("../adapters/cli.ts", import.meta.url);
if (existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(sources.href);
} else {
  await import(new URL("../dist/adapters/cli.js", import.meta.url).href);
}
