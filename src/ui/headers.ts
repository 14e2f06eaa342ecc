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

/** Headers for an HTML page; `cacheable` pages (public) may be cached briefly, others never. */
export function pageHeaders(cacheable = false): Record<string, string> {
  return {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": cacheable ? "public, max-age=15" : "no-store",
  };
}
