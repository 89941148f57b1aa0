/**
 * Tamper evidence. Each tenant's records form a hash chain: a record's hash is
 * sha256(previous record's hash + the record's stored JSON), and records carry consecutive
 * positions. Editing a record breaks its hash; deleting one leaves a gap or a broken link;
 * inserting one breaks the link of the next. A retention run deletes a chain's oldest records
 * and appends an event naming where the chain now starts, so pruning stays verifiable.
 * Truncating a chain's newest records is only visible against an external copy of its head
 * (`omega audit verify` prints each head for that purpose).
 */
import { hash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export function chainHash(prevHash: string, recordJson: string): string {
  // One-shot sha256 of the same UTF-8 bytes as update(prev), update('\n'), update(record) (the
  // '\n' between them keeps any character from joining across a boundary): ~20% cheaper than a
  // Hash object, and every record committed takes one.
  return hash('sha256', `${prevHash}\n${recordJson}`, 'hex');
}

/** The chain a record belongs to: its tenant, or '_' for requests without one. */
export function chainOf(tenantId: string | null): string {
  return tenantId ?? '_';
}

/** One row of the audit table: indexed columns mirroring the record, the record's JSON, and its place in the chain. */
export interface StoredRow {
  seq: number;
  decision_id: string;
  received_at: number;
  tenant_id: string | null;
  team_id: string | null;
  agent_id: string | null;
  key_id: string | null;
  endpoint: string;
  model_requested: string | null;
  model_resolved: string | null;
  provider: string | null;
  stream: number;
  policy_outcome: string;
  risk_score: number;
  http_status: number;
  error_code: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number;
  /** The worst case the request held against its budgets (counted for a decision row left without a final record). */
  budget_reserved_usd: number;
  /** The request's total latency (null for events, and for rows an older version wrote after the column was added). */
  total_latency_ms: number | null;
  /** The whole record as JSON: every signal, including those without a column. */
  record: string;
  /** `request`, `decision` and `cost` (strict mode), or `retention` (an event). */
  kind: string;
  /** One chain per tenant ('_' for unauthenticated requests). */
  chain: string;
  chain_seq: number;
  prev_hash: string;
  /** sha256(prev_hash + '\n' + record). */
  record_hash: string;
}

/** A retention event's content: where the chain continues after its oldest records were deleted. */
export interface RetentionEvent {
  event: 'retention';
  chain: string;
  deleted_before: string;
  deleted_count: number;
  /** The first remaining record's position and the hash it links to. */
  first_kept_seq: number | null;
  first_kept_prev_hash: string | null;
  at: string;
  actor: string;
}

export interface ChainBreak {
  chain: string;
  chain_seq: number;
  decision_id: string;
  reason: string;
}

export interface ChainVerdict {
  chain: string;
  records: number;
  head_seq: number;
  head_hash: string;
  broken: ChainBreak | null;
}

/** The indexed columns must say what the hashed JSON says, or a column edit would go unseen. */
const MIRRORED: [keyof StoredRow, string][] = [
  ['decision_id', 'decision_id'],
  ['received_at', 'received_at_ms'],
  ['tenant_id', 'tenant_id'],
  ['team_id', 'team_id'],
  ['agent_id', 'agent_id'],
  ['key_id', 'key_id'],
  ['endpoint', 'endpoint'],
  ['model_requested', 'model_requested'],
  ['model_resolved', 'model_resolved'],
  ['provider', 'provider'],
  ['policy_outcome', 'policy_outcome'],
  ['risk_score', 'risk_score'],
  ['http_status', 'http_status'],
  ['error_code', 'error_code'],
  ['input_tokens', 'input_tokens'],
  ['output_tokens', 'output_tokens'],
  ['cost_usd', 'cost_usd'],
  ['budget_reserved_usd', 'budget_reserved_usd'],
  ['total_latency_ms', 'total_latency_ms'],
];

/**
 * Verifies one chain, given its rows in chain order. Reports the first broken link: a record
 * whose hash does not match its content, whose columns disagree with its content, whose link
 * does not point at its predecessor, or a gap in positions.
 */
export function verifyChain(chain: string, rows: Iterable<StoredRow>): ChainVerdict {
  let prev: StoredRow | undefined;
  let count = 0;
  // A chain may start after seq 1 only where a retention event vouches for the first kept record.
  const vouched = new Map<number, string>();
  const pending: StoredRow[] = [];
  for (const row of rows) pending.push(row);
  for (const row of pending) {
    if (row.kind === 'retention') {
      const ev = JSON.parse(row.record) as RetentionEvent;
      if (ev.first_kept_seq !== null && ev.first_kept_prev_hash !== null) vouched.set(ev.first_kept_seq, ev.first_kept_prev_hash);
    }
  }
  const fail = (row: StoredRow, reason: string): ChainVerdict => ({
    chain,
    records: count,
    head_seq: prev?.chain_seq ?? 0,
    head_hash: prev?.record_hash ?? GENESIS_HASH,
    broken: { chain, chain_seq: row.chain_seq, decision_id: row.decision_id, reason },
  });
  for (const row of pending) {
    if (chainHash(row.prev_hash, row.record) !== row.record_hash) return fail(row, 'the record does not match its hash (edited)');
    if (row.kind !== 'retention') {
      const json = JSON.parse(row.record) as Record<string, unknown>;
      for (const [column, field] of MIRRORED) {
        const stored = row[column];
        // Records written before the reserved amount was a column have none: the migration stored 0.
        const hashed = json[field] ?? (column === 'budget_reserved_usd' ? 0 : null);
        // A replica of an older version (rolling upgrade) leaves the latency column empty: an index gap, not an edit.
        if (column === 'total_latency_ms' && stored === null) continue;
        if (column === 'stream' ? Boolean(stored) !== Boolean(hashed) : stored !== hashed) return fail(row, `column ${column} differs from the hashed record (edited)`);
      }
      if (Boolean(row.stream) !== Boolean(json.stream)) return fail(row, 'column stream differs from the hashed record (edited)');
    }
    if (prev === undefined) {
      const start = row.chain_seq === 1 ? GENESIS_HASH : vouched.get(row.chain_seq);
      if (start === undefined) return fail(row, `the chain starts at position ${row.chain_seq} with no retention event covering the records before it (deleted)`);
      if (row.prev_hash !== start) return fail(row, 'the first record does not link to the chain start (inserted or deleted)');
    } else {
      if (row.chain_seq !== prev.chain_seq + 1) return fail(row, `position ${prev.chain_seq + 1} is missing (deleted)`);
      if (row.prev_hash !== prev.record_hash) return fail(row, 'the record does not link to its predecessor (inserted, deleted or reordered)');
    }
    prev = row;
    count++;
  }
  return { chain, records: count, head_seq: prev?.chain_seq ?? 0, head_hash: prev?.record_hash ?? GENESIS_HASH, broken: null };
}
