import { describe, expect, it } from 'vitest';
import { buildAdminEvent } from '../admin/events.js';
import type { AdminEventRecord } from '../audit/admin-event.js';
import { parseConfigText } from '../config/load.js';
import type { AuditRecord } from '../audit/record.js';
import { preparedLines } from '../audit/writer.js';
import { AUDIT_COLUMNS, auditColumns, auditColumnValues, preparedDecisionId, preparedTenantId, prepareRecord } from './audit-columns.js';

/** A record with what JSON is picky about: non-ASCII, escapes, odd numbers, nesting, an absent field. */
const tricky = {
  kind: 'request',
  decision_id: 'dec_ünïcode_🎉',
  received_at_ms: 1_760_000_000_123,
  tenant_id: 'acme',
  team_id: undefined,
  agent_id: null,
  key_id: 'key_1',
  endpoint: '/v1/chat/completions',
  model_requested: 'gpt-"quoted"\\back',
  model_resolved: null,
  provider: 'openai',
  stream: true,
  policy_outcome: 'ALLOW',
  risk_score: 0.1 + 0.2,
  http_status: 200,
  error_code: null,
  input_tokens: 12,
  output_tokens: null,
  cost_usd: 1e-7,
  budget_reserved_usd: 1e21,
  total_latency_ms: -0,
  prompt: [{ role: 'user', content: 'line one\nline two\ttab \u2028 \u0007 日本語 \ud83d\ude00 lone \ud800 end' }],
  completion: '</script> & "x"',
  risk_factors: [{ rule: 'r', weight: 0.31 }],
  budget_remaining_usd: { tenant: 4812.329 },
} as unknown as AuditRecord;

/** An admin event, as the admin API builds it. */
const admin: AdminEventRecord = buildAdminEvent(
  { config: parseConfigText('{}', 'x.yaml', {}), identity: { instance: 'g', version: '0', configVersion: 'c' } },
  { id: 'ops', kind: 'token', role: 'admin', tenant: null },
  { action: 'policy.publish', target: { type: 'policy', id: 'default' }, after: { rules: [] } },
  1_767_225_600_000,
);

describe('prepared records', () => {
  it('carry the exact JSON.stringify text of the record (what is stored and hashed)', () => {
    for (const r of [tricky, admin]) {
      const p = prepareRecord(r);
      expect(p.text).toBe(JSON.stringify(r));
      expect(p.kind).toBe(r.kind);
      // The fallback and the spool replay parse the text back: stringifying that gives the same bytes.
      expect(JSON.stringify(JSON.parse(p.text))).toBe(p.text);
    }
  });

  it('carry the mirrored columns in AUDIT_COLUMNS order, from the one mapping', () => {
    expect(AUDIT_COLUMNS).toEqual(Object.keys(auditColumns(tricky)));
    const values = auditColumnValues(tricky);
    expect(values).toHaveLength(AUDIT_COLUMNS.length);
    const named = Object.fromEntries(AUDIT_COLUMNS.map((c, i) => [c, values[i]]));
    // Absent fields bind NULL; booleans become 0/1 (SQLite binds neither undefined nor booleans).
    expect(named).toEqual({ ...auditColumns(tricky), team_id: null });
    expect(named.stream).toBe(1);
    expect(named.total_latency_ms).toBe(-0);
    const p = prepareRecord(tricky);
    expect([preparedDecisionId(p), preparedTenantId(p)]).toEqual(['dec_ünïcode_🎉', 'acme']);
    // Admin events have no latency field: the column is null.
    const a = Object.fromEntries(AUDIT_COLUMNS.map((c, i) => [c, auditColumnValues(admin)[i]]));
    expect(a).toMatchObject({ total_latency_ms: null, stream: 0, tenant_id: null, decision_id: admin.decision_id });
  });

  it('spool as their text, one line, and come back from a line prepared as before', () => {
    const p = prepareRecord(tricky);
    const line = preparedLines.line(p);
    expect(line).toBe(JSON.stringify(tricky));
    expect(line).not.toContain('\n');
    const back = preparedLines.parse(line);
    expect(back.text).toBe(line);
    expect(back).toEqual(prepareRecord(JSON.parse(line) as AuditRecord));
  });
});
