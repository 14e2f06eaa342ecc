#!/usr/bin/env node
// `npx ollama-api-pool`: tsc cannot emit a shebang into dist/adapters/cli.js, so this
// hand-written entry carries it and runs the compiled CLI.
import "../dist/adapters/cli.js";
