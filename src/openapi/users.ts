/**
 * Descriptors of the user system: `/api/auth/*`, `/admin/users*` and the user pages. The
 * config route and the pages exist always (they say when the system is off); the rest only
 * when `users` is configured.
 * @module
 */
import { json, obj, ok, paging, query, ref, type ResponseDoc, type RouteDoc, type Schema, t } from "./types.ts";

const HTML: ResponseDoc = { description: "An HTML page.", content: { "text/html": { schema: t.str() } } };
const when = t.nullable("integer", "Epoch ms, or null.");
const userBase: Record<string, Schema> = {
  id: t.str(),
  email: t.str(),
  role: t.enumOf(["user", "admin"]),
  isActive: t.bool(),
  keyProvider: t.str(),
  keyExpiresAt: when,
  keyExpired: t.bool(),
  createdAt: t.int("Epoch ms."),
  lastLoginAt: when,
  lastSignInAt: when,
  keyRequestCount: t.int("Requests made with the user's token."),
};

/** Component schemas the user routes refer to. */
export const USER_SCHEMAS: Record<string, Schema> = {
  Profile: obj({
    ...userBase,
    keyToken: t.nullable("string", "The user's own client token in full; null once revoked."),
    checkIn: obj({
      timeZone: t.str("IANA zone of the check-in day."),
      today: t.str("YYYY-MM-DD there."),
      signedToday: t.bool(),
      nextResetAt: t.int("Epoch ms when the next day starts."),
    }),
  }),
  AdminUser: obj({ ...userBase, keyToken: t.nullable("string", "Masked."), tokenId: t.nullable("string") }),
  AuthResult: obj({
    token: t.str("Session token (HS256 JWT): `Authorization: Bearer <token>` on the session routes."),
    expiresAt: t.int("Session expiry, epoch ms."),
    user: ref("Profile"),
  }),
  SignIn: obj({ id: t.str(), signDay: t.str("YYYY-MM-DD in the check-in zone."), createdAt: t.int("Epoch ms.") }),
};

const idParam = { name: "id", in: "path" as const, description: "User id.", schema: t.str(), required: true };
const email = t.str("Email address.");
const success = obj({ success: { const: true } });

const ALWAYS: RouteDoc[] = [
  {
    method: "GET",
    path: "/api/auth/config",
    operationId: "getAuthConfig",
    tag: "Users",
    auth: "public",
    summary: "Whether self-service is on, and what the pages need (Turnstile site key, time zone, limits)",
    responses: ok({
      oneOf: [
        obj({ enabled: { const: false } }),
        obj({
          enabled: { const: true },
          turnstile: obj({ enabled: t.bool(), siteKey: t.nullable("string") }),
          timeZone: t.str(),
          passwordMinLength: t.int(),
          tokenValidityDays: t.int(),
          maxValidityDays: t.nullable("integer"),
          codeTtlSeconds: t.int(),
          resendSeconds: t.int(),
          keyProvider: t.str(),
        }),
      ],
    }),
  },
  {
    method: "GET",
    path: "/user",
    operationId: "getUserPage",
    tag: "Pages",
    auth: "public",
    summary: "Sign in or register (404 page when self-service is off)",
    responses: { "200": HTML, "404": HTML },
  },
  {
    method: "GET",
    path: "/user/dashboard",
    operationId: "getUserDashboard",
    tag: "Pages",
    auth: "public",
    summary: "A user's token, expiry countdown, daily check-in and history (the page reads the session from the tab)",
    responses: { "200": HTML, "404": HTML },
  },
];

