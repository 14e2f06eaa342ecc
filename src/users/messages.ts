/** The verification-code mails: subject and body differ for registration and login; text and escaped HTML. @module */
import type { MailMessage } from "./mailer.ts";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The mail that carries a code. */
export function codeMail(
  o: { to: string; purpose: "register" | "login"; code: string; appName: string; minutes: number },
): MailMessage {
  const register = o.purpose === "register";
  const subject = register ? `${o.appName}: your registration code` : `${o.appName}: your sign-in code`;
  const intro = register
    ? `Use this code to finish creating your ${o.appName} account:`
    : `Use this code to sign in to ${o.appName}:`;
  const outro = register
    ? "If you did not ask to register, ignore this mail; no account is created without the code."
    : "If you did not try to sign in, ignore this mail and consider changing your password.";
  const validity = `The code is valid for ${o.minutes} minutes and can be used once.`;
  const text = `${intro}\n\n    ${o.code}\n\n${validity}\n${outro}\n`;
  const e = escapeHtml;
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1f2937">` +
    `<p>${e(intro)}</p><p style="font-size:28px;font-weight:700;letter-spacing:6px">${e(o.code)}</p>` +
    `<p>${e(validity)}</p><p style="color:#6b7280">${e(outro)}</p></body></html>`;
  return { to: o.to, subject, text, html };
}
