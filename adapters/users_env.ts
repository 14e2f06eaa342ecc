/**
 * The user system's part of the server's configuration: environment variables to `UsersOptions`.
 * Separate from cli.ts so it can be checked without starting a server.
 * @module
 */
import { consoleMailer, type Mailer, type UsersOptions, webhookMailer } from "../mod.ts";
import { Settings } from "../src/settings/read.ts";
import { smtpMailer } from "./smtp.ts";

type Env = Record<string, string | undefined>;

const set = (v: string | undefined): string | undefined => (v === undefined || v.trim() === "" ? undefined : v.trim());

// Numbers and booleans are read by the shared settings rules (true/false/1/0/yes/no everywhere).
const intVar = (env: Env, name: string): number | undefined => new Settings(env).int(name);
const boolVar = (env: Env, name: string): boolean => new Settings(env).bool(name);

/** The mailer the environment names: EMAIL_FORWARD_URL, else EMAIL_HOST (SMTP), else the console. */
function mailerFrom(env: Env, log: (m: string) => void): Mailer {
  const url = set(env.EMAIL_FORWARD_URL);
  if (url) {
    try {
      return webhookMailer(url);
    } catch {
      throw new Error("EMAIL_FORWARD_URL is not an absolute URL");
    }
  }
  const host = set(env.EMAIL_HOST);
  if (host) {
    const user = set(env.EMAIL_AUTH_USER);
    const from = set(env.EMAIL_FROM) ?? user;
    if (!from) throw new Error("EMAIL_HOST is set but neither EMAIL_FROM nor EMAIL_AUTH_USER gives a sender address");
    return smtpMailer({
      host,
      user,
      from,
      pass: env.EMAIL_AUTH_PASS,
      port: intVar(env, "EMAIL_PORT"),
      secure: set(env.EMAIL_SECURE) === undefined ? undefined : boolVar(env, "EMAIL_SECURE"),
    });
  }
  log(
    "ENABLE_USERS is on without EMAIL_FORWARD_URL or EMAIL_HOST: verification codes are printed here (development only)",
  );
  return consoleMailer({ info: log });
}

/**
 * `UsersOptions` from the environment, or undefined when `ENABLE_USERS` is not true. Throws with a
 * message naming the variable when the configuration is unsafe or incomplete (no AUTH_SECRET;
 * Turnstile on without its secret key).
 */
export function usersFromEnv(env: Env, log: (message: string) => void = console.log): UsersOptions | undefined {
  if (!boolVar(env, "ENABLE_USERS")) return undefined;
  const secret = set(env.AUTH_SECRET);
  if (!secret) {
    throw new Error("ENABLE_USERS=true needs AUTH_SECRET (at least 32 characters, e.g. `openssl rand -hex 32`)");
  }
  if (secret.length < 32) throw new Error("AUTH_SECRET must have at least 32 characters (e.g. `openssl rand -hex 32`)");
  const turnstileOn = boolVar(env, "ENABLE_TURNSTILE");
  if (turnstileOn && !set(env.TURNSTILE_SECRET_KEY)) {
    throw new Error("ENABLE_TURNSTILE=true needs TURNSTILE_SECRET_KEY; refusing to start with the check switched off");
  }
  return {
    secret,
    mailer: mailerFrom(env, log),
    tokenValidityDays: intVar(env, "USER_TOKEN_DAYS"),
    maxValidityDays: intVar(env, "USER_MAX_TOKEN_DAYS"),
    timeZone: set(env.USER_TIME_ZONE),
    appName: set(env.APP_NAME),
    ...(turnstileOn
      ? {
        turnstile: {
          secretKey: set(env.TURNSTILE_SECRET_KEY),
          siteKey: set(env.TURNSTILE_SITE_KEY),
          verifyUrl: set(env.TURNSTILE_VERIFY_URL),
        },
      }
      : {}),
  };
}
