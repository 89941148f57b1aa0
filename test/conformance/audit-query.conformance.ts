import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportAudit, queryAudit } from '../../src/audit/query.js';
import { spendReport } from '../../src/audit/spend.js';
import type { AuditRecord } from '../../src/audit/record.js';
import type { Stores } from '../../src/store/types.js';
import { record } from './audit-sink.conformance.js';
import type { Backend, OpenBackend } from './backends.js';

const T0 = Date.UTC(2025, 0, 1, 10, 0, 0);
const MIN = 60_000;

/** What every AuditQuery must answer, over records appended through the same back end's sink. */
export function auditQueryConformance(open: OpenBackend): void {
  describe('AuditQuery', () => {
    let backend: Backend;
    let stores: Stores;
    let rows: AuditRecord[];
    beforeEach(async () => {
      backend = await open();
      stores = backend.stores;
      rows = [
        record('acme', { received_at_ms: T0, team_id: 'research', agent_id: 'bot', key_id: 'k1', model_resolved: 'gpt-4o', model_requested: 'fast', policy_outcome: 'ALLOW', risk_score: 0.1, cost_usd: 0.25, input_tokens: 100, output_tokens: 10 }),
        record('acme', { received_at_ms: T0 + 5 * MIN, team_id: 'research', agent_id: 'bot', key_id: 'k1', model_resolved: 'gpt-4o', policy_outcome: 'BLOCK', risk_score: 0.9, cost_usd: 0, input_tokens: 50, output_tokens: 0 }),
        record('acme', { received_at_ms: T0 + 20 * MIN, team_id: 'ops', agent_id: 'cron', key_id: 'k2', model_resolved: 'claude', policy_outcome: 'ALLOW', risk_score: 0.5, cost_usd: 1.5, input_tokens: 1000, output_tokens: 200 }),
        // Strict mode's decision row whose final record a crash lost: charged at its reserved amount.
        record('acme', { kind: 'decision', received_at_ms: T0 + 21 * MIN, team_id: 'ops', agent_id: 'cron', key_id: 'k2', model_resolved: 'claude', cost_usd: 9, budget_reserved_usd: 0.5, input_tokens: null, output_tokens: null }),
        record('globex', { received_at_ms: T0 + 1 * MIN, team_id: 'x', agent_id: 'y', key_id: 'k3', model_resolved: 'gpt-4o', cost_usd: 2, input_tokens: 1, output_tokens: 1 }),
        record(null, { received_at_ms: T0 + 2 * MIN, team_id: null, agent_id: null, key_id: null, policy_outcome: 'BLOCK', cost_usd: 0 }),
      ];
      await stores.audit.append(rows);
    });
    afterEach(() => backend.close());

    const ids = (page: { data: { decision_id: string }[] }) => page.data.map((r) => r.decision_id);
    const id = (...i: number[]) => i.map((k) => rows[k]!.decision_id);

    it('searches newest first, finished requests only unless asked for all kinds', async () => {
      expect(ids(await queryAudit(stores.auditQuery, {}))).toEqual(id(5, 4, 2, 1, 0));
      expect(ids(await queryAudit(stores.auditQuery, { allKinds: true }))).toEqual(id(5, 4, 3, 2, 1, 0));
    });

    it('filters on tenant, team, agent, model (resolved or requested), outcome, risk, time and decision', async () => {
      const q = (f: Parameters<typeof queryAudit>[1]) => queryAudit(stores.auditQuery, f).then(ids);
      expect(await q({ tenantId: 'acme' })).toEqual(id(2, 1, 0));
      expect(await q({ teamId: 'ops' })).toEqual(id(2));
      expect(await q({ agentId: 'bot' })).toEqual(id(1, 0));
      expect(await q({ model: 'fast' })).toEqual(id(0));
      expect(await q({ model: 'gpt-4o' })).toEqual(id(4, 1, 0));
      expect(await q({ outcome: 'BLOCK' })).toEqual(id(5, 1));
      expect(await q({ riskMin: 0.5 })).toEqual(id(2, 1));
      expect(await q({ riskMax: 0.5, tenantId: 'acme' })).toEqual(id(2, 0));
      expect(await q({ since: T0 + MIN, until: T0 + 20 * MIN })).toEqual(id(5, 4, 1));
      expect(await q({ decisionId: rows[4]!.decision_id })).toEqual(id(4));
    });

    it('returns the record with its position and hash', async () => {
      const page = await queryAudit(stores.auditQuery, { tenantId: 'globex' });
      expect(page.data[0]).toEqual({ ...rows[4], seq: expect.any(Number), chain_seq: 1, record_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    });

    it('pages with an opaque cursor and rejects a malformed one', async () => {
      const first = await queryAudit(stores.auditQuery, { limit: 2 });
      expect(ids(first)).toEqual(id(5, 4));
      const second = await queryAudit(stores.auditQuery, { limit: 2, cursor: first.next_cursor! });
      expect(ids(second)).toEqual(id(2, 1));
      const third = await queryAudit(stores.auditQuery, { limit: 2, cursor: second.next_cursor! });
      expect(ids(third)).toEqual(id(0));
      expect(third.next_cursor).toBeNull();
      await expect(queryAudit(stores.auditQuery, { cursor: 'not-a-cursor' })).rejects.toThrow('invalid cursor');
    });

    it('exports oldest first, in pages, with filters', async () => {
      const all: string[] = [];
      for await (const r of exportAudit(stores.auditQuery, {})) all.push(r.decision_id);
      expect(all).toEqual(id(0, 1, 2, 4, 5));
      expect((await stores.auditQuery.exportPage({ tenantId: 'acme', allKinds: true }, 0, 10)).map((r) => r.record.decision_id)).toEqual(id(0, 1, 2, 3));
      const page = await stores.auditQuery.exportPage({}, 0, 2);
      expect((await stores.auditQuery.exportPage({}, page.at(-1)!.seq, 2)).map((r) => r.record.decision_id)).toEqual(id(2, 4));
      expect(await stores.auditQuery.exportPage({ since: T0 + 30 * MIN }, 0, 10)).toEqual([]);
    });

    it('aggregates charged rows in 15-minute buckets, with a tenant only', async () => {
      const buckets = await stores.auditQuery.spendBuckets({ since: T0, tenantId: 'acme' });
      const sorted = buckets.sort((a, b) => a.bucket - b.bucket || String(a.team_id).localeCompare(String(b.team_id)));
      expect(sorted).toEqual([
        { bucket: T0, tenant_id: 'acme', team_id: 'research', agent_id: 'bot', model_resolved: 'gpt-4o', requests: 2, input_tokens: 150, output_tokens: 10, cost_usd: 0.25 },
        { bucket: T0 + 15 * MIN, tenant_id: 'acme', team_id: 'ops', agent_id: 'cron', model_resolved: 'claude', requests: 2, input_tokens: 1000, output_tokens: 200, cost_usd: 2 },
      ]);
      expect(await stores.auditQuery.spendBuckets({ since: T0, until: T0 + MIN })).toHaveLength(1);
      const report = await spendReport(stores.auditQuery, { since: T0, timeZone: 'UTC' });
      expect(report.map((r) => [r.day, r.tenant_id, r.requests, r.cost_usd])).toEqual([
        ['2025-01-01', 'acme', 2, 2],
        ['2025-01-01', 'acme', 2, 0.25],
        ['2025-01-01', 'globex', 1, 2],
      ]);
    });

    it('sums what a budget scope\'s requests charged since a time (a lost final record at its reservation)', async () => {
      const sum = (column: 'tenant_id' | 'team_id' | 'agent_id' | 'key_id', value: string, since = T0) => stores.auditQuery.sumCost({ tenantId: 'acme', column, value, since });
      expect(await sum('tenant_id', 'acme')).toBeCloseTo(2.25, 10);
      expect(await sum('team_id', 'ops')).toBeCloseTo(2, 10);
      expect(await sum('agent_id', 'bot')).toBeCloseTo(0.25, 10);
      expect(await sum('key_id', 'k3')).toBe(0); // another tenant's key
      expect(await sum('tenant_id', 'acme', T0 + 10 * MIN)).toBeCloseTo(2, 10);
      expect(await sum('tenant_id', 'nobody')).toBe(0);
    });

    it('counts each request once: its final row, else its cost row, else its decision row at its reservation', async () => {
      const at = T0 + 40 * MIN;
      const base = { received_at_ms: at, team_id: 'strict', agent_id: 'a', key_id: 'k9', model_resolved: 'm', input_tokens: null, output_tokens: null };
      const finished = 'dec_strict_finished';
      const costed = 'dec_strict_costed';
      const lost = 'dec_strict_lost';
      await stores.audit.append([
        record('acme', { ...base, kind: 'decision', decision_id: finished, cost_usd: 0, budget_reserved_usd: 5 }),
        record('acme', { ...base, kind: 'cost', decision_id: finished, cost_usd: 0.75 }),
        record('acme', { ...base, kind: 'request', decision_id: finished, cost_usd: 0.8, input_tokens: 10, output_tokens: 2 }),
        record('acme', { ...base, kind: 'decision', decision_id: costed, cost_usd: 0, budget_reserved_usd: 5 }),
        record('acme', { ...base, kind: 'cost', decision_id: costed, cost_usd: 0.3 }),
        record('acme', { ...base, kind: 'decision', decision_id: lost, cost_usd: 0, budget_reserved_usd: 0.4 }),
        // Another replica's request in flight: seen by everyone, recovered by no one else.
        record('globex', { ...base, kind: 'decision', decision_id: 'dec_other_replica', cost_usd: 0, budget_reserved_usd: 0.1, gateway_instance: 'host:2' }),
      ]);
      expect(await stores.auditQuery.sumCost({ tenantId: 'acme', column: 'team_id', value: 'strict', since: at })).toBeCloseTo(0.8 + 0.3 + 0.4, 10);
      const [bucket, ...more] = await stores.auditQuery.spendBuckets({ since: at, tenantId: 'acme' });
      expect(more).toEqual([]);
      expect(bucket).toMatchObject({ team_id: 'strict', requests: 3, input_tokens: 10, output_tokens: 2 });
      expect(bucket!.cost_usd).toBeCloseTo(1.5, 10);
      const unfinished = await stores.auditQuery.unfinished();
      expect(unfinished.map((r) => [r.record.decision_id, r.kind])).toEqual([
        [rows[3]!.decision_id, 'decision'],
        [costed, 'decision'],
        [costed, 'cost'],
        [lost, 'decision'],
        ['dec_other_replica', 'decision'],
      ]);
      // One instance's own (recovery at start, audit/recover.ts).
      expect((await stores.auditQuery.unfinished('host:1')).map((r) => r.record.decision_id)).toEqual([rows[3]!.decision_id, costed, costed, lost]);
      expect((await stores.auditQuery.unfinished('host:2')).map((r) => r.record.decision_id)).toEqual(['dec_other_replica']);
      expect(await stores.auditQuery.unfinished('host:3')).toEqual([]);
    });

    it('groups charged spend by tenant, team, agent or model (SQL), largest cost first', async () => {
      const q = (group: 'tenant' | 'team' | 'agent' | 'model', tenantId?: string) => stores.auditQuery.spendBy({ group, tenantId, since: T0, until: T0 + 60 * MIN });
      const tenants = await q('tenant');
      expect(tenants.map((r) => [r.tenant_id, r.requests, r.input_tokens])).toEqual([
        ['acme', 4, 1150],
        ['globex', 1, 1],
      ]);
      expect(tenants[0]!.cost_usd).toBeCloseTo(0.25 + 1.5 + 0.5, 10);
      expect((await q('team', 'acme')).map((r) => [r.tenant_id, r.team_id, r.requests])).toEqual([
        ['acme', 'ops', 2],
        ['acme', 'research', 2],
      ]);
      expect((await q('agent')).map((r) => [r.tenant_id, r.team_id, r.agent_id])).toEqual([
        ['acme', 'ops', 'cron'],
        ['globex', 'x', 'y'],
        ['acme', 'research', 'bot'],
      ]);
      const models = await q('model');
      expect(models.map((r) => [r.model, r.tenant_id, r.requests])).toEqual([
        ['gpt-4o', null, 3],
        ['claude', null, 2],
      ]);
      expect(await stores.auditQuery.spendBy({ group: 'tenant', since: T0 + 61 * MIN })).toEqual([]);
    });

    it('aggregates finished requests per time bucket: outcomes, errors, cost and latency percentiles (SQL)', async () => {
      const at = T0 + 120 * MIN;
      const lat = (ms: number, over: Partial<AuditRecord> = {}) => record('acme', { received_at_ms: at + ms, total_latency_ms: ms, ...over });
      await stores.audit.append([
        ...Array.from({ length: 20 }, (_, i) => lat(i + 1, { policy_outcome: 'ALLOW', cost_usd: 0.01 })),
        lat(100, { policy_outcome: 'BLOCK', http_status: 403, error_code: 'policy_blocked', cost_usd: 0 }),
        lat(200, { policy_outcome: 'REVIEW', http_status: 502, error_code: 'upstream_error', cost_usd: 0 }),
        record('globex', { received_at_ms: at + 5, total_latency_ms: 9999, policy_outcome: 'ALLOW' }),
        record('acme', { kind: 'decision', received_at_ms: at + 6, total_latency_ms: 9999 }),
        record('acme', { received_at_ms: at + 15 * MIN, total_latency_ms: 7, policy_outcome: 'ALLOW', cost_usd: 0 }),
      ]);
      const rows = await stores.auditQuery.overview({ since: at, until: at + 30 * MIN, bucketMs: 15 * MIN, tenantId: 'acme' });
      expect(rows.sort((a, b) => a.bucket - b.bucket)).toEqual([
        // 22 latencies 1..20, 100, 200: the 11th (50 %) is 11 and the 21st (95 %) is 100.
        { bucket: at, requests: 22, allow: 20, review: 1, block: 1, errors: 1, cost_usd: expect.closeTo(0.2, 10), latency_p50_ms: 11, latency_p95_ms: 100 },
        { bucket: at + 15 * MIN, requests: 1, allow: 1, review: 0, block: 0, errors: 0, cost_usd: 0, latency_p50_ms: 7, latency_p95_ms: 7 },
      ]);
      const everyone = await stores.auditQuery.overview({ since: at, until: at + 15 * MIN, bucketMs: 15 * MIN });
      expect(everyone[0]!.requests).toBe(23);
    });

    it('filters by kind and free text', async () => {
      const q = (f: Parameters<typeof queryAudit>[1]) => queryAudit(stores.auditQuery, f).then(ids);
      expect(await q({ kinds: ['decision'] })).toEqual(id(3));
      expect(await q({ kinds: ['request', 'decision'], tenantId: 'acme' })).toEqual(id(3, 2, 1, 0));
      expect(await q({ text: rows[4]!.decision_id.slice(4, 14) })).toEqual(id(4));
      expect(await q({ text: 'claud' })).toEqual(id(2));
      expect(await q({ text: '100%_' })).toEqual([]);
      const exported: string[] = [];
      for await (const r of exportAudit(stores.auditQuery, { kinds: ['decision'] })) exported.push(r.decision_id);
      expect(exported).toEqual(id(3));
    });
  });
}
