/**
 * Request fields several contracts share, as zod schemas: paging, the key placement, a key's id,
 * the key states. A field's description travels with it into the document.
 * @module
 */
import * as z from "zod/mini";
import { type KeyRecord, PRIORITY_RANGE, WEIGHT_RANGE } from "../keys/types.ts";
import type { UserRecord } from "../users/types.ts";

/** `page` (from 1) and `pageSize` (1 to `max`, default `size`). */
export function paging(size: number, max: number) {
  return {
    page: z._default(z.int().check(z.minimum(1), z.maximum(1_000_000), z.describe("Page number, from 1.")), 1),
    pageSize: z._default(
      z.int().check(z.minimum(1), z.maximum(max), z.describe(`Items per page, 1 to ${max}.`)),
      size,
    ),
  };
}

/** Error codes of the paging parameters. */
export const PAGING_CODES: Record<string, string> = {
  page: "invalid_paging",
  pageSize: "invalid_paging",
  limit: "invalid_paging",
};

/** An optional whole number from `min` to `max`. */
export function optionalInt(min: number, max: number | undefined, description: string) {
  const checks = max === undefined
    ? [z.minimum(min), z.describe(description)]
    : [z.minimum(min), z.maximum(max), z.describe(description)];
  return z.optional(z.int().check(...checks));
}

/** Every state a key can be in; the document's `KeyState` lists these. */
export const KEY_STATES: ReadonlyArray<KeyRecord["state"]> = ["active", "cooling", "disabled"];

/** The roles a self-service user can have. */
export const USER_ROLES: ReadonlyArray<UserRecord["role"]> = ["user", "admin"];

/** The state of a key, as a component of the document. */
export const keyState = () =>
  z.enum(KEY_STATES as [KeyRecord["state"], ...KeyRecord["state"][]]).check(
    z.meta({ "x-ref": "KeyState", description: "A key's state." }),
  );

/** `priority` and `weight`, as every route that sets them accepts them. */
export const placement = () => ({
  priority: z.optional(
    z.int().check(
      z.minimum(PRIORITY_RANGE.min),
      z.maximum(PRIORITY_RANGE.max),
      z.meta({
        default: 0,
        description: "Tier: keys of a lower priority get requests only while no key of a higher one is ready.",
      }),
    ),
  ),
  weight: z.optional(
    z.int().check(
      z.minimum(WEIGHT_RANGE.min),
      z.maximum(WEIGHT_RANGE.max),
      z.meta({ default: 1, description: "Share of its tier's requests, relative to the tier's other keys." }),
    ),
  ),
});

/**
 * Most ids (or keys) in one request's list. Every list of a contract needs a bound: a list over it
 * is refused before its items are looked at, while an unbounded one is checked item by item, and a
 * body of a million wrong items made a million validation issues (a stack overflow, a 500).
 */
export const MAX_ID_LIST = 10_000;

/** A non-empty string (trimmed) with a description. */
export const text = (description: string, max?: number) =>
  z.string().check(z.trim(), z.minLength(1), ...(max === undefined ? [] : [z.maxLength(max)]), z.describe(description));

/** A key id, or the key itself. */
export const idOrKey = () => text("Key id, or the key itself.");
