/**
 * Mail delivery for verification codes. A {@link Mailer} is one function; this module has the two
 * web-standard ones (a JSON webhook and the development console). SMTP lives in the Node adapter
 * `ollama-api-pool/smtp`, since it needs sockets.
 * @module
 */
import type { FetchLike, Logger } from "../types.ts";
import { sameOriginFetch } from "../proxy/redirects.ts";
import { sideFetch } from "../proxy/side_fetch.ts";

/** One message; `html` is already escaped. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends mail; rejects when the message could not be handed over. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** Options of {@link webhookMailer}. */
export interface WebhookMailerOptions {
  /**
   * Transport for the POST.
   * @default globalThis.fetch
   */
  fetch?: FetchLike;
  /**
   * Gives up after this long.
   * @default 10000
   */
  timeoutMs?: number;
  /** Extra request headers (e.g. an authorization header the forwarder wants). */
  headers?: Record<string, string>;
}

/**
 * POSTs each message as JSON to `url` (`EMAIL_FORWARD_URL`). The body serves a push-all-in-one
 * forwarder's custom-email channel (`type`, `title`, `desp`, `option` with nodemailer's fields)
 * and plain webhooks alike (`to`, `subject`, `text`, `html` at the top level):
 * `{type: "CustomEmail", title, desp, option: {to, subject, text, html}, to, subject, text, html}`.
 * Any 2xx answer counts as sent.
 * @example
 * const mailer = webhookMailer("https://push.example.com/forward");
 */
export function webhookMailer(url: string, o: WebhookMailerOptions = {}): Mailer {
  new URL(url); // a bad URL fails at configuration, not at the first registration
  // Its headers may carry the webhook's secret: redirects are followed within its origin only.
  const client = sideFetch(sameOriginFetch(o.fetch ?? ((input, init) => fetch(input, init))), o.timeoutMs ?? 10_000);
  return {
    async send(m) {
      const body = {
        type: "CustomEmail",
        title: m.subject,
        desp: m.html,
        option: { to: m.to, subject: m.subject, text: m.text, html: m.html },
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
      };
      try {
        await client.json(url, { method: "POST", headers: o.headers, body }); // JSON-encoded by ofetch; any 2xx counts as sent
      } catch (err) {
        // The forwarder's URL may carry a key in its path or query: the message names only the host.
        const status = (err as { status?: number }).status;
        throw new Error(
          `mail webhook at ${new URL(url).host} ${status ? `answered ${status}` : "could not be reached"}`,
        );
      }
    },
  };
}

/**
 * Development only: writes each message, code included, to the logger instead of sending it.
 * @example
 * createPool({ ..., users: { secret, mailer: consoleMailer(console) } });
 */
export function consoleMailer(logger: Pick<Logger, "info">): Mailer {
  return {
    send(m) {
      logger.info(`[ollama-api-pool] [mail] to ${m.to}: ${m.subject}\n${m.text}`);
      return Promise.resolve();
    },
  };
}
