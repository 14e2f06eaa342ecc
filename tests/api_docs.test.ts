/**
 * docs/API.md is what `npm run docs:api` writes from the OpenAPI document: a route, field or
 * limit changed in a contract and not regenerated fails here, so the reference cannot drift.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { API_MD, apiReference, BEGIN, END, withReference } from "../scripts/api_docs.ts";
import { buildOpenApi } from "../src/openapi/document.ts";
import { ollama } from "../src/providers/ollama.ts";
import { openrouter } from "../src/providers/openrouter.ts";

describe("docs/API.md", () => {
  it("is up to date with the document (run `npm run docs:api` after changing a contract)", async () => {
    const text = await readFile(API_MD, "utf8");
    assert.ok(text.includes(BEGIN) && text.includes(END), "the generated part's markers are in place");
    assert.equal(text, withReference(text), "docs/API.md differs from what `npm run docs:api` writes");
  });

  it("names every operation of the document, and the generator is not blind to a change", () => {
    const reference = apiReference();
    const doc = buildOpenApi([ollama(), openrouter()], "", { users: true });
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        assert.ok(reference.includes(`### \`${method.toUpperCase()} ${path}\``), `${method} ${path} is missing`);
      }
    }
    // A limit declared in a contract shows in the reference in the words the 400 uses.
    assert.match(reference, /\| `ttl` \| an integer of at least 1, or null \|/);
    assert.match(reference, /\| `pageSize` \| query \| an integer from 1 to 200 \| `50` \|/);
  });
});
