/**
 * Loads the deployment file: YAML → `${ENV}` interpolation → zod validation → cross-reference
 * checks → an immutable snapshot. Every error names the file, the line, the path inside the
 * document and what is wrong, so `omega config validate` is useful in CI.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { ConfigSchema, type ParsedConfig } from './schema.js';

export interface GatewayConfig extends ParsedConfig {
  /** Absolute path of the file it came from (or '<inline>'). */
  readonly source: string;
  /** Short content hash; recorded as `config_version` in every audit record. */
  readonly version: string;
  /** Provider name → the environment variable its credential needed but did not get. */
  readonly missingCredentials: Readonly<Record<string, string>>;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;
type Path = (string | number)[];

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Reads and validates a deployment file. Throws ConfigError listing every problem found. */
export function loadConfigFile(file: string, env: Env = process.env): GatewayConfig {
  const source = isAbsolute(file) ? file : resolve(file);
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (err) {
    throw new ConfigError(source, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseConfigText(text, source, env);
}

/** Validates configuration text (YAML or JSON). `source` names it in error messages. */
export function parseConfigText(text: string, source = '<inline>', env: Env = process.env): GatewayConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => `line ${lineCounter.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`),
    );
  }
  const where = (path: Path): string => {
    const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
    const label = path.length === 0 ? '(top level)' : formatPath(path);
    if (isNode(node) && node.range) return `line ${lineCounter.linePos(node.range[0]).line}: ${label}`;
    return label;
  };

  const missingVars: { path: Path; name: string }[] = [];
  const raw = interpolate(doc.toJS() ?? {}, env, [], missingVars);

  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      source,
      parsed.error.issues.map((issue) => {
        const path = issue.path as Path;
        // The problem may be reported at the value or at its enclosing object (e.g. a refine).
        const missing = missingVars.find((m) => formatPath(m.path.slice(0, path.length)) === formatPath(path));
        const hint = missing ? ` (environment variable ${missing.name} is not set)` : '';
        return `${where(path)}: ${issue.message}${hint}`;
      }),
    );
  }

  const config = parsed.data;
  const missingCredentials: Record<string, string> = {};
  for (const m of missingVars) {
    if (m.path[0] === 'providers' && m.path[2] === 'api_key') missingCredentials[String(m.path[1])] = m.name;
  }
  const problems = crossCheck(config).map(({ path, message }) => `${where(path)}: ${message}`);
  // An OIDC client secret from an unset variable would silently turn the console's client public.
  for (const m of missingVars) {
    if (formatPath(m.path) === 'admin.oidc.client_secret') problems.push(`${where(m.path)}: environment variable ${m.name} is not set`);
  }
  if (problems.length > 0) throw new ConfigError(source, problems);

  const version = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return deepFreeze({ ...config, source, version, missingCredentials });
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string. Unset variables are reported; a value
 * that interpolates to nothing is dropped, so an optional key behaves as if it were absent.
 */
function interpolate(value: unknown, env: Env, path: Path, missing: { path: Path; name: string }[]): unknown {
  if (typeof value === 'string') {
    let unset = false;
    const out = value.replace(ENV_REF, (_all, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      missing.push({ path, name });
      unset = true;
      return '';
    });
    return unset && out === '' ? undefined : out;
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...path, i], missing));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const interpolated = interpolate(v, env, [...path, k], missing);
      if (interpolated !== undefined) out[k] = interpolated;
    }
    return out;
  }
  return value;
}

/**
 * References between sections: models → providers, tenants → models/policies, unique ids.
 * `extraPolicies`: names valid beyond the file's (policies published through the admin API).
 */
export function crossCheck(config: ParsedConfig, extraPolicies: ReadonlySet<string> = new Set()): { path: Path; message: string }[] {
  const problems: { path: Path; message: string }[] = [];
  for (const [name, model] of Object.entries(config.models)) {
    if (model.provider !== undefined && !config.providers[model.provider]) {
      problems.push({ path: ['models', name, 'provider'], message: `unknown provider "${model.provider}"` });
    }
    model.deployments?.forEach((d, i) => {
      if (!config.providers[d.provider]) problems.push({ path: ['models', name, 'deployments', i, 'provider'], message: `unknown provider "${d.provider}"` });
    });
    if (model.context_fallback !== undefined && !config.models[model.context_fallback]) {
      problems.push({ path: ['models', name, 'context_fallback'], message: `unknown model "${model.context_fallback}"` });
    }
    model.fallbacks.forEach((fb, i) => {
      if (!config.models[fb]) problems.push({ path: ['models', name, 'fallbacks', i], message: `unknown model "${fb}"` });
      if (fb === name) problems.push({ path: ['models', name, 'fallbacks', i], message: 'a model cannot fall back to itself' });
    });
  }
  const keyIds = new Map<string, string>();
  const keyHashes = new Set<string>();
  for (const [tenantId, tenant] of Object.entries(config.tenants)) {
    const base: Path = ['tenants', tenantId];
    tenant.models.forEach((m, i) => {
      if (m !== '*' && !config.models[m] && !tenant.aliases[m]) problems.push({ path: [...base, 'models', i], message: `unknown model "${m}"` });
    });
    for (const [alias, target] of Object.entries(tenant.aliases)) {
      if (!config.models[target]) problems.push({ path: [...base, 'aliases', alias], message: `alias targets unknown model "${target}"` });
    }
    const checkPolicy = (policy: string | undefined, path: Path) => {
      if (policy !== undefined && !config.policies[policy] && !extraPolicies.has(policy)) problems.push({ path: [...path, 'policy'], message: `unknown policy "${policy}"` });
    };
    checkPolicy(tenant.policy, base);
    const agentTeams = new Map<string, string>();
    for (const [teamId, team] of Object.entries(tenant.teams)) {
      checkPolicy(team.policy, [...base, 'teams', teamId]);
      for (const [agentId, agent] of Object.entries(team.agents)) {
        const agentPath: Path = [...base, 'teams', teamId, 'agents', agentId];
        checkPolicy(agent.policy, agentPath);
        if (agentTeams.has(agentId)) {
          problems.push({ path: agentPath, message: `agent id "${agentId}" is also used in team "${agentTeams.get(agentId)}"; agent ids are unique per tenant` });
        }
        agentTeams.set(agentId, teamId);
        agent.keys.forEach((key, i) => {
          const where = `${tenantId}/${teamId}/${agentId}`;
          if (keyIds.has(key.id)) problems.push({ path: [...agentPath, 'keys', i, 'id'], message: `key id "${key.id}" is also used by ${keyIds.get(key.id)}` });
          keyIds.set(key.id, where);
          const hash = key.hash ?? `sha256:${createHash('sha256').update(key.key!).digest('hex')}`;
          if (keyHashes.has(hash)) problems.push({ path: [...agentPath, 'keys', i], message: 'the same key is declared twice' });
          keyHashes.add(hash);
        });
      }
    }
  }
  return problems;
}

export function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

