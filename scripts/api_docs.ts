/**
 * docs/API.md's reference part, written from the OpenAPI document the pool serves (route
 * contracts, pages, and the proxy routes of the default providers, Ollama and OpenRouter, with
 * the user system on). `npm run docs:api` rewrites it; tests/api_docs.test.ts fails while the
 * file differs from what this writes. Text outside the markers is written by hand.
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { ollama } from "../src/providers/ollama.ts";
import { openrouter } from "../src/providers/openrouter.ts";
import { buildOpenApi, type OpenApiDocument } from "../src/openapi/document.ts";
import { phrase } from "../src/openapi/contract.ts";

type Obj = Record<string, unknown>;

/** Where the generated part of docs/API.md starts and ends. */
export const BEGIN = "<!-- BEGIN GENERATED: npm run docs:api writes from here to END; edit src/openapi/ instead -->";
export const END = "<!-- END GENERATED -->";

/** The file the reference lives in. */
export const API_MD: string = fileURLToPath(new URL("../docs/API.md", import.meta.url));

const METHODS = ["get", "post", "put", "patch", "delete"];
const AUTH: Record<string, string> = {
  adminToken: "admin token",
  adminSession: "dashboard session",
  clientToken: "client token",
  clientApiKey: "client token as `x-api-key`",
  userSession: "user session",
};

/** A table cell: one line, pipes escaped. */
const cell = (s: string): string => s.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
const anchor = (name: string): string => `#${name.toLowerCase()}`;
const refName = (ref: string): string => ref.split("/").pop()!;

/** A schema's type in words; a component is a link to its shape. */
function typeOf(s: Obj | undefined): string {
  if (!s) return "any";
  if (typeof s.$ref === "string") return `[${refName(s.$ref)}](${anchor(refName(s.$ref))})`;
  if (s.type === "array" && s.items && typeof (s.items as Obj).$ref === "string") {
    const name = refName((s.items as Obj).$ref as string);
    return `a list of [${name}](${anchor(name)})`;
  }
  const alternatives = (s.anyOf ?? s.oneOf) as Obj[] | undefined;
  if (alternatives?.some((a) => typeof a.$ref === "string")) return alternatives.map(typeOf).join(" or ");
  if (Array.isArray(s.allOf)) return (s.allOf as Obj[]).map(typeOf).join(" and ");
  if (Array.isArray(s.type)) return s.type.map((t) => typeOf({ ...s, type: t })).join(" or ");
  if (s.type === "object" && s.properties) return `an object: ${shape(s, 1)}`;
  return phrase(s);
}

/** An answer's shape in one line: `{a, b: [{c, d}], e}`, two levels deep. */
function shape(s: Obj | undefined, depth = 2): string {
  if (!s) return "";
  if (typeof s.$ref === "string") return `[${refName(s.$ref)}](${anchor(refName(s.$ref))})`;
  const alternatives = (s.oneOf ?? s.anyOf) as Obj[] | undefined;
  if (alternatives) return alternatives.map((a) => shape(a, depth)).join(" or ");
  if (Array.isArray(s.allOf)) return (s.allOf as Obj[]).map((a) => shape(a, depth)).join(" + ");
  if (s.type === "array") return `[${shape(s.items as Obj, depth)}]`;
  if (s.properties) {
    if (depth === 0) return "{…}";
    const fields = Object.entries(s.properties as Record<string, Obj>).map(([k, v]) => {
      const inner = v.$ref || v.properties || v.type === "array" || v.allOf || v.oneOf ? shape(v, depth - 1) : "";
      return inner && inner !== "{…}" ? `${k}: ${inner}` : k;
    });
    return `{${fields.join(", ")}}`;
  }
  if ("const" in s) return JSON.stringify(s.const);
  return typeof s.type === "string" ? s.type : "…";
}

function resolve(doc: OpenApiDocument, s: Obj): Obj {
  if (typeof s.$ref !== "string") return s;
  let v: unknown = doc;
  for (const part of s.$ref.slice(2).split("/")) v = (v as Obj)[part];
  return v as Obj;
}

