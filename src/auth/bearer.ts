/** Reading a credential from request headers. @module */

/** The token of `Authorization: Bearer <token>`, or of `x-api-key`; undefined if neither. */
export function presentedToken(headers: Headers): string | undefined {
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  return headers.get("x-api-key")?.trim() || undefined;
}
