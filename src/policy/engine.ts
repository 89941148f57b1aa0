/**
 * The policy engine as the pipeline sees it: the compiled policy in force for a principal
 * (agent over team over tenant), or none (the request is allowed with score 0).
 */
import type { Principal } from '../auth/directory.js';
import type { CompiledPolicy } from './compile.js';
import type { PolicySet } from './inheritance.js';

export class PolicyEngine {
  constructor(readonly policies: PolicySet) {}

  /** Null when no scope of the principal names a policy. */
  policyFor(p: Principal): CompiledPolicy | null {
    return this.policies.for(p.tenant.policy, p.team.policy, p.agent.policy);
  }
}
