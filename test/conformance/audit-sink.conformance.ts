import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/verify.js';
import type { AuditRecord } from '../../src/audit/record.js';
import type { Stores } from '../../src/store/types.js';
import { buildAdminEvent } from '../../src/admin/events.js';
import { auditRecord } from '../support/audit-fixtures.js';
import type { Backend, OpenBackend } from './backends.js';

let n = 0;
/** A distinct request record (decision id, time) for a tenant. */
export function record(tenant: string | null, over: Partial<AuditRecord> = {}): AuditRecord {
  n++;
  return auditRecord({ tenant_id: tenant, decision_id: `dec_${n}_${Math.random().toString(36).slice(2)}`, received_at_ms: 1_735_689_600_000 + n, ...over });
}

/** What every AuditSink (with retention) must do: chained, gap-free appends per tenant. */
export function auditSinkConformance(open: OpenBackend): void {
  describe('AuditSink', () => {
    let backend: Backend;
    let stores: Stores;
    beforeEach(async () => {
      backend = await open();
      stores = backend.stores;
    });
    afterEach(() => backend.close());

    it('chains each tenant separately, in append order, across batches', async () => {
      await stores.audit.append([record('acme'), record('globex'), record('acme')]);
      await stores.audit.append([record('acme'), record(null)]);
      await stores.audit.append([]);
      expect(await stores.auditQuery.chains()).toEqual(['_', 'acme', 'globex']);
      const acme = await stores.auditQuery.chainRows('acme');
      expect(acme.map((r) => r.chain_seq)).toEqual([1, 2, 3]);
      expect(acme[1]!.prev_hash).toBe(acme[0]!.record_hash);
      const verdicts = await verifyAudit(stores.auditQuery);
      expect(verdicts.map((v) => [v.chain, v.records, v.broken])).toEqual([
        ['_', 1, null],
        ['acme', 3, null],
        ['globex', 1, null],
      ]);
      expect(verdicts[1]!.head_hash).toBe(acme[2]!.record_hash);
    });

    it('stores the record exactly, with its columns mirroring it', async () => {
      const r = record('acme', { risk_score: 0.123456789, cost_usd: 0.000123, input_tokens: 12345, output_tokens: null, stream: true, error_code: 'x' });
      await stores.audit.append([r]);
      const [row] = await stores.auditQuery.chainRows('acme');
      expect(JSON.parse(row!.record)).toEqual(r);
      expect(row).toMatchObject({ decision_id: r.decision_id, received_at: r.received_at_ms, risk_score: 0.123456789, cost_usd: 0.000123, input_tokens: 12345, output_tokens: null, error_code: 'x', kind: 'request' });
      expect(Boolean(row!.stream)).toBe(true);
    });

    it('keeps chains consistent under concurrent appends', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => stores.audit.append([record('acme'), record(i % 2 ? 'globex' : 'acme')])));
      const verdicts = await verifyAudit(stores.auditQuery);
      expect(verdicts.every((v) => v.broken === null)).toBe(true);
      expect(verdicts.find((v) => v.chain === 'acme')!.records).toBe(30);
    });

    it('prunes old records and chains the deletion, so the chain still verifies and keeps growing', async () => {
      const old = 1_000_000;
      await stores.audit.append([record('acme', { received_at_ms: old }), record('acme', { received_at_ms: old + 1 }), record('acme'), record('globex', { received_at_ms: old })]);
      const nothing = await stores.audit.prune('acme', 0, 'test');
      expect(nothing.deleted_count).toBe(0);
      const event = await stores.audit.prune('acme', old + 1000, 'test');
      expect(event).toMatchObject({ event: 'retention', chain: 'acme', deleted_count: 2, first_kept_seq: 3, actor: 'test' });
      await stores.audit.append([record('acme')]);
      const rows = await stores.auditQuery.chainRows('acme');
      expect(rows.map((r) => [r.chain_seq, r.kind])).toEqual([
        [3, 'request'],
        [4, 'retention'],
        [5, 'request'],
      ]);
      const verdicts = await verifyAudit(stores.auditQuery);
      expect(verdicts.every((v) => v.broken === null)).toBe(true);
      expect(verdicts.find((v) => v.chain === 'globex')!.records).toBe(1);
    });

    it('chains admin events with the records of their tenant (or the gateway chain), and verification covers them', async () => {
      const deps = { config: { admin: { tokens: [] }, providers: {}, tenants: {} } as never, identity: { instance: 'i', version: 'v', configVersion: 'c' } };
      const principal = { id: 'root', kind: 'token' as const, role: 'admin' as const, tenant: null };
      const tenantEvent = buildAdminEvent(deps, principal, { action: 'review.approve', target: { type: 'review', id: 'rev_1' }, tenant: 'acme', before: { status: 'pending' }, after: { status: 'approved' }, reason: 'ok' });
      const gatewayEvent = buildAdminEvent(deps, principal, { action: 'policy.publish', target: { type: 'policy', id: 'p' }, after: { api_key: 'sk-live-secret-value-0123456789', rules: [] } });
      await stores.audit.append([record('acme'), tenantEvent, gatewayEvent, record('acme')]);
      const acme = await stores.auditQuery.chainRows('acme');
      expect(acme.map((r) => r.kind)).toEqual(['request', 'admin', 'request']);
      expect((await stores.auditQuery.chainRows('_')).map((r) => [r.kind, r.decision_id])).toEqual([['admin', gatewayEvent.decision_id]]);
      expect(JSON.parse((await stores.auditQuery.chainRows('_'))[0]!.record).after).toEqual({ api_key: '[redacted]', rules: [] });
      expect((await verifyAudit(stores.auditQuery)).every((v) => v.broken === null)).toBe(true);
      const found = await stores.auditQuery.search({ kinds: ['admin'], tenantId: 'acme' });
      expect(found.data.map((r) => r.decision_id)).toEqual([tenantEvent.decision_id]);
      expect(found.data[0]).toMatchObject({ action: 'review.approve', actor: { id: 'root', role: 'admin' }, reason: 'ok' });
    });
  });
}
