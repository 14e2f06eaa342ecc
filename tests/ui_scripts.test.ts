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
};

/** The checker's findings for one script, as "line: message" with the offending source line. */
function typeErrors(name: string, source: string): string[] {
  const file = `/virtual/${name}`;
  const host = ts.createCompilerHost(OPTIONS);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => f === file ? ts.createSourceFile(f, source, lang) : read(f, lang, ...rest);
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
