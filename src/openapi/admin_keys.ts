/** Contracts of the upstream-key routes (routes/admin_keys.ts). @module */
import * as z from "zod/mini";
import { MAX_LABEL_LENGTH } from "../keys/parse.ts";
import { type Contract, contract } from "./contract.ts";
import { idOrKey, keyState, MAX_ID_LIST, paging, PAGING_CODES, placement } from "./fields.ts";
import { obj, ok, ref, t } from "./types.ts";

const KEY_ALIASES = { apiKey: "id", api_key: "id" };
const TAG = "Admin: keys";

/** `GET /admin/api-keys`. */
export const LIST_KEYS = contract({
  method: "GET",
  path: "/admin/api-keys",
  operationId: "listApiKeys",
  tag: TAG,
  auth: "admin",
  provider: true,
  summary: "List keys (masked), paged and filtered",
  query: z.object({
    ...paging(50, 200),
    status: z.optional(keyState().check(z.describe("Only keys in this state."))),
    search: z.optional(
      z.string().check(z.maxLength(256), z.describe("Substring of the id or label, case-insensitive.")),
    ),
  }),
  codes: { ...PAGING_CODES, status: "invalid_status" },
  responses: ok(obj({
    provider: t.str(),
    api_keys: t.arr(ref("KeyView")),
    total: t.int("Matching keys."),
    page: t.int(),
    pageSize: t.int(),
    totalPages: t.int(),
  })),
});

/** `POST /admin/api-keys`. */
export const ADD_KEY = contract({
  method: "POST",
  path: "/admin/api-keys",
  operationId: "addApiKey",
  tag: TAG,
  auth: "admin",
  provider: true,
  summary: "Add one key",
  body: z.object({
    api_key: z.string().check(
      z.trim(),
      z.minLength(8),
      z.maxLength(512),
      z.regex(/^[\x21-\x7e]*$/),
      z.describe("The upstream key: printable ASCII without spaces."),
    ),
    username: z.optional(z.string().check(z.trim(), z.maxLength(MAX_LABEL_LENGTH), z.describe("Label."))),
    ttl: z.optional(z.nullable(z.int().check(z.minimum(1), z.describe("Seconds until the key expires.")))),
    ...placement(),
  }),
  aliases: { apiKey: "api_key", key: "api_key" },
  codes: { api_key: "invalid_key" },
  example: { api_key: "sk-upstream-key", username: "me@example.com", priority: 1, weight: 2 },
  responses: ok(obj({ success: { const: true }, message: t.str(), id: t.str(), provider: t.str() }), "Added", "201"),
  errors: [409],
});

/** `PATCH /admin/api-keys`. */
export const UPDATE_KEY = contract({
  method: "PATCH",
  path: "/admin/api-keys",
  operationId: "updateApiKey",
  tag: TAG,
  auth: "admin",
  provider: true,
  summary: "Change a key's priority or weight",
  description: "At least one of `priority` and `weight`.",
  body: z.object({ id: idOrKey(), ...placement() }),
  aliases: KEY_ALIASES,
  example: { id: "3f9a1c0d5e7b2a64", priority: 1 },
  responses: ok(obj({ success: { const: true }, key: ref("KeyView") })),
  errors: [404],
});

/** `DELETE /admin/api-keys`. */
export const DELETE_KEYS = contract({
  method: "DELETE",
  path: "/admin/api-keys",
  operationId: "deleteApiKeys",
  tag: TAG,
  auth: "admin",
  provider: true,
  summary: "Delete one key (`id`), or a batch (`apiKeys`)",
  body: z.object({
    id: z.optional(idOrKey()),
    apiKeys: z.optional(
      z.array(z.string().check(z.minLength(1))).check(z.maxLength(MAX_ID_LIST), z.describe("Ids or keys.")),
    ),
  }),
  aliases: { ...KEY_ALIASES, ids: "apiKeys" },
  example: { id: "3f9a1c0d5e7b2a64" },
  responses: ok({
    oneOf: [
      obj({ success: { const: true }, id: t.str() }),
      obj({ success: { const: true }, deleted: t.int(), failed: t.int("Not found."), total: t.int() }),
    ],
  }),
  errors: [404],
});

/** `POST /admin/api-keys/import`. */
export const IMPORT_KEYS = contract({
  method: "POST",
  path: "/admin/api-keys/import",
  operationId: "importApiKeys",
  tag: TAG,
  auth: "admin",
  provider: true,
  summary: "Import a list of keys",
  description: "A key already present takes the given priority and weight. Entries that are not a key are " +
    "reported in `invalid`, not refused.",
  body: z.object({
    keys: z.array(
      z.unknown().check(z.describe(
        "A key, or `{key (or api_key, apiKey), username?, priority?, weight?}` (priority −1000…1000, weight 1…1000).",
      )),
    ).check(z.describe("The keys.")),
  }),
  example: { keys: ["sk-one", { key: "sk-two", username: "me@example.com", priority: 1, weight: 3 }] },
  responses: ok(ref("ImportResult")),
});

/** `POST /admin/api-keys/import-from-txt`: the route reads its body itself (text/plain or JSON). */
export const IMPORT_TXT = contract({
  method: "POST",
  path: "/admin/api-keys/import-from-txt",
  operationId: "importApiKeysFromTxt",
  tag: TAG,
  auth: "admin",
  provider: true,
  summary: "Import an ollama.txt file",
  description:
    "Lines `email----password----session----key`; blank and malformed lines are reported in `invalid`, not fatal. " +
    "Send the file itself as `text/plain` (then `?provider=` selects the pool), or `{content}` as JSON.",
  body: z.object({ content: z.string().check(z.describe("The file's text.")) }),
  example: { content: "me@example.com----pw----session----sk-key" },
  otherMedia: { "text/plain": { schema: t.str("The file's text.") } },
  responses: ok(ref("ImportResult")),
});

/** `POST /admin/keys/enable`. */
export const ENABLE_KEY = contract({
  method: "POST",
  path: "/admin/keys/enable",
  operationId: "enableKey",
  tag: TAG,
  auth: "admin",
  provider: true,
  summary: "Put a key back in rotation",
  body: z.object({ id: idOrKey() }),
  aliases: KEY_ALIASES,
  example: { id: "3f9a1c0d5e7b2a64" },
  responses: ok(obj({ success: { const: true }, message: t.str(), id: t.str() })),
  errors: [404],
});

/** `POST /admin/keys/disable`. */
export const DISABLE_KEY = contract({
  method: "POST",
  path: "/admin/keys/disable",
  operationId: "disableKey",
  tag: TAG,
  auth: "admin",
  provider: true,
  summary: "Take a key out of rotation",
  body: z.object({
    id: idOrKey(),
    duration: z.optional(z.nullable(
      z.int().check(
        z.minimum(0),
        z.meta({ default: 3600, description: "Seconds; 0 = until enabled again." }),
      ),
    )),
  }),
  aliases: KEY_ALIASES,
  example: { id: "3f9a1c0d5e7b2a64", duration: 600 },
  responses: ok(obj({ success: { const: true }, message: t.str(), id: t.str() })),
  errors: [404],
});

/** Every key contract, in document order. */
export const ADMIN_KEY_CONTRACTS: Contract[] = [
  LIST_KEYS,
  ADD_KEY,
  UPDATE_KEY,
  DELETE_KEYS,
  IMPORT_KEYS,
  IMPORT_TXT,
  ENABLE_KEY,
  DISABLE_KEY,
];
