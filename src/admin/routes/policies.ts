/**
 * Policies: list, versions, validate, dry-run a sample request (nothing is forwarded), publish a
 * version, roll back. A publish compiles the policy and swaps it in at once here, stores the
 * version, and announces it on the signal bus so every replica applies it (policy/sync.ts);
 * each publish and rollback is an admin event. Policies are shared by tenants, so only admins
 * of all tenants change them; a tenant-scoped admin reads the policies its tenant runs under
 * and dry-runs against its own tenant.
 */
import { z } from 'zod';
import type { AdminModule } from '../api.js';
import { recordAdminEvent } from '../events.js';
import { assertVisible, notFound, type AdminPrincipal } from '../principal.js';
import { defineRoute } from '../route.js';
import { GatewayError } from '../../errors.js';
import { samplePolicyInput, sampleScope } from '../../policy/dry-run.js';
import { compilePolicy } from '../../policy/compile.js';
import { PolicySchema } from '../../policy/schema.js';

const READ = ['admin', 'auditor'] as const;
const PolicyName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a policy name: letters, digits, _ . - (at most 64)');
const PolicyDoc = z.record(z.string(), z.unknown()).describe('A policy as in the `policies` section of the configuration (docs/policies.md).');

const Version = z.object({ version: z.string(), actor: z.string(), created_at: z.string(), policy: z.unknown() });
const Policy = z.object({
  name: z.string(),
  version: z.string().describe('The version in force.'),
  source: z.enum(['file', 'api']).describe('file: the configuration\'s version is in force; api: a version published through the API.'),
  used_by: z.array(z.string()).describe('Scopes naming it: `tenant`, `tenant/team`, `tenant/team/agent`.'),
  policy: z.unknown(),
});

const ValidationError = z.object({ path: z.string(), message: z.string() });

/** A policy document checked and compiled, without installing it. */
function check(name: string, doc: unknown): { ok: true; version: string; config: unknown } | { ok: false; errors: { path: string; message: string }[] } {
  const parsed = PolicySchema.safeParse(doc);
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) };
  try {
    const compiled = compilePolicy(name, parsed.data);
    return { ok: true, version: compiled.version, config: compiled.config };
  } catch (err) {
    return { ok: false, errors: [{ path: '', message: (err as Error).message }] };
  }
}

