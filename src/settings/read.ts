/**
 * Reading the declared settings from an environment (process env, Deno.env, Workers bindings)
 * and flags, one rule per type for every entry point; and `--help` and README's table from the
 * same declarations.
 * @module
 */
import { urlProblem } from "../providers/base_url.ts";
import { type Setting, setting, SETTINGS } from "./table.ts";

/** A setting's value was unusable; the message names the setting and never shows a secret. */
export class SettingError extends Error {
  override name = "SettingError";
}

/** Where values come from: a record (process.env, Workers `env`) or a getter (Deno.env.get). */
export type SettingSource = Record<string, unknown> | ((name: string) => string | undefined);

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/** A boolean as every entry point reads it: true/false, 1/0, yes/no, on/off, any case. */
export function parseBool(name: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new SettingError(`${name} must be true or false (also 1/0, yes/no), got "${raw.slice(0, 50)}"`);
}

/** The settings of one start: flags win over the environment; blank values count as unset. */
export class Settings {
  #get: (name: string) => string | undefined;
  #flags: Record<string, unknown>;

  constructor(source: SettingSource, flags: Record<string, unknown> = {}) {
    this.#get = typeof source === "function" ? source : (name) => {
      const v = source[name];
      return typeof v === "string" ? v : undefined; // Workers bindings also hold KV namespaces
    };
    this.#flags = flags;
  }

  /** The raw text, from the flag or the environment; undefined when unset or blank. */
  raw(env: string): string | undefined {
    const decl = setting(env);
    const flag = decl.flag === undefined ? undefined : this.#flags[decl.flag];
    const v = typeof flag === "string" ? flag : this.#get(env);
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  }

  /** Where a value came from, for messages: `--port` or `PORT`. */
  origin(env: string): string {
    const decl = setting(env);
    return decl.flag !== undefined && typeof this.#flags[decl.flag] === "string" ? `--${decl.flag}` : env;
  }

  str(env: string): string | undefined {
    return this.raw(env) ?? (setting(env).value as string | undefined);
  }

  /** A positive integer. */
  int(env: string): number | undefined {
    const v = this.raw(env);
    if (v === undefined) return setting(env).value as number | undefined;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) {
      throw new SettingError(`${this.origin(env)} must be a positive integer, got "${v.slice(0, 50)}"`);
    }
    return n;
  }

  /** A non-negative integer (0 often means "off"). */
  count(env: string): number | undefined {
    const v = this.raw(env);
    if (v === undefined) return setting(env).value as number | undefined;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
      throw new SettingError(`${this.origin(env)} must be a whole number (0 or more), got "${v.slice(0, 50)}"`);
    }
    return n;
  }

  /** A port: 0 (any free one) to 65535. */
  port(env: string): number | undefined {
    const v = this.raw(env);
    if (v === undefined) return setting(env).value as number | undefined;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n > 65535) {
      throw new SettingError(`${this.origin(env)} must be a port from 0 to 65535, got "${v.slice(0, 50)}"`);
    }
    return n;
  }

  bool(env: string): boolean {
    const v = this.raw(env);
    return v === undefined ? setting(env).value === true : parseBool(this.origin(env), v);
  }

  /** An http(s) URL, checked: scheme present, no path segment given twice. */
  url(env: string): string | undefined {
    const v = this.raw(env);
    if (v === undefined) return undefined;
    const problem = urlProblem(v);
    if (problem) throw new SettingError(`${this.origin(env)}: ${problem}`);
    return v;
  }
}

/** The `--help` text's list of settings. */
export function settingsHelp(): string {
  return SETTINGS.map((d) => {
    const flag = d.flag ? `--${d.flag} ` : "";
    const def = d.shown ? ` (default ${d.shown.replaceAll("`", "")})` : "";
    return `  ${flag}${d.env}\n      ${d.meaning.replaceAll("`", "")}${def}`;
  }).join("\n");
}

/** README's configuration table, exactly as it must appear there. */
export function settingsTable(): string {
  const row = (d: Setting): string =>
    `| \`${d.env}\` | ${d.flag ? `\`--${d.flag}\`` : "—"} | ${d.shown ?? "—"} | ${d.meaning} |`;
  return ["| Environment | Flag | Default | Meaning |", "|---|---|---|---|", ...SETTINGS.map(row)].join("\n");
}
