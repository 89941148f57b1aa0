/**
 * Which policy governs a principal, and the compiled policies of a deployment. A scope's
 * `policy` overrides the enclosing scope's: agent over team over tenant (no merging of rules;
 * a policy is one unit, so what decided is always one named, versioned document).
 */
import { compilePolicy, policyHash, type CompiledPolicy } from './compile.js';
import { PolicySchema, type PolicyConfig } from './schema.js';

type Name = string | null | undefined;

/** The policy name in force: the agent's, else the team's, else the tenant's; null when none is set. */
export function resolvePolicyName(tenant: Name, team: Name, agent: Name): string | null {
  return agent ?? team ?? tenant ?? null;
}

export class PolicySet {
  private readonly compiled = new Map<string, CompiledPolicy>();
  /** Per policy name, every version issued so far and the content hash it stood for. */
  private readonly issued = new Map<string, Map<string, string>>();
  private rev = 0;

  /** Compiles every policy now, so a bad rule fails at startup and never on a request. */
  constructor(configs: Record<string, PolicyConfig> = {}) {
    for (const [name, config] of Object.entries(configs)) this.install(name, compilePolicy(name, config));
  }

  private install(name: string, policy: CompiledPolicy): void {
    this.compiled.set(name, policy);
    let versions = this.issued.get(name);
    if (versions === undefined) this.issued.set(name, (versions = new Map()));
    if (!versions.has(policy.version)) versions.set(policy.version, policyHash(policy.config));
  }

  /** Increases with every replace/remove; lets callers cache per revision. */
  get revision(): number {
    return this.rev;
  }

  names(): string[] {
    return [...this.compiled.keys()];
  }

  get(name: string): CompiledPolicy | undefined {
    return this.compiled.get(name);
  }

  /**
   * The compiled policy for a principal's scope policies, or null when none is set (the caller
   * then allows, as for tenants without a policy). An unknown name throws: failing closed beats
   * silently running without the policy someone configured.
   */
  for(tenantPolicy?: Name, teamPolicy?: Name, agentPolicy?: Name): CompiledPolicy | null {
    const name = resolvePolicyName(tenantPolicy, teamPolicy, agentPolicy);
    if (name === null) return null;
    const p = this.compiled.get(name);
    if (p === undefined) throw new Error(`unknown policy "${name}"`);
    return p;
  }

  /**
   * Validates and compiles `config` (the file's input form, e.g. from the admin API) and swaps it
   * in atomically; requests already evaluating keep the old object. Without an explicit
   * `version` the content hash is the version, so any change yields a new one. An explicit
   * version reused for different content (compared with every version this name has had, not
   * only the current one) gets `+<hash>` appended, so two different policies never share a
   * version in the audit trail. Throws (zod or compile error) and keeps the old policy when the
   * new one is invalid.
   */
  replace(name: string, config: unknown): CompiledPolicy {
    let parsed: PolicyConfig = PolicySchema.parse(config);
    if (parsed.version !== undefined) {
      const hash = policyHash(parsed);
      const earlier = this.issued.get(name)?.get(parsed.version);
      if (earlier !== undefined && earlier !== hash) parsed = { ...parsed, version: `${parsed.version}+${hash}` };
    }
    const next = compilePolicy(name, parsed);
    this.install(name, next);
    this.rev++;
    return next;
  }

  /**
   * Installs a policy of a reloaded deployment file (already validated and compiled by the
   * caller); returns false when its content is what is in force already.
   */
  setFromFile(policy: CompiledPolicy): boolean {
    const current = this.compiled.get(policy.name);
    if (current && policyHash(current.config) === policyHash(policy.config) && current.version === policy.version) return false;
    this.install(policy.name, policy);
    this.rev++;
    return true;
  }

  /** Removes a policy; scopes still naming it then fail closed in `for`. */
  remove(name: string): boolean {
    const had = this.compiled.delete(name);
    if (had) this.rev++;
    return had;
  }
}
