/**
 * The admin dashboard: a server-rendered frame per tab; admin.js fills the tables from the
 * admin API with the session cookie.
 * @module
 */
import type { Child } from "hono/jsx";
import type { Analytics } from "../../stats/analytics.ts";
import { Layout } from "../layout.tsx";
import { AnalyticsCharts } from "./analytics.tsx";
import { Pager, Table } from "../parts.tsx";

/** The dashboard's tabs, in display order. */
export const TABS: ReadonlyArray<readonly [id: string, label: string]> = [
  ["keys", "Keys"],
  ["import", "Import"],
  ["tokens", "Client tokens"],
  ["analytics", "Analytics"],
  ["logs", "Logs"],
  ["health", "Health check"],
  ["users", "Users"],
];

export interface DashboardProps {
  base: string;
  tab: string;
  /** The tabs to offer (Users only when the user system is on). */
  tabs: ReadonlyArray<readonly [id: string, label: string]>;
  provider: string;
  providers: string[];
  /** The Analytics tab's chart data (only on that tab). */
  analytics?: Analytics;
  /** Initial filters of the Logs tab (from the page's query). */
  logFilter?: Record<string, string>;
}

function KeysTab(): Child {
  return (
    <section class="card">
      <form id="keys-filter" class="row" role="search">
        <input name="search" type="search" placeholder="Search id or label" aria-label="Search keys" />
        <select name="status" aria-label="Status">
          <option value="">All states</option>
          <option value="active">Active</option>
          <option value="cooling">Cooling</option>
          <option value="disabled">Disabled</option>
        </select>
        <button type="submit">Search</button>
      </form>
      <Table
        head={["Key", "Label", "Status", "Reason", "Failures", "Priority", "Weight", "Models", "Usage", "Added", ""]}
        body="keys-body"
        num={[4, 5, 6, 8]}
      />
      <Pager id="keys" />
      <div id="key-detail" class="card" hidden></div>
    </section>
  );
}

function ImportTab(): Child {
  return (
    <section class="card">
      <form id="import-form">
        <p class="muted">
          One key per line, or ollama.txt lines{" "}
          <code>email----password----session----key</code>. Blank and malformed lines are reported with their line
          numbers.
        </p>
        <textarea name="content" aria-label="Keys to import"></textarea>
        <div class="row">
          <input id="import-file" type="file" accept=".txt,text/plain" aria-label="Key file" />
          <label>
            <input type="radio" name="mode" value="plain" checked /> Plain
          </label>
          <label>
            <input type="radio" name="mode" value="validated" /> Validated (probe each new key first)
          </label>
          <button type="submit">Import</button>
        </div>
        <progress id="import-progress" max="1" value="0" hidden></progress>
      </form>
      <div id="import-result"></div>
    </section>
  );
}

function TokensTab(): Child {
  return (
    <section class="card">
      <form id="token-create" class="row">
        <input name="name" required maxlength={100} placeholder="Token name" aria-label="Token name" />
        <select name="expires" aria-label="Expiry">
          <option value="0">Never expires</option>
          <option value="1">1 day</option>
          <option value="7">7 days</option>
          <option value="30">30 days</option>
          <option value="90">90 days</option>
        </select>
        <button type="submit">Create token</button>
      </form>
      <div id="token-once" hidden></div>
      <Table
        head={["Name", "Token", "Created", "Expires", "Requests", "Tokens in / out", "Last used", ""]}
        body="tokens-body"
        num={[4, 5]}
      />
    </section>
  );
}

function AnalyticsTab(p: DashboardProps): Child {
  return (
    <section>
      {p.analytics ? <AnalyticsCharts a={p.analytics} base={p.base} /> : null}
      <h2>Totals</h2>
      <div id="analytics-cards" class="grid"></div>
      <h2>Models</h2>
      <div class="card">
        <Table
          head={["Model", "Requests", "Success", "Tokens in", "Tokens out"]}
          body="models-body"
          num={[1, 2, 3, 4]}
        />
      </div>
      <h2>Keys by requests</h2>
      <div class="card">
        <Table
          head={["Key", "Label", "Requests", "Success rate", "Tokens in / out", "Status"]}
          body="keystats-body"
          num={[2, 3, 4]}
        />
      </div>
    </section>
  );
}

