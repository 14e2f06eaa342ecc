/**
 * Descriptors of the user system: `/api/auth/*`, `/admin/users*` and the user pages. The
 * config route and the pages exist always (they say when the system is off); the rest only
 * when `users` is configured.
 * @module
 */
import * as z from "zod/mini";
import { MAX_PASSWORD_LENGTH } from "../auth/password.ts";
import { ADMIN_USER_CONTRACTS } from "./admin_users.ts";
import { type Contract, contract, routeDoc } from "./contract.ts";
import { paging, PAGING_CODES, USER_ROLES } from "./fields.ts";
import { obj, ok, ref, type ResponseDoc, type RouteDoc, type Schema, t } from "./types.ts";

const HTML: ResponseDoc = { description: "An HTML page.", content: { "text/html": { schema: t.str() } } };
const when = t.nullable("integer", "Epoch ms, or null.");
const userBase: Record<string, Schema> = {
  id: t.str(),
  email: t.str(),
  role: t.enumOf([...USER_ROLES]),
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

const email = () => z.string().check(z.maxLength(320), z.describe("Email address."));
const turnstileToken = () =>
  z.optional(z.string().check(z.maxLength(4096), z.describe("The Turnstile answer, when the pool asks for one.")));
const password = () =>
  z.string().check(z.maxLength(MAX_PASSWORD_LENGTH), z.describe("At least the configured minimum length."));
const code = () => z.string().check(z.maxLength(16), z.describe("The 6 digits of the mailed code."));
const success = obj({ success: { const: true } });

/** Anonymous routes read small forms; nobody needs 20 MiB to send an address and a password. */
export const AUTH_BODY_LIMIT = 16 * 1024;
const USER_CODES = { email: "invalid_email", purpose: "invalid_purpose", password: "invalid_password" };

/** `GET /api/auth/config`: answers with the user system off too. */
export const AUTH_CONFIG = contract({
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
});

/** The user pages (routes/pages.ts): HTML, no input. */
const PAGES: RouteDoc[] = [
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

/** `POST /api/auth/send-code`. */
export const SEND_CODE = contract({
  method: "POST",
  path: "/api/auth/send-code",
  operationId: "sendCode",
  tag: "Users",
  auth: "public",
  summary: "Mail a 6-digit code (valid 10 minutes, once; 60 s between sends, 10 a day)",
  body: z.object({
    email: email(),
    purpose: z.enum(["register", "login"]).check(z.describe("What the code is for.")),
    turnstileToken: turnstileToken(),
  }),
  bodyLimit: AUTH_BODY_LIMIT,
  codes: USER_CODES,
  example: { email: "ada@example.com", purpose: "register" },
  responses: ok(success),
  errors: [403, 429],
});

/** `POST /api/auth/register`. */
export const REGISTER = contract({
  method: "POST",
  path: "/api/auth/register",
  operationId: "userRegister",
  tag: "Users",
  auth: "public",
  summary: "Register with the mailed code; issues the user's client token",
  body: z.object({ email: email(), code: code(), password: password(), turnstileToken: turnstileToken() }),
  bodyLimit: AUTH_BODY_LIMIT,
  codes: USER_CODES,
  example: { email: "ada@example.com", code: "123456", password: "correct horse battery" },
  responses: ok(ref("AuthResult")),
  errors: [403, 429],
});

/** `POST /api/auth/login`. */
export const LOGIN = contract({
  method: "POST",
  path: "/api/auth/login",
  operationId: "userLogin",
  tag: "Users",
  auth: "public",
  summary: "Sign in by password or mailed code (never issues a new client token)",
  body: z.object({ email: email(), password: z.optional(password()), code: z.optional(code()) }),
  bodyLimit: AUTH_BODY_LIMIT,
  codes: USER_CODES,
  example: { email: "ada@example.com", password: "correct horse battery" },
  responses: ok(ref("AuthResult")),
  errors: [403, 429],
});

/** `POST /api/auth/logout`. */
export const LOGOUT = contract({
  method: "POST",
  path: "/api/auth/logout",
  operationId: "userLogout",
  tag: "Users",
  auth: "user",
  summary: "End every session of the user",
  responses: ok(success),
});

/** `POST /api/auth/sign`. */
export const CHECK_IN = contract({
  method: "POST",
  path: "/api/auth/sign",
  operationId: "checkIn",
  tag: "Users",
  auth: "user",
  summary:
    "Daily check-in: the token's validity grows by 24 h from the later of now and its expiry (400 the second time a day)",
  responses: ok(obj({ success: { const: true }, keyExpiresAt: t.int("Epoch ms.") })),
});

/** `GET /api/auth/profile`. */
export const PROFILE = contract({
  method: "GET",
  path: "/api/auth/profile",
  operationId: "getProfile",
  tag: "Users",
  auth: "user",
  summary: "The user's profile and token",
  responses: ok(obj({ user: ref("Profile") })),
});

/** `GET /api/auth/signins`. */
export const SIGN_INS = contract({
  method: "GET",
  path: "/api/auth/signins",
  operationId: "getSignIns",
  tag: "Users",
  auth: "user",
  summary: "Check-in history, newest first",
  query: z.object({
    page: paging(10, 100).page,
    limit: z._default(z.int().check(z.minimum(1), z.maximum(100), z.describe("Items per page, 1 to 100.")), 10),
  }),
  codes: PAGING_CODES,
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
});

/** The contracts served only while the user system is on, in document order. */
export const USER_CONTRACTS: Contract[] = [
  SEND_CODE,
  REGISTER,
  LOGIN,
  LOGOUT,
  CHECK_IN,
  PROFILE,
  SIGN_INS,
  ...ADMIN_USER_CONTRACTS,
];

/** The user system's descriptors for a pool with (`on`) or without it. */
export function userDocs(on: boolean): RouteDoc[] {
  const always = [routeDoc(AUTH_CONFIG), ...PAGES];
  if (!on) return always;
  // A session of a disabled user gets 403 on every session route.
  return [
    ...always,
    ...USER_CONTRACTS.map(routeDoc).map((d) => (d.auth === "user" ? { ...d, errors: [...d.errors ?? [], 403] } : d)),
  ];
}
