/** Descriptors of the client-token routes (routes/admin_tokens.ts). @module */
import { json, obj, ok, ref, type RouteDoc, type Schema, t } from "./types.ts";

const limit = (what: string): Schema => ({
  type: ["integer", "null"],
  minimum: 1,
  description: `${what}; null clears it (PATCH).`,
});
const policy: Record<string, Schema> = {
  expiresIn: {
    type: ["integer", "null"],
    minimum: 1,
    description: "Seconds from now; null clears the expiry (PATCH).",
  },
  allowedModels: {
    type: ["array", "null"],
    maxItems: 200,
    items: t.str(),
    description: "Model names or `prefix*` patterns; null allows all.",
  },
  rpm: limit("Requests per minute"),
  tpm: limit("Tokens per minute"),
  quota: limit("Total tokens"),
};
const POLICY_KEYS = Object.keys(policy);
const name = { type: "string", minLength: 1, maxLength: 100 };

/** `GET|POST|PATCH|DELETE /admin/tokens`. */
export const ADMIN_TOKEN_DOCS: RouteDoc[] = [
  {
    method: "GET",
    path: "/admin/tokens",
    operationId: "listTokens",
    tag: "Admin: tokens",
    auth: "admin",
    summary: "List client tokens (masked) with usage",
    responses: ok(obj({
      tokens: t.arr({
        allOf: [
          ref("TokenView"),
          obj({
            requests: t.int(),
            promptTokens: t.int(),
            completionTokens: t.int(),
            lastUsed: t.nullable("integer", "Epoch ms."),
          }),
        ],
      }),
      total: t.int(),
    })),
  },
  {
    method: "POST",
    path: "/admin/tokens",
    operationId: "createToken",
    tag: "Admin: tokens",
    auth: "admin",
    summary: "Create a client token (the only time it is shown)",
    body: {
      content: json(obj({ name, ...policy }, POLICY_KEYS), {
        name: "my app",
        expiresIn: 2592000,
        allowedModels: ["llama3*"],
      }),
    },
    responses: ok(
      { allOf: [ref("TokenView"), obj({ token: t.str("The full token, `sk-…`. Store it now.") })] },
      "Created",
      "201",
    ),
  },
  {
    method: "PATCH",
    path: "/admin/tokens",
    operationId: "updateToken",
    tag: "Admin: tokens",
    auth: "admin",
    summary: "Change a token's name, expiry or limits",
    body: {
      content: json(obj({ id: t.str(), name, ...policy }, ["name", ...POLICY_KEYS]), {
        id: "9c1e7f3a2b4d6e80",
        rpm: 60,
        quota: null,
      }),
    },
    responses: ok(obj({ success: { const: true }, token: ref("TokenView") })),
    errors: [404],
  },
  {
    method: "DELETE",
    path: "/admin/tokens",
    operationId: "revokeToken",
    tag: "Admin: tokens",
    auth: "admin",
    summary: "Revoke a token",
    body: {
      content: json({ oneOf: [obj({ id: t.str() }), obj({ token: t.str("The full token.") })] }, {
        id: "9c1e7f3a2b4d6e80",
      }),
    },
    responses: ok(obj({ success: { const: true }, id: t.str() })),
    errors: [404],
  },
];
