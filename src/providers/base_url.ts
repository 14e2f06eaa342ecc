/**
 * Checks of upstream URLs, shared by option validation, the config file and the settings: a URL
 * without a scheme (`ollama.com`) or with a path segment given twice (`…/v1` where the pool adds
 * `/v1` itself) would otherwise be accepted and then fail every request, blaming every key.
 * @module
 */

/** Why `url` is not a usable upstream URL, or undefined. Messages read after "NAME: ". */
export function urlProblem(url: unknown): string | undefined {
  if (typeof url !== "string" || url.trim() === "") return "must be an http(s) URL";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `must be an http(s) URL, got "${shown(url)}" (add http:// or https://)`;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return `must be an http(s) URL, got "${shown(url)}" (add http:// or https://)`;
  }
  if (parsed.username || parsed.password) {
    // The key's Authorization header is the one sent (Deno's fetch would replace it with these),
    // and Node's fetch refuses such a URL with an error quoting it, password and all.
    return `"${
      shown(url)
    }" carries a user or password; the pool authenticates with the keys (put other credentials in the provider's headers)`;
  }
  const doubled = /\/(v1|api)\/\1(\/|$)/.exec(parsed.pathname);
  if (doubled) return `"${shown(url)}" has /${doubled[1]} twice; give the base URL with /${doubled[1]} once`;
  return undefined;
}

/**
 * Why `url` is not a server root (for presets that add `/v1` or `/api` themselves), or undefined.
 * `adds` lists the segments the preset appends.
 */
export function rootProblem(url: unknown, adds: string[]): string | undefined {
  const problem = urlProblem(url);
  if (problem) return problem;
  const path = new URL(url as string).pathname.replace(/\/+$/, "");
  for (const seg of adds) {
    if (path.endsWith(`/${seg}`)) {
      return `"${shown(url as string)}" ends in /${seg}, which the pool adds itself; give the root without it`;
    }
  }
  return undefined;
}

/** A URL as it may be printed: user and password hidden. */
function shown(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@").slice(0, 200);
}