const WHEN_ON: RouteDoc[] = [
  {
    method: "POST",
    path: "/api/auth/send-code",
    operationId: "sendCode",
    tag: "Users",
    auth: "public",
    summary: "Mail a 6-digit code (valid 10 minutes, once; 60 s between sends, 10 a day)",
    body: {
      content: json(
        obj({ email, purpose: t.enumOf(["register", "login"]), turnstileToken: t.str() }, ["turnstileToken"]),
        { email: "ada@example.com", purpose: "register" },
      ),
    },
    responses: ok(success),
    errors: [403, 429],
  },
  {
    method: "POST",
    path: "/api/auth/register",
    operationId: "userRegister",
    tag: "Users",
    auth: "public",
    summary: "Register with the mailed code; issues the user's client token",
    body: {
      content: json(
        obj({ email, code: t.str("The 6 digits."), password: t.str(), turnstileToken: t.str() }, ["turnstileToken"]),
      ),
    },
    responses: ok(ref("AuthResult")),
    errors: [403, 429],
  },
  {
    method: "POST",
    path: "/api/auth/login",
    operationId: "userLogin",
    tag: "Users",
    auth: "public",
    summary: "Sign in by password or mailed code (never issues a new client token)",
    body: { content: json(obj({ email, password: t.str(), code: t.str() }, ["password", "code"])) },
    responses: ok(ref("AuthResult")),
    errors: [403, 429],
  },
  {
    method: "POST",
    path: "/api/auth/logout",
    operationId: "userLogout",
    tag: "Users",
    auth: "user",
    summary: "End every session of the user",
    responses: ok(success),
  },
  {
    method: "POST",
    path: "/api/auth/sign",
    operationId: "checkIn",
    tag: "Users",
    auth: "user",
    summary:
      "Daily check-in: the token's validity grows by 24 h from the later of now and its expiry (400 the second time a day)",
    responses: ok(obj({ success: { const: true }, keyExpiresAt: t.int("Epoch ms.") })),
  },
  {
    method: "GET",
    path: "/api/auth/profile",
    operationId: "getProfile",
    tag: "Users",
    auth: "user",
    summary: "The user's profile and token",
    responses: ok(obj({ user: ref("Profile") })),
  },
  {
    method: "GET",
    path: "/api/auth/signins",
    operationId: "getSignIns",
    tag: "Users",
    auth: "user",
    summary: "Check-in history, newest first",
    params: [
      query("page", { type: "integer", minimum: 1, default: 1 }, "Page, from 1."),
      query("limit", { type: "integer", minimum: 1, maximum: 100, default: 10 }, "Items per page."),
    ],
    responses: ok(
      obj({
        items: t.arr(ref("SignIn")),
        total: t.int(),
        page: t.int(),
        limit: t.int(),
        pageCount: t.int(),
        hasNext: t.bool(),
        hasPrev: t.bool(),
      }),
    ),
  },
  {
    method: "GET",
    path: "/admin/users",
    operationId: "listUsers",
    tag: "Admin: users",
    auth: "admin",
    summary: "Users, newest first",
    params: [...paging(20, 100), query("search", t.str(), "A whole address, or part of one.")],
    responses: ok(obj({ page: t.int(), pageSize: t.int(), total: t.int(), users: t.arr(ref("AdminUser")) })),
  },
  {
    method: "POST",
    path: "/admin/users/batch",
    operationId: "batchUsers",
    tag: "Admin: users",
    auth: "admin",
    summary: "Enable or disable many users",
    body: { content: json(obj({ ids: t.arr(t.str(), "1 to 500 user ids."), isActive: t.bool() })) },
    responses: ok(obj({ success: { const: true }, updated: t.int(), notFound: t.arr(t.str()) })),
  },
  {
    method: "GET",
    path: "/admin/users/:id",
    operationId: "getUser",
    tag: "Admin: users",
    auth: "admin",
    summary: "One user",
    params: [idParam],
    responses: ok(obj({ user: ref("AdminUser") })),
    errors: [404],
  },
  {
    method: "PATCH",
    path: "/admin/users/:id",
    operationId: "updateUser",
    tag: "Admin: users",
    auth: "admin",
    summary: "Change role or enable/disable (takes effect at once)",
    params: [idParam],
    body: { content: json(obj({ role: t.enumOf(["user", "admin"]), isActive: t.bool() }, ["role", "isActive"])) },
    responses: ok(obj({ user: ref("AdminUser") })),
    errors: [404],
  },
  {
    method: "POST",
    path: "/admin/users/:id/reset-key",
    operationId: "resetUserKey",
    tag: "Admin: users",
    auth: "admin",
    summary: "Revoke the user's token and issue a new one (shown here once)",
    params: [idParam],
    body: { required: false, content: json(obj({ ttlSeconds: t.int() }, ["ttlSeconds"])) },
    responses: ok(
      obj({
        success: { const: true },
        user: ref("AdminUser"),
        token: obj({ token: t.str(), name: t.str(), expiresAt: t.int() }),
      }),
    ),
    errors: [404],
  },
  {
    method: "POST",
    path: "/admin/users/:id/extend-key",
    operationId: "extendUserKey",
    tag: "Admin: users",
    auth: "admin",
    summary: "Extend the user's token by N days",
    params: [idParam],
    body: { required: false, content: json(obj({ days: t.int("1 to 3650, default 1.") }, ["days"])) },
    responses: ok(obj({ success: { const: true }, user: ref("AdminUser") })),
    errors: [404],
  },
  {
    method: "GET",
    path: "/admin/users/:id/signins",
    operationId: "getUserSignIns",
    tag: "Admin: users",
    auth: "admin",
    summary: "A user's latest check-ins",
    params: [idParam, query("limit", { type: "integer", minimum: 1, maximum: 90, default: 10 }, "How many.")],
    responses: ok(obj({ signins: t.arr(ref("SignIn")) })),
    errors: [404],
  },
];

/** The user system's descriptors for a pool with (`on`) or without it. */
export function userDocs(on: boolean): RouteDoc[] {
  // A session of a disabled user gets 403 on every session route.
  return on
    ? [...ALWAYS, ...WHEN_ON.map((d) => (d.auth === "user" ? { ...d, errors: [...d.errors ?? [], 403] } : d))]
    : ALWAYS;
}