export const policyRoutes: AdminModule = (router, deps) => {
  const set = deps.policy.policies;

  /** Which scopes name each policy. */
  const usage = (): Map<string, { scope: string; tenant: string }[]> => {
    const out = new Map<string, { scope: string; tenant: string }[]>();
    const add = (name: string | undefined, scope: string, tenant: string) => {
      if (name) (out.get(name) ?? out.set(name, []).get(name)!).push({ scope, tenant });
    };
    for (const [t, tenant] of Object.entries(deps.config.tenants)) {
      add(tenant.policy, t, t);
      for (const [teamId, team] of Object.entries(tenant.teams)) {
        add(team.policy, `${t}/${teamId}`, t);
        for (const [agentId, agent] of Object.entries(team.agents)) add(agent.policy, `${t}/${teamId}/${agentId}`, t);
      }
    }
    return out;
  };

  const visibleTo = (principal: AdminPrincipal, name: string): boolean => principal.tenant === null || (usage().get(name) ?? []).some((u) => u.tenant === principal.tenant);

  const describe = (principal: AdminPrincipal, name: string) => {
    const p = set.get(name)!;
    const fileVersion = deps.config.policies[name] ? compilePolicy(name, deps.config.policies[name]).version : null;
    const users = (usage().get(name) ?? []).filter((u) => principal.tenant === null || u.tenant === principal.tenant);
    return { name, version: p.version, source: p.version === fileVersion ? ('file' as const) : ('api' as const), used_by: users.map((u) => u.scope), policy: p.config };
  };

  const requireVisible = (principal: AdminPrincipal, name: string) => {
    if (!set.get(name) || !visibleTo(principal, name)) throw notFound(`policy "${name}"`);
  };

  /** Policies are shared by tenants: only an admin of every tenant may change one. */
  const requireUnscoped = (principal: AdminPrincipal) => {
    if (principal.tenant !== null) throw new GatewayError('admin_forbidden', 'Policies are shared by tenants: only an admin of all tenants may publish or roll back a policy.');
  };

  const publish = async (principal: AdminPrincipal, name: string, doc: unknown, action: 'policy.publish' | 'policy.rollback', from?: string) => {
    const before = set.get(name);
    let next;
    try {
      next = set.replace(name, doc);
    } catch (err) {
      const issues = (err as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
      const first = issues?.[0];
      throw new GatewayError('invalid_request', `The policy is invalid and was not published: ${first ? `${first.path.map(String).join('.') || '(policy)'}: ${first.message}` : (err as Error).message}`, { param: first ? ['policy', ...first.path.map(String)].join('.') : 'policy' });
    }
    // Kept in the store (the change survives a restart, every version stays on record), then announced to every replica.
    await deps.stores.policies.put({ name, version: next.version, config: doc, actor: principal.id, createdAt: Date.now() });
    await deps.policySync.announce(name, next.version);
    await recordAdminEvent(deps, principal, {
      action,
      target: { type: 'policy', id: name },
      before: before ? { version: before.version, policy: before.config } : null,
      after: { version: next.version, policy: next.config, ...(from ? { rolled_back_to: from } : {}) },
    });
    deps.logger.info({ policy: name, version: next.version, actor: principal.id, action }, 'policy published');
    return describe(principal, name);
  };

  router.add(
    defineRoute({
      method: 'GET',
      path: '/policies',
      tag: 'policies',
      summary: 'List policies with the version in force.',
      roles: READ,
      response: z.object({ object: z.literal('list'), data: z.array(Policy), next_cursor: z.null() }),
      handler: async ({ principal }) => ({
        object: 'list' as const,
        data: set
          .names()
          .filter((n) => visibleTo(principal, n))
          .sort()
          .map((n) => describe(principal, n)),
        next_cursor: null,
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/policies/:name',
      tag: 'policies',
      summary: 'Get a policy and its published versions.',
      description: '`versions`: every version published through the API, newest first (the configuration file\'s own version is not stored).',
      roles: READ,
      params: z.object({ name: PolicyName }),
      response: Policy.extend({ versions: z.array(Version) }),
      handler: async ({ principal, params }) => {
        requireVisible(principal, params.name);
        const rows = await deps.stores.policies.list(params.name);
        return { ...describe(principal, params.name), versions: rows.map((r) => ({ version: r.version, actor: r.actor, created_at: new Date(r.createdAt).toISOString(), policy: r.config })) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/policies/validate',
      tag: 'policies',
      summary: 'Validate a policy without publishing it.',
      description: 'Answers 200 either way: `valid` and the version it would get, or the errors with their paths.',
      roles: ['admin'],
      body: z.object({ policy: PolicyDoc, name: PolicyName.optional() }).strict(),
      response: z.object({ valid: z.boolean(), version: z.string().optional(), errors: z.array(ValidationError) }),
      handler: async ({ body }) => {
        const result = check(body.name ?? 'draft', body.policy);
        return result.ok ? { valid: true, version: result.version, errors: [] } : { valid: false, errors: result.errors };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/policies/dry-run',
      tag: 'policies',
      summary: 'Decide a sample request under a policy, without forwarding it.',
      description: 'The policy is `policy` (a draft), else the stored policy `name`, else the one the request\'s tenant/agent runs under. The answer is what the gateway would decide: outcome, risk score and factors, matched rules, redactions.',
      roles: ['admin'],
      body: z
        .object({
          policy: PolicyDoc.optional(),
          name: PolicyName.optional(),
          request: z
            .object({
              tenant: z.string().min(1),
              agent: z.string().min(1).optional(),
              model: z.string().min(1),
              messages: z.array(z.unknown()).optional(),
              input: z.unknown().optional(),
            })
            .passthrough()
            .refine((r) => r.messages !== undefined || r.input !== undefined, { message: 'give `messages` (chat) or `input` (embeddings)' }),
        })
        .strict(),
      response: z.object({
        policy: z.object({ name: z.string().nullable(), version: z.string().nullable() }),
        outcome: z.enum(['ALLOW', 'REVIEW', 'BLOCK']),
        risk: z.object({ score: z.number(), factors: z.array(z.unknown()) }),
        matched_rules: z.array(z.unknown()),
        redactions: z.array(z.unknown()),
        shadow_outcome: z.string().nullable(),
        signals: z.unknown(),
        errors: z.array(z.string()),
      }),
      handler: async ({ principal, body }) => {
        assertVisible(principal, body.request.tenant, `tenant "${body.request.tenant}"`);
        const scope = sampleScope(deps.config, body.request.tenant, body.request.agent);
        if (!scope) throw new GatewayError('not_found', `No tenant "${body.request.tenant}".`, { param: 'request.tenant' });
        let policy;
        if (body.policy !== undefined) {
          const result = check(body.name ?? 'draft', body.policy);
          if (!result.ok) throw new GatewayError('invalid_request', `The policy is invalid: ${result.errors[0]!.path || '(policy)'}: ${result.errors[0]!.message}`, { param: ['policy', result.errors[0]!.path].filter(Boolean).join('.') });
          policy = compilePolicy(body.name ?? 'draft', PolicySchema.parse(body.policy));
        } else {
          const name = body.name ?? scope.policy;
          if (name) {
            if (body.name) requireVisible(principal, name);
            policy = set.get(name);
            if (!policy) throw notFound(`policy "${name}"`);
          }
        }
        const { tenant: _t, agent: _a, ...request } = body.request;
        if (!policy) return { policy: { name: null, version: null }, outcome: 'ALLOW' as const, risk: { score: 0, factors: [] }, matched_rules: [], redactions: [], shadow_outcome: null, signals: null, errors: [] };
        const result = await policy.evaluateInSlices(samplePolicyInput(deps.config, request, scope));
        return {
          policy: { name: result.policyName, version: result.policyVersion },
          outcome: result.outcome,
          risk: { score: result.riskScore, factors: result.riskFactors },
          matched_rules: result.matchedRules,
          redactions: result.redactions,
          shadow_outcome: result.shadowOutcome,
          signals: result.signals,
          errors: result.errors,
        };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/policies/:name/versions',
      tag: 'policies',
      summary: 'Publish a new version of a policy.',
      description: 'Validated and compiled first (400 with `param` when invalid; nothing changes). In force on this replica at once and on every other within moments (signal bus; a resync every 10 s covers a lost message); in-flight requests finish under the version they started with. Recorded as an admin event (`policy.publish`).',
      roles: ['admin'],
      status: 201,
      params: z.object({ name: PolicyName }),
      body: z.object({ policy: PolicyDoc }).strict(),
      response: Policy,
      handler: async ({ principal, params, body }) => {
        requireUnscoped(principal);
        return publish(principal, params.name, body.policy, 'policy.publish');
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/policies/:name/rollback',
      tag: 'policies',
      summary: 'Roll a policy back to an earlier version.',
      description: 'Publishes the stored content of `version` again (or the configuration file\'s, when `version` is the file\'s). Recorded as an admin event (`policy.rollback`).',
      roles: ['admin'],
      params: z.object({ name: PolicyName }),
      body: z.object({ version: z.string().min(1).max(200) }).strict(),
      response: Policy,
      handler: async ({ principal, params, body }) => {
        requireUnscoped(principal);
        requireVisible(principal, params.name);
        const stored = (await deps.stores.policies.list(params.name)).find((v) => v.version === body.version);
        const file = deps.config.policies[params.name];
        const doc = stored?.config ?? (file && compilePolicy(params.name, file).version === body.version ? file : undefined);
        if (doc === undefined) throw new GatewayError('not_found', `Policy "${params.name}" has no version "${body.version}".`, { param: 'version' });
        return publish(principal, params.name, doc, 'policy.rollback', body.version);
      },
    }),
  );
};