function LogsTab(p: DashboardProps): Child {
  const f = p.logFilter ?? {};
  return (
    <section class="card">
      <form id="logs-filter" class="row" role="search">
        <input name="token" value={f.token} placeholder="Token id" aria-label="Client token id" size={14} />
        <input name="key" value={f.key} placeholder="Key id" aria-label="Key id" size={14} />
        <input name="model" value={f.model} placeholder="Model" aria-label="Model" size={14} />
        <input
          name="status"
          value={f.status}
          placeholder="Status or 4xx"
          aria-label="Status"
          size={8}
          pattern="\d{3}|[1-9]xx"
        />
        <input name="since" type="datetime-local" aria-label="Since" />
        <input name="until" type="datetime-local" aria-label="Until" />
        <button type="submit">Search</button>
        <label>
          <input id="logs-auto" type="checkbox" checked /> Refresh
        </label>
        <a id="logs-export" href="#">Export NDJSON</a>
      </form>
      <Table
        head={["Time", "Status", "Model", "Token", "Attempts", "Duration", "Tokens in / out", "Request id"]}
        body="logs-body"
        num={[1, 4, 5, 6]}
      />
      <div class="row">
        <button id="logs-newer" class="secondary" type="button" disabled>Newer</button>
        <button id="logs-older" class="secondary" type="button" disabled>Older</button>
        <span id="logs-info" class="muted"></span>
      </div>
    </section>
  );
}

function HealthTab(): Child {
  return (
    <section class="card">
      <form id="health-form" class="row">
        <select name="scope" aria-label="Which keys">
          <option value="">All keys</option>
          <option value="disabled">Disabled keys</option>
          <option value="cooling">Cooling keys</option>
          <option value="active">Active keys</option>
        </select>
        <button type="submit">Run health check</button>
      </form>
      <progress id="health-progress" max="1" value="0" hidden></progress>
      <p id="health-info" class="muted"></p>
      <Table head={["Key", "Result", "Status", "Reason"]} body="health-body" num={[2]} />
    </section>
  );
}

function UsersTab(): Child {
  return (
    <section>
      <div class="card">
        <form id="users-filter" class="row" role="search">
          <input name="search" type="search" placeholder="Search email or id" aria-label="Search users" />
          <button type="submit">Search</button>
          <button id="users-enable" class="secondary" type="button">Enable ticked</button>
          <button id="users-disable" class="secondary" type="button">Disable ticked</button>
        </form>
        <Table
          head={["", "Email", "State", "Role", "Token valid until", "Requests", "Last check-in", ""]}
          body="users-body"
          num={[5]}
        />
        <Pager id="users" />
      </div>
      <div id="user-detail" hidden></div>
    </section>
  );
}

const BODIES: Record<string, (p: DashboardProps) => Child> = {
  keys: KeysTab,
  import: ImportTab,
  tokens: TokensTab,
  analytics: AnalyticsTab,
  logs: LogsTab,
  health: HealthTab,
  users: UsersTab,
};

export function Dashboard(p: DashboardProps): Child {
  const link = (tab: string, provider: string) => `${p.base}/?tab=${tab}&provider=${encodeURIComponent(provider)}`;
  return (
    <Layout title="Dashboard" base={p.base} script="admin.js">
      <main data-base={p.base} data-tab={p.tab} data-provider={p.provider} data-login="/">
        <div class="row">
          <h1>Dashboard</h1>
          <span class="muted">Provider:</span>
          {p.providers.map((id) => (id === p.provider ? <strong>{id}</strong> : <a href={link(p.tab, id)}>{id}</a>))}
          <form method="post" action={`${p.base}/ui/logout`}>
            <button class="secondary" type="submit">Log out</button>
          </form>
        </div>
        <nav class="tabs">
          {p.tabs.map(([id, label]) => (
            <a href={link(id, p.provider)} aria-current={id === p.tab ? "page" : undefined}>{label}</a>
          ))}
        </nav>
        <div id="msg" class="msg" role="status" hidden></div>
        {BODIES[p.tab](p)}
      </main>
    </Layout>
  );
}

/** The admin login form; `error` is shown above it. */
export function Login(p: { base: string; error?: string }): Child {
  return (
    <Layout title="Log in" base={p.base}>
      <main class="login">
        <div class="card">
          <h1>Admin login</h1>
          {p.error ? <div class="msg error" role="alert">{p.error}</div> : null}
          <form method="post" action={`${p.base}/ui/login`}>
            <label for="token">Admin token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required />
            <button type="submit">Log in</button>
          </form>
          <p class="muted">
            The token is checked once; the browser then keeps only an HttpOnly session cookie for 12 hours.
          </p>
        </div>
      </main>
    </Layout>
  );
}
