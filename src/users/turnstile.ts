/**
 * Cloudflare Turnstile verification for send-code and register. Fails closed: a network error,
 * a timeout or an unreadable answer refuses the request as a failed challenge would.
 * @module
 */
import { PoolError } from "../errors.ts";
import type { FetchLike } from "../types.ts";
import { sideFetch } from "../proxy/side_fetch.ts";

/** Cloudflare's siteverify endpoint. */
export const TURNSTILE_VERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

/** Turnstile settings as the user system uses them (validated). */
export interface TurnstileCheck {
  secretKey: string;
  verifyUrl: string;
  timeoutMs: number;
}

/** Throws 403 when the token is missing or rejected, 503 when the verifier cannot be asked. */
export async function verifyTurnstile(
  t: TurnstileCheck,
  doFetch: FetchLike,
  token: unknown,
  ip: string | undefined,
): Promise<void> {
  if (typeof token !== "string" || token === "" || token.length > 2048) {
    throw new PoolError(403, "turnstile_required", "'turnstileToken' is required: complete the challenge first");
  }
  const form = new URLSearchParams({ secret: t.secretKey, response: token });
  if (ip) form.set("remoteip", ip);
  let ok: boolean;
  try {
    const { json } = await sideFetch(doFetch, t.timeoutMs).json(t.verifyUrl, { method: "POST", body: form });
    ok = (json as { success?: unknown } | undefined)?.success === true;
  } catch {
    throw new PoolError(503, "turnstile_unavailable", "the challenge could not be verified right now; try again");
  }
  if (!ok) throw new PoolError(403, "turnstile_failed", "the challenge was not passed; try again");
}
