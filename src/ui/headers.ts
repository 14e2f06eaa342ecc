/** Response headers for pages and their assets. @module */

/**
 * Scripts, styles and connections only from the pool's own origin; no inline script or style,
 * no frames, no plugins, forms post only back here. A stray `<img onerror>` that got into a page
 * could not run even if escaping failed.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/**
 * The policy with one more origin allowed for scripts and frames: Turnstile's widget on /user,
 * when enabled. Admin pages never get this.
 */
export function policyAllowing(origin: string): string {
  return CONTENT_SECURITY_POLICY
    .replace("script-src 'self'", `script-src 'self' ${origin}`)
    .replace("connect-src 'self'", `connect-src 'self' ${origin}`) + `; frame-src ${origin}`;
}

/** Headers for an HTML page; `cacheable` pages (public) may be cached briefly, others never. */
export function pageHeaders(cacheable = false, csp: string = CONTENT_SECURITY_POLICY): Record<string, string> {
  return {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": cacheable ? "public, max-age=15" : "no-store",
  };
}
