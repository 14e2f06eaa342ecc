/** Contracts of the client-token routes (routes/admin_tokens.ts). @module */
import * as z from "zod/mini";
import { type Contract, contract } from "./contract.ts";
import { text } from "./fields.ts";
import { obj, ok, ref, t } from "./types.ts";

const limit = (what: string) =>
  z.optional(z.nullable(z.int().check(z.minimum(1), z.describe(`${what}; null clears it (PATCH).`))));

/** The policy fields of a token: on create, null is the same as absent; on PATCH it clears the field. */
const policy = {
  expiresIn: z.optional(
    z.nullable(z.int().check(z.minimum(1), z.describe("Seconds from now; null clears the expiry (PATCH)."))),
  ),
  allowedModels: z.optional(z.nullable(
    z.array(z.string().check(z.minLength(1), z.maxLength(200))).check(
      z.maxLength(200),
      z.describe("Model names or `prefix*` patterns; null allows all."),
    ),
  )),
  rpm: limit("Requests per minute"),
  tpm: limit("Tokens per minute"),
  quota: limit("Total tokens"),
};
const name = () => text("A name for people.", 100);
const TAG = "Admin: tokens";

/** `GET /admin/tokens`. */
export const LIST_TOKENS = contract({
  method: "GET",
  path: "/admin/tokens",
  operationId: "listTokens",
  tag: TAG,
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
});

/** `POST /admin/tokens`. */
export const CREATE_TOKEN = contract({
  method: "POST",
  path: "/admin/tokens",
  operationId: "createToken",
  tag: TAG,
  auth: "admin",
  summary: "Create a client token (the only time it is shown)",
  body: z.object({ name: name(), ...policy }),
  example: { name: "my app", expiresIn: 2592000, allowedModels: ["llama3*"] },
  responses: ok(
    { allOf: [ref("TokenView"), obj({ token: t.str("The full token, `sk-…`. Store it now.") })] },
    "Created",
    "201",
  ),
});

/** `PATCH /admin/tokens`. */
export const UPDATE_TOKEN = contract({
  method: "PATCH",
  path: "/admin/tokens",
  operationId: "updateToken",
  tag: TAG,
  auth: "admin",
  summary: "Change a token's name, expiry or limits",
  body: z.object({ id: text("Token id."), name: z.optional(name()), ...policy }),
  example: { id: "9c1e7f3a2b4d6e80", rpm: 60, quota: null },
  responses: ok(obj({ success: { const: true }, token: ref("TokenView") })),
  errors: [404],
});

/** `DELETE /admin/tokens`. */
export const REVOKE_TOKEN = contract({
  method: "DELETE",
  path: "/admin/tokens",
  operationId: "revokeToken",
  tag: TAG,
  auth: "admin",
  summary: "Revoke a token",
  body: z.object({ id: text("Token id, or the full token.") }),
  aliases: { token: "id" },
  example: { id: "9c1e7f3a2b4d6e80" },
  responses: ok(obj({ success: { const: true }, id: t.str() })),
  errors: [404],
});

/** Every token contract, in document order. */
export const ADMIN_TOKEN_CONTRACTS: Contract[] = [LIST_TOKENS, CREATE_TOKEN, UPDATE_TOKEN, REVOKE_TOKEN];