function operation(doc: OpenApiDocument, method: string, path: string, op: Obj): string[] {
  const lines = [`### \`${method.toUpperCase()} ${path}\``, "", cell(String(op.summary)) + ".", ""];
  if (op.description) lines.push(String(op.description), "");
  const schemes = (op.security as Array<Record<string, unknown>>).flatMap((r) => Object.keys(r));
  lines.push(`Credential: ${schemes.length ? schemes.map((s) => AUTH[s] ?? s).join(" or ") : "none"}.`, "");
  const params = ((op.parameters ?? []) as Obj[]).map((p) => resolve(doc, p));
  if (params.length) {
    lines.push("| Parameter | In | Value | Default | Meaning |", "|---|---|---|---|---|");
    for (const p of params) {
      const s = p.schema as Obj;
      const def = s.default ?? (resolve(doc, s).default as unknown);
      lines.push(
        `| \`${p.name}\` | ${p.in} | ${cell(typeOf(s))} | ${def === undefined ? "" : `\`${JSON.stringify(def)}\``} | ${
          cell(String(p.description ?? ""))
        } |`,
      );
    }
    lines.push("");
  }
  const body = op.requestBody as Obj | undefined;
  if (body) {
    const content = body.content as Record<string, Obj>;
    const media = content["application/json"];
    lines.push(
      `Body${body.required === false ? " (optional)" : ""}: ${
        Object.keys(content).map((m) => `\`${m}\``).join(" or ")
      }` +
        (body.description ? `. ${body.description}` : ""),
      "",
    );
    const schema = media && resolve(doc, media.schema as Obj);
    if (schema?.properties) {
      const required = new Set((schema.required ?? []) as string[]);
      lines.push("| Field | Value | Required | Meaning |", "|---|---|---|---|");
      for (const [name, raw] of Object.entries(schema.properties as Record<string, Obj>)) {
        const s = raw;
        const def = s.default;
        const meaning = [s.description, def === undefined ? "" : `Default \`${JSON.stringify(def)}\`.`]
          .filter(Boolean).join(" ");
        lines.push(`| \`${name}\` | ${cell(typeOf(s))} | ${required.has(name) ? "yes" : ""} | ${cell(meaning)} |`);
      }
      lines.push("");
    }
    if (media?.example !== undefined) lines.push(`Example: \`${JSON.stringify(media.example)}\``, "");
  }
  const answers: string[] = [];
  const errors: string[] = [];
  for (const [status, raw] of Object.entries(op.responses as Record<string, Obj>)) {
    if (typeof raw.$ref === "string") {
      errors.push(status);
      continue;
    }
    const content = raw.content as Record<string, Obj> | undefined;
    const kinds = Object.entries(content ?? {}).map(([m, c]) =>
      m === "application/json" ? shape(c.schema as Obj) : `\`${m}\``
    );
    answers.push(`- ${status}: ${cell(String(raw.description))}${kinds.length ? ` ${kinds.join("; ")}` : ""}`);
  }
  lines.push(...answers);
  if (errors.length) lines.push(`- Errors: ${errors.join(", ")} (see [Errors](#errors)).`);
  lines.push("");
  return lines;
}

/** The generated reference: operations by tag, then the shapes they refer to. */
export function apiReference(): string {
  const doc = buildOpenApi([ollama(), openrouter()], "", { users: true });
  const out: string[] = [BEGIN, ""];
  for (const tag of doc.tags) {
    out.push(`## ${tag.name}`, "");
    if (tag.description) out.push(tag.description, "");
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (op && (op.tags as string[])[0] === tag.name) out.push(...operation(doc, method, path, op));
      }
    }
  }
  out.push("## Shapes", "", "The objects the operations above refer to.", "");
  for (const [name, raw] of Object.entries(doc.components.schemas as Record<string, Obj>)) {
    out.push(`### ${name}`, "");
    if (raw.description) out.push(String(raw.description), "");
    const props = raw.properties as Record<string, Obj> | undefined;
    if (props) {
      const required = new Set((raw.required ?? []) as string[]);
      out.push("| Field | Value | Always | Meaning |", "|---|---|---|---|");
      for (const [field, s] of Object.entries(props)) {
        out.push(
          `| \`${field}\` | ${cell(typeOf(s))} | ${required.has(field) ? "yes" : ""} | ${
            cell(String(s.description ?? ""))
          } |`,
        );
      }
    } else {
      out.push(cell(typeOf(raw)));
    }
    out.push("");
  }
  out.push(END);
  return out.join("\n") + "\n";
}

/** docs/API.md with its generated part replaced by {@link apiReference}. */
export function withReference(text: string): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/API.md lacks the markers ${BEGIN} … ${END}`);
  return text.slice(0, start) + apiReference() + text.slice(end + END.length).replace(/^\n/, "");
}

/** Rewrites docs/API.md; answers whether it changed. */
export async function writeApiDocs(): Promise<boolean> {
  const before = await readFile(API_MD, "utf8");
  const after = withReference(before);
  if (after !== before) await writeFile(API_MD, after);
  return after !== before;
}
