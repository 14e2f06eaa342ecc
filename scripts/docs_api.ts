/** `npm run docs:api`: rewrites the generated reference in docs/API.md from the OpenAPI document. */
import { writeApiDocs } from "./api_docs.ts";

console.log(await writeApiDocs() ? "docs/API.md rewritten" : "docs/API.md is up to date");
