/**
 * SMTP delivery of verification codes, through nodemailer (Node, Bun, Deno with npm support).
 * nodemailer is loaded on the first message, so importing this module costs nothing until mail
 * is sent.
 * @example
 * import { smtpMailer } from "ollama-api-pool/smtp";
 * createPool({ providers, users: { secret, mailer: smtpMailer({ host: "smtp.example.com", port: 465, secure: true,
 *   user: "bot@example.com", pass: process.env.EMAIL_AUTH_PASS, from: "Pool <bot@example.com>" }) } });
 * @module
 */
import type { Mailer, MailMessage } from "../src/users/mailer.ts";

/** Options of {@link smtpMailer}. */
export interface SmtpMailerOptions {
  /** SMTP server host (`EMAIL_HOST`). */
  host: string;
  /**
   * Port (`EMAIL_PORT`).
   * @default 465 when `secure`, else 587
   */
  port?: number;
  /**
   * TLS from the first byte (`EMAIL_SECURE`); otherwise STARTTLS is used when the server offers it.
   * @default true when port is 465
   */
  secure?: boolean;
  /** Login user (`EMAIL_AUTH_USER`); no authentication when absent. */
  user?: string;
  /** Login password (`EMAIL_AUTH_PASS`). */
  pass?: string;
  /**
   * Sender address (`EMAIL_FROM`).
   * @default user
   */
  from?: string;
  /**
   * Connection, greeting and socket timeouts in ms.
   * @default 10000
   */
  timeoutMs?: number;
}

/** The part of a nodemailer transport used here. */
interface Transport {
  sendMail(mail: { from: string; to: string; subject: string; text: string; html: string }): Promise<unknown>;
}

/** A {@link Mailer} that sends through an SMTP server. */
export function smtpMailer(o: SmtpMailerOptions): Mailer {
  if (!o || typeof o.host !== "string" || o.host === "") {
    throw new TypeError("[ollama-api-pool] [smtp] host: required (EMAIL_HOST)");
  }
  const from = o.from ?? o.user;
  if (!from) throw new TypeError("[ollama-api-pool] [smtp] from: required when there is no user (EMAIL_FROM)");
  const secure = o.secure ?? o.port === 465;
  const port = o.port ?? (secure ? 465 : 587);
  const timeout = o.timeoutMs ?? 10_000;
  let transport: Promise<Transport> | undefined;
  const connect = async (): Promise<Transport> => {
    const nodemailer = (await import("nodemailer")).default;
    return nodemailer.createTransport({
      host: o.host,
      port,
      secure,
      ...(o.user ? { auth: { user: o.user, pass: o.pass ?? "" } } : {}),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  };
  return {
    async send(m: MailMessage) {
      transport ??= connect().catch((err) => {
        transport = undefined;
        throw err;
      });
      await (await transport).sendMail({ from, to: m.to, subject: m.subject, text: m.text, html: m.html });
    },
  };
}
