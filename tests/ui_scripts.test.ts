/**
 * The browser scripts the pool serves (src/ui/assets/*.ts hold them as JavaScript in template
 * strings) are type-checked like the rest: each served script, exactly as assembled, goes through
 * the TypeScript checker against the DOM's types. That catches a name one part uses and no part
 * defines, a misspelt DOM property, a wrong argument count. JSDoc `@type` casts in the scripts
 * say what the checker cannot infer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import ts from "typescript";
import { asset } from "../src/ui/assets.ts";

const OPTIONS: ts.CompilerOptions = {
  allowJs: true,
  checkJs: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
  types: [],
  // Plain browser JavaScript: implicit any is its nature; what is checked is names and shapes.
  strict: false,
  // The subject is the served scripts; TypeScript's own lib files need no checking each run.
  skipLibCheck: true,
};

/**
 * The parsed standard-library files (lib.dom.d.ts alone is ~1.5 MB), shared by every script's
 * program: parsing them is most of a check's time, and they never change during a run. Bounded
 * by the handful of lib files OPTIONS names.
 */
const libFiles = new Map<string, ts.SourceFile | undefined>();

/** The checker's findings for one script, as "line: message" with the offending source line. */
function typeErrors(name: string, source: string): string[] {
  const file = `/virtual/${name}`;
  const host = ts.createCompilerHost(OPTIONS);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => {
    if (f === file) return ts.createSourceFile(f, source, lang);
    if (!libFiles.has(f)) libFiles.set(f, read(f, lang, ...rest));
    return libFiles.get(f);
  };
  host.fileExists = ((exists) => (f: string) => f === file || exists(f))(host.fileExists.bind(host));
  const program = ts.createProgram([file], OPTIONS, host);
  const lines = source.split("\n");
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file || d.start === undefined) return text;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${name}:${line + 1}: ${text}\n    ${lines[line]?.trim()}`;
  });
}

describe("browser scripts type-check against the DOM", () => {
  for (const name of ["admin.js", "user.js"]) {
    it(name, { timeout: 60_000 }, () => {
      const served = asset(name);
      assert.ok(served, `${name} is served`);
      assert.deepEqual(typeErrors(name, served.body), []);
    });
  }

  it("finds a name no part defines (the check can fail)", () => {
    const errors = typeErrors(
      "broken.js",
      'const root = document.querySelector("main");\nroot.dataset.x = undefinedHelper(1);\n',
    );
    assert.ok(errors.some((e) => /Cannot find name 'undefinedHelper'/.test(e)), errors.join("\n"));
    assert.ok(errors.some((e) => /dataset/.test(e)), "Element has no dataset: the DOM types apply");
  });
});
