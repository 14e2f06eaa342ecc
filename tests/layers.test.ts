/**
 * The import rule of docs/ARCHITECTURE.md, checked: `src/` runs unchanged on Node, Deno, Bun and
 * Workers, so it imports only its own modules (by relative `.ts` paths), Hono and unstorage's
 * core; and its modules import each other without cycles (a cycle makes evaluation order matter
 * and drags option parsing into modules that only wanted a type).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/**
 * Packages `src/` may import: web-standard code only. Hono's middleware and helpers are; its
 * runtime adapters (`hono/bun`, `hono/deno`, `hono/cloudflare-workers`, …) are not. ofetch (a
 * fetch wrapper on web APIs) serves the non-proxy upstream calls. `zod/mini` (zod's tree-shakable
 * build, no dependencies, plain ES code on every runtime; its built-in JSON Schema converter
 * writes /openapi.json) states the route contracts: one schema validates a request and documents
 * it. Only the contract modules of src/openapi/ may import it: it never runs on the proxy path.
 */
const ALLOWED =
  /^(hono(\/(?!bun|deno|cloudflare|aws-lambda|lambda-edge|vercel|netlify|service-worker)[\w/-]+)?|unstorage(\/drivers\/memory)?|ofetch|zod\/mini)$/;
// Import and re-export specifiers at the start of a line (not ones inside template strings).
const SPECIFIER = /^(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"|^import\s+"([^"]+)"/gm;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []
  );
}

/** Each module of src/ (path relative to the repository) and what it imports. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of sources(join(ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    const specs = [...text.matchAll(SPECIFIER)].map((m) => m[1] ?? m[2]);
    g.set(
      relative(ROOT, file),
      specs.map((s) => s.startsWith(".") ? relative(ROOT, normalize(join(dirname(file), s))) : s),
    );
  }
  return g;
}

describe("layers: the import rule of src/", () => {
  const g = graph();

  it("imports only src/ modules by .ts path, Hono, unstorage's core, ofetch, and zod/mini in src/openapi/", () => {
    const bad: string[] = [];
    for (const [file, specs] of g) {
      for (const s of specs) {
        const local = s.startsWith("src/");
        if (local ? !/\.tsx?$/.test(s) : !ALLOWED.test(s)) bad.push(`${file} imports ${s}`);
        if (s === "zod/mini" && !file.startsWith(join("src", "openapi"))) bad.push(`${file} imports ${s}`);
      }
    }
    assert.ok(g.size > 50, `found the sources (${g.size})`);
    assert.deepEqual(bad, []);
  });

  it("has no import cycles", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, path: string[]): void => {
      state.set(file, "open");
      for (const dep of g.get(file) ?? []) {
        if (!g.has(dep)) continue;
        if (state.get(dep) === "open") cycles.push([...path.slice(path.indexOf(dep)), dep].join(" -> "));
        else if (!state.has(dep)) visit(dep, [...path, dep]);
      }
      state.set(file, "done");
    };
    for (const file of g.keys()) if (!state.has(file)) visit(file, [file]);
    assert.deepEqual(cycles, []);
  });
});
