/**
 * A tiny JSON Schema checker for the subset the OpenAPI document uses ($ref, type lists, enum,
 * const, properties/required, items, additionalProperties, allOf/oneOf/anyOf). In strict mode a
 * property the schema does not name is an error unless the schema says `additionalProperties`,
 * so the tests also catch fields a route returns but the document does not describe.
 * @module
 */
type Obj = Record<string, unknown>;

/** Follows a JSON pointer `#/a/b` in the document. */
export function pointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let at: unknown = doc;
  for (const raw of ref.slice(2).split("/")) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (at === null || typeof at !== "object" || !(part in (at as Obj))) return undefined;
    at = (at as Obj)[part];
  }
  return at;
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Property names a schema describes (through allOf and $ref), or undefined when it is open. */
function known(doc: unknown, s: Obj): Set<string> | undefined {
  if (typeof s.$ref === "string") return known(doc, pointer(doc, s.$ref) as Obj);
  if (s.additionalProperties !== undefined) return undefined;
  const names = new Set(Object.keys((s.properties ?? {}) as Obj));
  for (const part of (s.allOf ?? []) as Obj[]) {
    const k = known(doc, part);
    if (!k) return undefined;
    for (const n of k) names.add(n);
  }
  return names;
}

/** Problems of `value` against `schema`; an empty list means it conforms. */
export function check(doc: unknown, schema: unknown, value: unknown, strict = true, at = "$"): string[] {
  const s = (schema ?? {}) as Obj;
  if (typeof s.$ref === "string") {
    const target = pointer(doc, s.$ref);
    if (target === undefined) return [`${at}: unresolved ${s.$ref}`];
    return check(doc, target, value, strict, at);
  }
  const errs: string[] = [];
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    const actual = typeOf(value);
    if (!types.includes(actual) && !(actual === "integer" && types.includes("number"))) {
      return [`${at}: expected ${types.join("|")}, got ${actual}`];
    }
  }
  if ("const" in s && JSON.stringify(s.const) !== JSON.stringify(value)) {
    errs.push(`${at}: expected ${JSON.stringify(s.const)}`);
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errs.push(`${at}: ${JSON.stringify(value)} not in enum`);
  }
  for (const part of (s.allOf ?? []) as Obj[]) errs.push(...check(doc, part, value, false, at));
  if (Array.isArray(s.anyOf) && !s.anyOf.some((x) => check(doc, x, value, strict, at).length === 0)) {
    errs.push(`${at}: matches no anyOf branch`);
  }
  if (Array.isArray(s.oneOf)) {
    const matches = s.oneOf.filter((x) => check(doc, x, value, strict, at).length === 0).length;
    if (matches !== 1) errs.push(`${at}: matches ${matches} oneOf branches`);
  }
  if (Array.isArray(value) && s.items) {
    value.forEach((v, i) => errs.push(...check(doc, s.items, v, strict, `${at}[${i}]`)));
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const o = value as Obj;
    for (const r of (s.required ?? []) as string[]) if (!(r in o)) errs.push(`${at}: missing required '${r}'`);
    const props = (s.properties ?? {}) as Obj;
    for (const [k, v] of Object.entries(o)) {
      if (k in props) errs.push(...check(doc, props[k], v, strict, `${at}.${k}`));
      else if (typeof s.additionalProperties === "object") {
        errs.push(...check(doc, s.additionalProperties, v, strict, `${at}.${k}`));
      }
    }
    const names = strict && (s.properties || s.allOf) ? known(doc, s) : undefined;
    if (names) { for (const k of Object.keys(o)) if (!names.has(k)) errs.push(`${at}: undocumented property '${k}'`); }
  }
  return errs;
}
