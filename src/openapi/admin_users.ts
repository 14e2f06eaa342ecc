/** Contracts of user management under `/admin/users` (routes/admin_users.ts). @module */
import * as z from "zod/mini";
import { type Contract, contract } from "./contract.ts";
import type { UserRecord } from "../users/types.ts";
import { paging, PAGING_CODES, USER_ROLES } from "./fields.ts";
import { obj, ok, ref, t } from "./types.ts";

const userId = () => z.object({ id: z.string().check(z.describe("User id.")) });

const ADMIN = "Admin: users";

/** `GET /admin/users`. */
export const LIST_USERS = contract({
  method: "GET",
  path: "/admin/users",
  operationId: "listUsers",
  tag: ADMIN,
  auth: "admin",
  summary: "Users, newest first",
  query: z.object({
    ...paging(20, 100),
    search: z.optional(z.string().check(z.maxLength(320), z.describe("A whole address, or part of one."))),
  }),
  codes: PAGING_CODES,
  responses: ok(obj({ page: t.int(), pageSize: t.int(), total: t.int(), users: t.arr(ref("AdminUser")) })),
});

/** Most ids in one batch request. */
export const MAX_BATCH = 500;

/** `POST /admin/users/batch`. */
export const BATCH_USERS = contract({
  method: "POST",
  path: "/admin/users/batch",
  operationId: "batchUsers",
  tag: ADMIN,
  auth: "admin",
  summary: "Enable or disable many users",
  body: z.object({
    ids: z.array(z.string().check(z.minLength(1))).check(
      z.minLength(1),
      z.maxLength(MAX_BATCH),
      z.describe(`1 to ${MAX_BATCH} user ids.`),
    ),
    isActive: z.boolean(),
  }),
  example: { ids: ["u-1", "u-2"], isActive: false },
  responses: ok(obj({ success: { const: true }, updated: t.int(), notFound: t.arr(t.str()) })),
});

/** `GET /admin/users/:id`. */
export const GET_USER = contract({
  method: "GET",
  path: "/admin/users/:id",
  operationId: "getUser",
  tag: ADMIN,
  auth: "admin",
  summary: "One user",
  params: userId(),
  responses: ok(obj({ user: ref("AdminUser") })),
  errors: [404],
});

/** `PATCH /admin/users/:id`. */
export const UPDATE_USER = contract({
  method: "PATCH",
  path: "/admin/users/:id",
  operationId: "updateUser",
  tag: ADMIN,
  auth: "admin",
  summary: "Change role or enable/disable (takes effect at once)",
  description: "At least one of `role` and `isActive`.",
  params: userId(),
  body: z.object({
    role: z.optional(z.enum(USER_ROLES as [UserRecord["role"], ...UserRecord["role"][]])),
    isActive: z.optional(z.boolean()),
  }),
  example: { role: "admin" },
  responses: ok(obj({ user: ref("AdminUser") })),
  errors: [404],
});

/** `POST /admin/users/:id/reset-key`. */
export const RESET_USER_KEY = contract({
  method: "POST",
  path: "/admin/users/:id/reset-key",
  operationId: "resetUserKey",
  tag: ADMIN,
  auth: "admin",
  summary: "Revoke the user's token and issue a new one (shown here once)",
  params: userId(),
  body: z.object({
    ttlSeconds: z.optional(z.nullable(
      z.int().check(
        z.minimum(1),
        z.maximum(10 * 365 * 86_400),
        z.describe("Validity of the new token; default the configured token validity."),
      ),
    )),
  }),
  bodyOptional: true,
  example: { ttlSeconds: 86_400 },
  responses: ok(
    obj({
      success: { const: true },
      user: ref("AdminUser"),
      token: obj({ token: t.str(), name: t.str(), expiresAt: t.int() }),
    }),
  ),
  errors: [404],
});

/** `POST /admin/users/:id/extend-key`. */
export const EXTEND_USER_KEY = contract({
  method: "POST",
  path: "/admin/users/:id/extend-key",
  operationId: "extendUserKey",
  tag: ADMIN,
  auth: "admin",
  summary: "Extend the user's token by N days",
  params: userId(),
  body: z.object({
    days: z.optional(
      z.nullable(z.int().check(z.minimum(1), z.maximum(3650), z.meta({ default: 1, description: "Days." }))),
    ),
  }),
  bodyOptional: true,
  example: { days: 7 },
  responses: ok(obj({ success: { const: true }, user: ref("AdminUser") })),
  errors: [404],
});

/** `GET /admin/users/:id/signins`. */
export const USER_SIGN_INS = contract({
  method: "GET",
  path: "/admin/users/:id/signins",
  operationId: "getUserSignIns",
  tag: ADMIN,
  auth: "admin",
  summary: "A user's latest check-ins",
  params: userId(),
  query: z.object({
    limit: z._default(z.int().check(z.minimum(1), z.maximum(90), z.describe("How many, 1 to 90.")), 10),
  }),
  codes: PAGING_CODES,
  responses: ok(obj({ signins: t.arr(ref("SignIn")) })),
  errors: [404],
});

/** Every user-management contract, in document order. */
export const ADMIN_USER_CONTRACTS: Contract[] = [
  LIST_USERS,
  BATCH_USERS,
  GET_USER,
  UPDATE_USER,
  RESET_USER_KEY,
  EXTEND_USER_KEY,
  USER_SIGN_INS,
];
