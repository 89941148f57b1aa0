/**
 * `omega policy test FILE --request req.json`: the decision the gateway would make for a request,
 * without sending anything anywhere — for reviewing and CI-testing policy changes.
 */
import { readFileSync } from 'node:fs';
import { loadConfigFile } from '../config/load.js';
import { samplePolicyInput, sampleScope } from '../policy/dry-run.js';
import { PolicySet } from '../policy/inheritance.js';
import type { PolicyResult } from '../policy/types.js';

export interface PolicyTestOptions {
  request: string;
  tenant?: string;
  agent?: string;
  policy?: string;
}

export function policyTest(file: string, opts: PolicyTestOptions): { policy: string | null; result: PolicyResult | null } {
  const config = loadConfigFile(file);
  const body = JSON.parse(readFileSync(opts.request, 'utf8')) as Record<string, any>;
  const set = new PolicySet(config.policies);
  let scope = sampleScope(config, opts.tenant ?? '', opts.agent);
  if (!opts.policy && !scope) throw new Error(`give --policy NAME, or --tenant (one of: ${Object.keys(config.tenants).join(', ')})`);
  scope ??= { tenantId: opts.tenant ?? '', teamId: '', agentId: opts.agent ?? '', policy: null };
  const name = opts.policy ?? scope.policy;
  if (name === null) return { policy: null, result: null };
  const policy = set.get(name);
  if (!policy) throw new Error(`unknown policy "${name}"`);
  return { policy: name, result: policy.evaluate(samplePolicyInput(config, body, scope)) };
}
