/** The human review queue: requests a policy sent to REVIEW, and what reviewers decided. */

export type ReviewStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'abandoned' | 'failed';
export type ReviewMode = 'hold' | 'flag';

export interface ReviewItem {
  id: string;
  decisionId: string;
  tenantId: string;
  teamId: string;
  agentId: string;
  keyId: string;
  model: string;
  mode: ReviewMode;
  status: ReviewStatus;
  createdAt: number;
  /** hold mode: when the request stops waiting and `onTimeout` applies. */
  expiresAt: number | null;
  onTimeout: 'allow' | 'block';
  riskScore: number;
  riskFactors: unknown[];
  matchedRules: unknown[];
  policyName: string | null;
  policyVersion: string | null;
  /** The request as the reviewer may see it: redactions applied per policy. */
  request: unknown;
  decidedAt: number | null;
  reviewer: string | null;
  reason: string | null;
  /** hold mode: the gateway instance (GatewayIdentity.instance) whose request waits; only it fails the item at its restart. */
  owner?: string | null;
}

export interface ReviewFilter {
  tenantId?: string;
  status?: ReviewStatus;
  limit?: number;
  /** Cursor: items created before this id's item. */
  before?: string;
}

export interface ReviewStore {
  create(item: ReviewItem): Promise<void>;
  get(id: string): Promise<ReviewItem | undefined>;
  list(filter: ReviewFilter): Promise<ReviewItem[]>;
  /**
   * Moves a pending item to a final status, once: returns the updated item, or undefined when it
   * was no longer pending (another reviewer, replica or timeout got there first).
   */
  decide(id: string, status: Exclude<ReviewStatus, 'pending'>, reviewer: string | null, reason: string | null, at: number): Promise<ReviewItem | undefined>;
  /**
   * At start: hold items left pending by a previous process of this instance can never be
   * answered; marks them failed and returns them. With `owner`, only that instance's items (and
   * items without an owner, from before owners were recorded) are failed; other replicas' holds
   * are still waiting.
   */
  failPendingHolds(reason: string, at: number, owner?: string): Promise<ReviewItem[]>;
}
