/**
 * The API docs page, rendered from the OpenAPI document itself (so the page and
 * `/openapi.json` cannot disagree): operations grouped by tag, each a `<details>` with auth,
 * parameters, body and responses. No script; every string is escaped by JSX.
 * @module
 */
import type { Child } from "hono/jsx";
import type { OpenApiDocument } from "../../openapi/document.ts";
import { Layout } from "../layout.tsx";

type Obj = Record<string, unknown>;
type Op = Obj & {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security: Array<Record<string, string[]>>;
};

const pretty = (v: unknown): string => JSON.stringify(v, null, 2);
const refName = (ref: string): string => ref.slice(ref.lastIndexOf("/") + 1);

/** Follows a local `$ref` (`#/components/...`) one step; anything else comes back as is. */
function resolve(doc: OpenApiDocument, v: unknown): Obj {
  const ref = (v as Obj | undefined)?.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/")) return (v ?? {}) as Obj;
  let at: unknown = doc;
  for (const part of ref.slice(2).split("/")) at = (at as Obj | undefined)?.[part];
  return (at ?? {}) as Obj;
}

/** Names of the component schemas a schema refers to, for links below it. */
function schemaRefs(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) { for (const x of v) schemaRefs(x, out); }
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "$ref" && typeof x === "string" && x.startsWith("#/components/schemas/")) out.add(refName(x));
      else schemaRefs(x, out);
    }
  }
  return out;
}

/** A one-line type, e.g. `integer (1–200, default 50)` or `"active" | "cooling"`. */
export function typeSummary(s: Obj): string {
  if (typeof s.$ref === "string") {
    return refName(s.$ref) + (s.default !== undefined ? ` (default ${JSON.stringify(s.default)})` : "");
  }
  if (Array.isArray(s.enum)) return s.enum.map((x) => JSON.stringify(x)).join(" | ");
  let type = Array.isArray(s.type) ? s.type.join(" | ") : String(s.type ?? "any");
  if (type === "array" && s.items) type = `${typeSummary(s.items as Obj)}[]`;
  const notes = [
    s.minimum !== undefined || s.maximum !== undefined ? `${s.minimum ?? ""}–${s.maximum ?? ""}` : "",
    s.default !== undefined ? `default ${JSON.stringify(s.default)}` : "",
  ].filter(Boolean);
  return notes.length ? `${type} (${notes.join(", ")})` : type;
}

/** Description text with its `code spans` as <code> (the only Markdown the descriptors use). */
const Text = (p: { text: unknown }): Child => (
  <>{String(p.text ?? "").split("`").map((part, i) => (i % 2 ? <code>{part}</code> : part))}</>
);

const SchemaLinks = (p: { schema: unknown }): Child => {
  const names = [...schemaRefs(p.schema)];
  if (names.length === 0) return null;
  return (
    <p class="muted">
      See {names.map((n, i) => (
        <>
          {i ? ", " : ""}
          <a href={`#schema-${n}`}>{n}</a>
        </>
      ))}
    </p>
  );
};

/** A body: per media type, its example (when given) and its schema. */
const Content = (p: { content: Obj }): Child => (
  <>
    {Object.entries(p.content).map(([type, media]) => {
      const m = media as Obj;
      return (
        <div>
          <p>
            <code>{type}</code>
          </p>
          {m.example !== undefined ? <pre>{pretty(m.example)}</pre> : null}
          <details>
            <summary>Schema</summary>
            <pre>{pretty(m.schema)}</pre>
          </details>
          <SchemaLinks schema={m.schema} />
        </div>
      );
    })}
  </>
);

function authLabel(doc: OpenApiDocument, security: Op["security"]): string {
  if (security.length === 0) return "none (public)";
  const schemes = doc.components.securitySchemes as Record<string, Obj>;
  return security.flatMap((req) => Object.keys(req)).map((name) => {
    const s = schemes[name];
    const how = s.type === "http" ? `Authorization: Bearer` : `${s.in} ${s.name}`;
    return `${name} (${how})`;
  }).join(" or ");
}

