/**
 * The documents hold together: every relative link and `#anchor` in README.md and docs/*.md
 * leads somewhere (the file or folder exists; the heading exists, named by GitHub's slug rules),
 * the scripts, tasks and files their commands name exist, and code cites only documents that are
 * in the repository — a comment that sends the reader to a document nobody can open sends them
 * nowhere. (The samples below spell their names as `${name}.md`, so this file does not cite them
 * itself.)
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Where code lives; each is searched for the documents it cites. */
const CODE_DIRS = ["src", "adapters", "examples", "tests", "bench", "bin"];
const CODE_FILE = /\.(ts|tsx|js|mjs|sh|toml)$/;

function files(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === "node_modules" || e.name.startsWith(".")) return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? files(path, pattern) : pattern.test(e.name) ? [path] : [];
  });
}

const DOCUMENTS = ["README.md", ...files(join(ROOT, "docs"), /\.md$/).map((f) => relative(ROOT, f))];

/**
 * A heading's anchor as GitHub makes it: the heading's text without Markdown (code ticks, link
 * targets, emphasis), lower-cased, every character but letters, digits, `_`, `-` and spaces
 * removed, spaces made hyphens; a repeated anchor gets `-1`, `-2`, … in order.
 */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of proseLines(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/[`*]/g, "")
      .replace(/(^|\W)_+|_+(\W|$)/g, "$1$2");
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}_\- ]/gu, "").replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The lines outside fenced code blocks. */
function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown.split("\n").filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** Link targets of inline links `[text](target)`, outside code blocks and code spans. */
export function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(markdown)) {
    const prose = line.replace(/`[^`]*`/g, "code");
    for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) targets.push(m[1]);
  }
  return targets;
}

/** Why `target`, linked from the document `from` (relative to the repository), leads nowhere. */
function brokenLink(from: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto:: not ours to check
  const [path, anchor] = target.split("#", 2) as [string, string | undefined];
  const file = path === "" ? join(ROOT, from) : join(ROOT, dirname(from), decodeURIComponent(path));
  if (!existsSync(file)) return `${from}: ${target}: no such file`;
  if (anchor === undefined || !file.endsWith(".md")) return undefined;
  if (!anchors(readFileSync(file, "utf8")).has(decodeURIComponent(anchor))) {
    return `${from}: ${target}: no heading "#${anchor}" in ${relative(ROOT, file)}`;
  }
  return undefined;
}

/** Documents named in a source text: a name ending in `.md`, with the folders before it. */
export function citedDocuments(text: string): string[] {
  return [...new Set([...text.matchAll(/[\w./-]*\b[\w-]+\.md\b/g)].map((m) => m[0]))];
}

/** Whether a document cited by the code file `from` is in the repository. */
function documentExists(from: string, cited: string): boolean {
  const candidates = [join(dirname(from), cited), join(ROOT, cited)];
  if (!cited.includes("/")) candidates.push(join(ROOT, "docs", cited));
  return candidates.some((c) => existsSync(c));
}

/**
 * What the commands in a document name and must exist: `npm run X` (package.json scripts),
 * `deno task X` (deno.json tasks) and the file a `tsx` or `npx tsx` command runs.
 */
export function commandNeeds(markdown: string): { scripts: string[]; tasks: string[]; files: string[] } {
  const pick = (re: RegExp) => [...new Set([...markdown.matchAll(re)].map((m) => m[1]))];
  return {
    scripts: pick(/\bnpm run ([\w:-]+)/g),
    tasks: pick(/\bdeno task ([\w:-]+)/g),
    files: pick(/\btsx ((?:[\w.-]+\/)*[\w.-]+\.ts)\b/g),
  };
}

describe("documents", () => {
  it("finds anchors and links as GitHub does (the checks can fail)", () => {
    const md = (name: string) => `${name}.md`;
    const headings = "# A `code` title\n## Proxy (token: `Bearer sk-…`)\n## Dup\n## Dup\n```\n# not a heading\n```\n";
    assert.deepEqual([...anchors(headings)], ["a-code-title", "proxy-token-bearer-sk-", "dup", "dup-1"]);
    const links = `[x](${md("a")}#b) \`[y](${md("c")})\` [\`z\`](${md("d/e")} "t")\n\`\`\`\n[w](${md("f")})\n\`\`\``;
    assert.deepEqual(linkTargets(links), [`${md("a")}#b`, md("d/e")]);
    assert.ok(brokenLink("README.md", md("docs/NOPE")));
    assert.ok(brokenLink("README.md", "#no-such-heading"));
    assert.ok(brokenLink("README.md", "docs/ARCHITECTURE.md#no-such-heading"));
    assert.equal(brokenLink("README.md", "docs/ARCHITECTURE.md#architecture"), undefined);
    const outside = ["DESIGN", "TOOLCHAIN"].map(md);
    assert.deepEqual(citedDocuments(`// see ${outside[0]} §3 and ${outside[1]}; docs/ARCHITECTURE.md`), [
      ...outside,
      "docs/ARCHITECTURE.md",
    ]);
    assert.ok(!documentExists(join(ROOT, "src", "x.ts"), outside[0]));
    assert.ok(documentExists(join(ROOT, "src", "x.ts"), "ARCHITECTURE.md"));
  });

  it("every relative link and #anchor in README.md and docs/*.md resolves", () => {
    const broken: string[] = [];
    for (const doc of DOCUMENTS) {
      for (const target of linkTargets(readFileSync(join(ROOT, doc), "utf8"))) {
        const why = brokenLink(doc, target);
        if (why) broken.push(why);
      }
    }
    assert.deepEqual(broken, []);
  });

  it("the scripts, tasks and files the documents' commands name exist", () => {
    const scripts = Object.keys(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts);
    const tasks = Object.keys(JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")).tasks);
    const sample = commandNeeds("`npm run bench:soak` and `npx tsx bench/pick.ts`; `deno task start:deno`");
    assert.deepEqual(sample, { scripts: ["bench:soak"], tasks: ["start:deno"], files: ["bench/pick.ts"] });
    const missing: string[] = [];
    for (const doc of DOCUMENTS) {
      const needs = commandNeeds(readFileSync(join(ROOT, doc), "utf8"));
      for (const s of needs.scripts) if (!scripts.includes(s)) missing.push(`${doc}: npm run ${s}: no such script`);
      for (const t of needs.tasks) if (!tasks.includes(t)) missing.push(`${doc}: deno task ${t}: no such task`);
      for (const f of needs.files) if (!existsSync(join(ROOT, f))) missing.push(`${doc}: tsx ${f}: no such file`);
    }
    assert.deepEqual(missing, []);
  });

  it("code cites only documents that are in the repository", () => {
    const missing: string[] = [];
    for (const file of [join(ROOT, "mod.ts"), ...CODE_DIRS.flatMap((d) => files(join(ROOT, d), CODE_FILE))]) {
      for (const cited of citedDocuments(readFileSync(file, "utf8"))) {
        if (!documentExists(file, cited)) missing.push(`${relative(ROOT, file)}: ${cited}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
