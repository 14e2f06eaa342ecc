/** Descriptors of the upstream-key routes (routes/admin_keys.ts). @module */
import { json, obj, ok, paging, query, ref, type RouteDoc, t } from "./types.ts";

const idOrKey = "Key id, or the key itself (`apiKey`/`api_key` are accepted for the same field).";

/** `priority` and `weight`, as every route that sets them accepts them. */
const PLACEMENT = {
  priority: {
    type: "integer",
    minimum: -1000,
    maximum: 1000,
    default: 0,
    description: "Tier: keys of a lower priority get requests only while no key of a higher one is ready.",
  },
  weight: {
    type: "integer",
    minimum: 1,
    maximum: 1000,
    default: 1,
    description: "Share of its tier's requests, relative to the tier's other keys.",
  },
};

/** `GET|POST|DELETE /admin/api-keys`, the imports, enable and disable. */
export const ADMIN_KEY_DOCS: RouteDoc[] = [
  {
    method: "GET",
    path: "/admin/api-keys",
    operationId: "listApiKeys",
    tag: "Admin: keys",
    auth: "admin",
    provider: true,
    summary: "List keys (masked), paged and filtered",
    params: [
      ...paging(50, 200),
      query("status", ref("KeyState"), "Only keys in this state."),
      query("search", t.str(), "Substring of the id or label, case-insensitive."),
    ],
    responses: ok(obj({
      provider: t.str(),
      api_keys: t.arr(ref("KeyView")),
      total: t.int("Matching keys."),
      page: t.int(),
      pageSize: t.int(),
      totalPages: t.int(),
    })),
  },
  {
    method: "POST",
    path: "/admin/api-keys",
    operationId: "addApiKey",
    tag: "Admin: keys",
    auth: "admin",
    provider: true,
    summary: "Add one key",
    body: {
      content: json(
        obj({
          api_key: t.str("The upstream key (`apiKey` or `key` also accepted)."),
          username: t.str("Label."),
          ttl: { type: "integer", minimum: 1, description: "Seconds until the key expires." },
          ...PLACEMENT,
          provider: ref("ProviderId"),
        }, ["username", "ttl", "priority", "weight", "provider"]),
        { api_key: "sk-upstream-key", username: "me@example.com", priority: 1, weight: 2 },
      ),
    },
    responses: ok(obj({ success: { const: true }, message: t.str(), id: t.str(), provider: t.str() }), "Added", "201"),
    errors: [409],
  },
  {
    method: "PATCH",
    path: "/admin/api-keys",
    operationId: "updateApiKey",
    tag: "Admin: keys",
    auth: "admin",
    provider: true,
    summary: "Change a key's priority or weight",
    body: {
      content: json(
        obj({ id: t.str(idOrKey), ...PLACEMENT, provider: ref("ProviderId") }, ["priority", "weight", "provider"]),
        { id: "3f9a1c0d5e7b2a64", priority: 1 },
      ),
    },
    responses: ok(obj({ success: { const: true }, key: ref("KeyView") })),
    errors: [404],
  },
  {
    method: "DELETE",
    path: "/admin/api-keys",
    operationId: "deleteApiKeys",
    tag: "Admin: keys",
    auth: "admin",
    provider: true,
    summary: "Delete one key, or a batch",
    body: {
      content: json({
        oneOf: [
          obj({ id: t.str(idOrKey) }),
          obj({ apiKeys: t.arr(t.str(), "Ids or keys (`ids` also accepted).") }),
        ],
      }, { id: "3f9a1c0d5e7b2a64" }),
    },
    responses: ok({
      oneOf: [
        obj({ success: { const: true }, id: t.str() }),
        obj({ success: { const: true }, deleted: t.int(), failed: t.int("Not found."), total: t.int() }),
      ],
    }),
    errors: [404],
  },
  {
    method: "POST",
    path: "/admin/api-keys/import",
    operationId: "importApiKeys",
    tag: "Admin: keys",
    auth: "admin",
    provider: true,
    summary: "Import a list of keys",
    body: {
      content: json(
        obj({
          keys: t.arr({
            anyOf: [
              t.str(),
              obj({ key: t.str("Also `api_key` or `apiKey`."), username: t.str(), ...PLACEMENT }, [
                "username",
                "priority",
                "weight",
              ]),
            ],
          }),
          provider: ref("ProviderId"),
        }, ["provider"]),
        { keys: ["sk-one", { key: "sk-two", username: "me@example.com", priority: 1, weight: 3 }] },
      ),
    },
    responses: ok(ref("ImportResult")),
  },
  {
    method: "POST",
    path: "/admin/api-keys/import-from-txt",
    operationId: "importApiKeysFromTxt",
    tag: "Admin: keys",
    auth: "admin",
    provider: true,
    summary: "Import an ollama.txt file",
    description:
      "Lines `email----password----session----key`; blank and malformed lines are reported in `invalid`, not fatal. " +
      "Send the file itself as `text/plain` (then `?provider=` selects the pool), or `{content}` as JSON.",
    body: {
      content: {
        ...json(obj({ content: t.str("The file's text."), provider: ref("ProviderId") }, ["provider"]), {
          content: "me@example.com----pw----session----sk-key",
        }),
        "text/plain": { schema: t.str("The file's text.") },
      },
    },
    responses: ok(ref("ImportResult")),
  },
  ...(["enable", "disable"] as const).map((action): RouteDoc => ({
    method: "POST",
    path: `/admin/keys/${action}`,
    operationId: `${action}Key`,
    tag: "Admin: keys",
    auth: "admin",
    provider: true,
    summary: action === "enable" ? "Put a key back in rotation" : "Take a key out of rotation",
    body: {
      content: json(
        obj({
          id: t.str(idOrKey),
          ...(action === "disable"
            ? {
              duration: {
                type: "integer",
                minimum: 0,
                default: 3600,
                description: "Seconds; 0 = until enabled again.",
              },
            }
            : {}),
          provider: ref("ProviderId"),
        }, ["duration", "provider"]),
        { id: "3f9a1c0d5e7b2a64" },
      ),
    },
    responses: ok(obj({ success: { const: true }, message: t.str(), id: t.str() })),
    errors: [404],
  })),
];