function Operation(p: { doc: OpenApiDocument; method: string; path: string; op: Op }): Child {
  const { doc, op } = p;
  const params = ((op.parameters ?? []) as unknown[]).map((x) => resolve(p.doc, x));
  const body = op.requestBody as Obj | undefined;
  return (
    <details id={`op-${op.operationId}`}>
      <summary>
        <span class="method">{p.method.toUpperCase()}</span> <code class="path">{p.path}</code>{" "}
        <span class="muted">{op.summary}</span>
      </summary>
      <div class="op">
        {op.description
          ? (
            <p>
              <Text text={op.description} />
            </p>
          )
          : null}
        <p>
          <strong>Auth:</strong> {authLabel(doc, op.security)}
        </p>
        {params.length
          ? (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Parameter</th>
                    <th>In</th>
                    <th>Type</th>
                    <th>Description</th>
                  </tr>
                </thead>
                <tbody>
                  {params.map((q) => (
                    <tr>
                      <td>
                        <code>{String(q.name)}</code>
                        {q.required ? " *" : ""}
                      </td>
                      <td>{String(q.in)}</td>
                      <td>
                        <code>{typeSummary(q.schema as Obj)}</code>
                      </td>
                      <td>
                        <Text text={q.description} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
          : null}
        {body
          ? (
            <>
              <h4>Request body{body.required ? "" : " (optional)"}</h4>
              <Content content={body.content as Obj} />
            </>
          )
          : null}
        <h4>Responses</h4>
        {Object.entries(op.responses as Obj).map(([status, r]) => {
          const res = resolve(doc, r);
          // Shared error responses are all the one error object: a line each, not its schema again.
          if (typeof (r as Obj).$ref === "string") {
            return (
              <p class="resp">
                <code>{status}</code> <Text text={res.description} /> <a href="#schema-Error">Error</a>
              </p>
            );
          }
          return (
            <details>
              <summary>
                <code>{status}</code> <Text text={res.description} />
              </summary>
              {res.content ? <Content content={res.content as Obj} /> : <p class="muted">No body.</p>}
            </details>
          );
        })}
      </div>
    </details>
  );
}

const tagId = (name: string): string => `tag-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;

export function ApiDocsPage(p: { base: string; doc: OpenApiDocument }): Child {
  const { doc } = p;
  const info = doc.info as Obj;
  const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op: op as Op }))
  );
  const schemas = doc.components.schemas as Record<string, unknown>;
  return (
    <Layout title="API docs" base={p.base}>
      <main class="docs">
        <h1>API</h1>
        <p>
          <Text text={info.description} />
        </p>
        <p>
          Paths are relative to <code>{p.base || "/"}</code>. Machine-readable:{" "}
          <a href={`${p.base}/openapi.json`}>openapi.json</a> (OpenAPI {doc.openapi}, version {String(info.version)}).
        </p>
        <nav class="row">
          {doc.tags.map((tag) => <a class="tag" href={`#${tagId(tag.name)}`}>{tag.name}</a>)}
          <a class="tag" href="#schemas">Schemas</a>
        </nav>
        {doc.tags.map((tag) => (
          <section id={tagId(tag.name)} class="card">
            <h2>{tag.name}</h2>
            {tag.description
              ? (
                <p class="muted">
                  <Text text={tag.description} />
                </p>
              )
              : null}
            {ops.filter((o) => o.op.tags[0] === tag.name).map((o) => (
              <Operation doc={doc} method={o.method} path={o.path} op={o.op} />
            ))}
          </section>
        ))}
        <section id="schemas" class="card">
          <h2>Schemas</h2>
          {Object.entries(schemas).map(([name, schema]) => (
            <details id={`schema-${name}`}>
              <summary>
                <code>{name}</code>
              </summary>
              <pre>{pretty(schema)}</pre>
              <SchemaLinks schema={schema} />
            </details>
          ))}
        </section>
      </main>
    </Layout>
  );
}
