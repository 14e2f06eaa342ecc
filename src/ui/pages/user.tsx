/**
 * The user pages: `/user` (sign in by password or emailed code, register) and
 * `/user/dashboard` (profile, the user's client token with a copy button and expiry countdown,
 * the daily check-in, check-in history). user.js drives them through `/api/auth/*`.
 * @module
 */
import type { Child } from "hono/jsx";
import { Layout } from "../layout.tsx";
import { Pager, Table } from "../parts.tsx";

/** What the pages need from the user system's configuration. */
export interface UserPageConfig {
  base: string;
  passwordMinLength: number;
  resendSeconds: number;
  timeZone: string;
  /** Turnstile's site key when Turnstile is on. */
  turnstileSiteKey?: string;
}

/** Cloudflare's Turnstile loader: the one third-party script, only on /user, only when enabled. */
export const TURNSTILE_SCRIPT = "https://challenges.cloudflare.com/turnstile/v0/api.js";

const Turnstile = (
  p: { siteKey?: string },
): Child => (p.siteKey ? <div class="cf-turnstile" data-sitekey={p.siteKey}></div> : null);

/** The emailed 6-digit code and the button that sends it (sign-in and registration alike). */
const CodeRow = (p: { buttonId: string; required?: boolean }): Child => (
  <div class="row">
    <input
      name="code"
      inputmode="numeric"
      pattern="[0-9]{6}"
      maxlength={6}
      placeholder="6-digit code"
      aria-label="Code"
      required={p.required}
      autocomplete="one-time-code"
    />
    <button id={p.buttonId} class="secondary" type="button">Send code</button>
  </div>
);

export function UserLogin(p: UserPageConfig): Child {
  return (
    <Layout
      title="Sign in"
      base={p.base}
      script="user.js"
      externalScript={p.turnstileSiteKey ? TURNSTILE_SCRIPT : undefined}
    >
      <main
        class="login"
        data-base={p.base}
        data-page="login"
        data-resend={String(p.resendSeconds)}
        data-turnstile={p.turnstileSiteKey ? "on" : "off"}
      >
        <div id="msg" class="msg" role="status" hidden></div>
        <div class="card">
          <h1>Sign in</h1>
          <form id="login-form">
            <label for="login-email">Email</label>
            <input id="login-email" name="email" type="email" autocomplete="email" required />
            <label for="login-password">Password</label>
            <input id="login-password" name="password" type="password" autocomplete="current-password" />
            <p class="muted">…or sign in with a code sent to your email:</p>
            <CodeRow buttonId="login-code-btn" />
            <Turnstile siteKey={p.turnstileSiteKey} />
            <button type="submit">Sign in</button>
          </form>
        </div>
        <div class="card">
          <h1>Register</h1>
          <form id="register-form">
            <label for="reg-email">Email</label>
            <input id="reg-email" name="email" type="email" autocomplete="email" required />
            <CodeRow buttonId="register-code-btn" required />
            <label for="reg-password">{`Password (at least ${p.passwordMinLength} characters)`}</label>
            <input
              id="reg-password"
              name="password"
              type="password"
              autocomplete="new-password"
              minlength={p.passwordMinLength}
              required
            />
            <Turnstile siteKey={p.turnstileSiteKey} />
            <button type="submit">Register and get a token</button>
          </form>
        </div>
      </main>
    </Layout>
  );
}

const Field = (p: { label: string; id: string }): Child => (
  <div class="metric">
    <div class="v" id={p.id}>-</div>
    <div class="l">{p.label}</div>
  </div>
);

export function UserDashboard(p: UserPageConfig): Child {
  return (
    <Layout title="Your access" base={p.base} script="user.js">
      <main data-base={p.base} data-page="dashboard">
        <div class="row">
          <h1>Your access</h1>
          <button id="u-logout" class="secondary" type="button">Sign out</button>
        </div>
        <div id="msg" class="msg" role="status" hidden></div>
        <div class="grid">
          <Field label="email" id="u-email" />
          <Field label="role" id="u-role" />
          <Field label="requests with your token" id="u-requests" />
          <Field label="provider" id="u-provider" />
        </div>
        <h2>Your API token</h2>
        <div class="card">
          <div class="secret-once">
            <code id="u-token">-</code>
            <button id="u-copy" class="secondary" type="button">Copy</button>
          </div>
          <p>
            Valid until <strong id="u-expires">-</strong> · <span class="muted">time left</span>{" "}
            <strong id="u-countdown" class="mono">-</strong>
          </p>
          <p class="muted">
            Use it as an OpenAI API key: <code>{`Authorization: Bearer <token>`}</code> against{" "}
            <code>{`${p.base}/v1`}</code>.
          </p>
        </div>
        <h2>Daily check-in</h2>
        <div class="card">
          <p id="u-checkin-info" class="muted"></p>
          <button id="u-checkin" type="button">Check in (+24 h)</button>
        </div>
        <h2>Check-in history</h2>
        <div class="card">
          <Table head={["Day", "At"]} body="signins-body" />
          <Pager id="signins" />
        </div>
        <p class="muted">
          Account created <span id="u-created">-</span> · last sign-in <span id="u-login">-</span>
        </p>
      </main>
    </Layout>
  );
}

/** Shown at /user when the pool runs without the user system. */
export function UsersOff(p: { base: string }): Child {
  return (
    <Layout title="Sign in" base={p.base}>
      <main class="login">
        <div class="card">
          <h1>Self-service is off</h1>
          <p>This pool does not offer user accounts; ask its administrator for a token.</p>
        </div>
      </main>
    </Layout>
  );
}
