/**
 * The shape a stored client-token record must have before the pool uses it. Token records arrive
 * from imports, other programs and hand edits as well as from this pool; one whose
 * `allowedModels` was a string made every request with that token a 500.
 * @module
 */
import type { TokenRecord } from "./types.ts";

/** Most model patterns a token may hold, and the longest: the bounds the admin routes accept. */
const MAX_MODELS = 200;
const MAX_MODEL_PATTERN = 200;

const optional = (v: unknown, ok: (v: unknown) => boolean): boolean => v === undefined || v === null || ok(v);
const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
/** An epoch-ms time a Date can hold. */
const time = (v: unknown): boolean => typeof v === "number" && Number.isFinite(new Date(v).getTime());

/** Why `value`, read from storage, is not a usable token record, or undefined when it is. */
export function storedTokenProblem(value: Record<string, unknown>): string | undefined {
  const rec = value as Partial<Record<keyof TokenRecord, unknown>>;
  if (typeof rec.id !== "string" || rec.id === "") return "no id";
  if (typeof rec.hash !== "string" || rec.hash === "") return "no hash";
  if (typeof rec.name !== "string" || typeof rec.hint !== "string") return "its name or hint is not text";
  if (!time(rec.createdAt) || !optional(rec.expiresAt, time)) return "a time that is no time";
  const models = rec.allowedModels;
  if (
    !optional(models, (m) =>
      Array.isArray(m) && m.length <= MAX_MODELS &&
      m.every((p) => typeof p === "string" && p.length > 0 && p.length <= MAX_MODEL_PATTERN))
  ) return "allowedModels is not a list of model names";
  if (!optional(rec.rpm, count) || !optional(rec.tpm, count) || !optional(rec.quota, count)) {
    return "a limit that is not a whole number";
  }
  if (!optional(rec.userId, (u) => typeof u === "string")) return "its userId is not text";
  if (!optional(rec.disabled, (d) => typeof d === "boolean")) return "disabled is not true or false";
  return undefined;
}
