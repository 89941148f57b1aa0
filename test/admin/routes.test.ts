/**
 * Every /admin/v1 endpoint against a real gateway (SQLite, fake OpenAI upstream, the `openai`
 * SDK as the client), and every role boundary: reviewers are limited to the queue and their
 * tenant, auditors only read, tenant-scoped admins see only their tenant. Admin events land in
 * the audit chain, which verifies, and a tampered event is caught.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTHER_TENANT_KEY, TENANT_KEY } from '../support/gateway.js';
import type { APIError } from 'openai';
import { refused, waitFor } from '../support/requests.js';
import { startAdminHarness, TOKENS, type AdminHarness, type Who } from './harness.js';

const POLICY = `
policies:
  held:
    thresholds: { review: 0.5, block: 0.95 }
    review: { mode: hold, timeout: 20s, on_timeout: block }
    rules:
      - { id: long-answers, when: 'request.max_tokens > 1000', action: review }
      - { id: no-zebras, terms: ['zebra crossing'], action: block }
`;

let h: AdminHarness;
beforeAll(async () => {
  h = await startAdminHarness(POLICY, (yaml) =>
    yaml
      .replace('  acme:\n', '  acme:\n    policy: held\n    budget: { usd: 100, period: monthly, alerts: [0.5] }\n')
      .replace('  globex:\n', '  globex:\n    policy: held\n'),
  );
}, 60_000);
afterAll(async () => h?.stop());

const call = (who: Who | null, method: string, path: string, body?: unknown) => h.call(who, method, path, body);
const user = (content: string) => [{ role: 'user' as const, content }];

/** A chat request the `held` policy sends to review (hold mode); resolves when the gateway answers. */
function heldCall(key: string, marker: string, model = 'gpt-test') {
  return h.gw.client(key).chat.completions.create({ model, max_tokens: 2000, messages: user(`Please go ahead ${marker}`) });
}

async function pendingFor(marker: string): Promise<any> {
  return waitFor(async () => {
    const { json } = await call('admin', 'GET', '/reviews?status=pending&limit=500');
    return json.data.find((i: any) => JSON.stringify(i.request).includes(marker));
  }, `a pending review for ${marker}`, 10_000);
}

/** Reads server-sent events from a streaming response until `until` is satisfied. */
async function readEvents(res: Response, until: (events: { event: string; data: any }[]) => boolean, ms = 10_000): Promise<{ event: string; data: any }[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: any }[] = [];
  let buffer = '';
  const deadline = Date.now() + ms;
  try {
    while (!until(events)) {
      if (Date.now() > deadline) throw new Error(`timed out; events so far: ${events.map((e) => `${e.event} ${e.data.id}`).join(', ')}`);
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return events;
}

describe('reviews', () => {
  it('lists, shows and decides items within each principal\'s role and tenant', async () => {
    const acmeCall = heldCall(TENANT_KEY, '[acme-1]');
    // Settled at once (a rejection must not go unhandled while the test waits for it).
    const globexCall = heldCall(OTHER_TENANT_KEY, '[globex-1]', 'gpt-other').then(() => null, (e: APIError) => e);
    const acmeItem = await pendingFor('[acme-1]');
    const globexItem = await pendingFor('[globex-1]');

    expect(acmeItem).toMatchObject({
      status: 'pending',
      mode: 'hold',
      tenant: 'acme',
      team: 'research',
      agent: 'bot',
      model: 'gpt-test',
      on_timeout: 'block',
      policy: { name: 'held' },
      matched_rules: [{ id: 'long-answers', action: 'review', shadow: false }],
      tool_call: null,
      reviewer: null,
    });
    expect(acmeItem.risk.score).toBeGreaterThanOrEqual(0.5);
    expect(acmeItem.risk.factors).toContainEqual(expect.objectContaining({ factor: 'rule:long-answers' }));
    expect(acmeItem.request.messages).toEqual(user('Please go ahead [acme-1]'));

    // The acme reviewer sees acme's queue only; globex's items and queue do not exist for it.
    const acmeList = (await call('acmeReviewer', 'GET', '/reviews?status=pending')).json.data.map((i: any) => i.tenant);
    expect(new Set(acmeList)).toEqual(new Set(['acme']));
    expect((await call('acmeReviewer', 'GET', `/reviews/${globexItem.id}`)).status).toBe(404);
    expect((await call('acmeReviewer', 'GET', '/reviews?tenant=globex')).status).toBe(404);
    expect((await call('globexReviewer', 'POST', `/reviews/${acmeItem.id}/approve`, {})).status).toBe(404);
    expect((await call('acmeAdmin', 'GET', `/reviews/${globexItem.id}`)).status).toBe(404);

    // Auditors read but never decide.
    expect((await call('auditor', 'GET', `/reviews/${acmeItem.id}`)).json.id).toBe(acmeItem.id);
    const denied = await call('auditor', 'POST', `/reviews/${acmeItem.id}/approve`, {});
    expect(denied.status).toBe(403);
    expect(denied.json.error).toMatchObject({ code: 'admin_forbidden', type: 'permission_error' });

    // Bad input: 400 in the error shape, naming the field.
    const badReason = await call('acmeReviewer', 'POST', `/reviews/${acmeItem.id}/approve`, { reason: 42 });
    expect(badReason.status).toBe(400);
    expect(badReason.json.error).toMatchObject({ code: 'invalid_request', param: 'reason', type: 'invalid_request_error' });
    expect((await call('admin', 'GET', '/reviews?status=bogus')).json.error).toMatchObject({ code: 'invalid_request', param: 'status' });
    expect((await call('admin', 'GET', '/reviews?limit=0')).json.error).toMatchObject({ code: 'invalid_request', param: 'limit' });
    expect((await call('admin', 'GET', '/reviews/rev_doesnotexist')).json.error).toMatchObject({ code: 'not_found' });

    // The acme reviewer approves: the waiting SDK call completes.
    const approved = await call('acmeReviewer', 'POST', `/reviews/${acmeItem.id}/approve`, { reason: 'expected long answer' });
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ status: 'approved', reviewer: 'ada', reason: 'expected long answer' });
    expect((await acmeCall).choices[0]!.message.content).toBeTruthy();
    const again = await call('reviewer', 'POST', `/reviews/${acmeItem.id}/reject`, {});
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('review_already_decided');

    // An admin of all tenants rejects globex's: the SDK call gets 403 review_rejected.
    expect((await call('admin', 'POST', `/reviews/${globexItem.id}/reject`, { reason: 'not today' })).json.status).toBe('rejected');
    const err = await globexCall;
    expect(err?.status).toBe(403);
    expect(err?.message).toContain('not today');

    // Pages: limit + cursor.
    const page1 = (await call('admin', 'GET', '/reviews?limit=1')).json;
    expect(page1.data).toHaveLength(1);
    const page2 = (await call('admin', 'GET', `/reviews?limit=1&cursor=${page1.next_cursor}`)).json;
    expect(page2.data[0].id).not.toBe(page1.data[0].id);
  });

  it('streams review.created and review.decided events of the follower\'s tenant only (SSE)', async () => {
    const res = await fetch(`${h.gw.url}/admin/v1/reviews/events`, { headers: { authorization: `Bearer ${TOKENS.acmeReviewer}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const globexCall = heldCall(OTHER_TENANT_KEY, '[globex-sse]', 'gpt-other').then(() => null, (e: APIError) => e);
    await pendingFor('[globex-sse]');
    const acmeCall = heldCall(TENANT_KEY, '[acme-sse]');
    const seen = readEvents(res, (events) => events.some((e) => e.event === 'review.decided' && JSON.stringify(e.data.request).includes('[acme-sse]')));
    const item = await pendingFor('[acme-sse]');
    await call('acmeReviewer', 'POST', `/reviews/${item.id}/approve`, {});
    const events = await seen;
    await acmeCall;
    expect(events.map((e) => [e.event, e.data.id])).toEqual([
      ['review.created', item.id],
      ['review.decided', item.id],
    ]);
    expect(events[1]!.data).toMatchObject({ status: 'approved', reviewer: 'ada', tenant: 'acme' });
    // globex's item never reached the acme follower; close it.
    const globexItem = await pendingFor('[globex-sse]');
    await call('admin', 'POST', `/reviews/${globexItem.id}/reject`, {});
    expect((await globexCall)?.status).toBe(403);
  });
});

describe('audit', () => {
  it('searches with filters and cursor pages, scoped to the principal\'s tenant', async () => {
    await h.gw.client().chat.completions.create({ model: 'gpt-test', messages: user('plain hello') });
    await h.gw.client(OTHER_TENANT_KEY).chat.completions.create({ model: 'gpt-other', messages: user('plain hello') });
    const all = (await call('auditor', 'GET', '/audit?limit=1000')).json.data;
    expect(new Set(all.map((r: any) => r.tenant_id))).toEqual(new Set(['acme', 'globex']));
    expect(all.every((r: any) => r.kind === 'request')).toBe(true);
    const acmeOnly = (await call('acmeAdmin', 'GET', '/audit?limit=1000')).json.data;
    expect(acmeOnly.length).toBeGreaterThan(0);
    expect(acmeOnly.every((r: any) => r.tenant_id === 'acme')).toBe(true);
    expect((await call('acmeAdmin', 'GET', '/audit?tenant=globex')).status).toBe(404);
    expect((await call('admin', 'GET', '/audit?outcome=review')).json.data.every((r: any) => r.policy_outcome === 'REVIEW')).toBe(true);
    expect((await call('admin', 'GET', '/audit?model=gpt-other')).json.data.every((r: any) => r.tenant_id === 'globex')).toBe(true);
    expect((await call('admin', 'GET', '/audit?agent=runner')).json.data.every((r: any) => r.agent_id === 'runner')).toBe(true);
    expect((await call('admin', 'GET', '/audit?to=2000-01-01')).json.data).toEqual([]);
    expect((await call('admin', 'GET', '/audit?from=1h')).json.data.length).toBe(all.length);
    const one = all[0];
    expect((await call('admin', 'GET', `/audit?q=${one.decision_id.slice(4, 20)}`)).json.data.map((r: any) => r.decision_id)).toEqual([one.decision_id]);
    const p1 = (await call('admin', 'GET', '/audit?limit=2')).json;
    const p2 = (await call('admin', 'GET', `/audit?limit=2&cursor=${p1.next_cursor}`)).json;
    expect(p2.data[0].seq).toBeLessThan(p1.data[1].seq);
    expect((await call('admin', 'GET', '/audit?from=yesterday-ish')).json.error).toMatchObject({ code: 'invalid_request', param: 'from' });
    expect((await call('admin', 'GET', '/audit?cursor=zzz')).json.error).toMatchObject({ code: 'invalid_request', param: 'cursor' });
    expect((await call('reviewer', 'GET', '/audit')).status).toBe(403);
  });

  it('gets one record with every signal; another tenant\'s reads as absent', async () => {
    const globexRecord = (await call('admin', 'GET', '/audit?tenant=globex&limit=1')).json.data[0];
    const res = await call('auditor', 'GET', `/audit/${globexRecord.decision_id}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.json.record).length).toBeGreaterThan(100);
    expect(res.json.record).toMatchObject({ decision_id: globexRecord.decision_id, tenant_id: 'globex', kind: 'request' });
    expect(res.json.rows).toContainEqual(expect.objectContaining({ kind: 'request' }));
    expect((await call('acmeAdmin', 'GET', `/audit/${globexRecord.decision_id}`)).status).toBe(404);
    expect((await call('admin', 'GET', '/audit/dec_nothing')).status).toBe(404);
  });

  it('exports JSON lines and CSV as streams', async () => {
    const jsonl = await call('auditor', 'GET', '/audit/export?format=jsonl&tenant=acme');
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((r) => r.tenant_id === 'acme' && r.kind === 'request')).toBe(true);
    const csv = await call('auditor', 'GET', '/audit/export?format=csv');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const rows = csv.text.trim().split('\n');
    expect(rows[0]!.split(',').slice(0, 3)).toEqual(['kind', 'decision_id', 'request_id']);
    expect(rows.length).toBeGreaterThan(2);
    expect((await call('acmeAdmin', 'GET', '/audit/export?tenant=globex')).status).toBe(404);
    expect((await call('admin', 'GET', '/audit/export?format=xml')).json.error.param).toBe('format');
  });
});

describe('spend, budgets, alerts, overview', () => {
  it('groups spend by tenant, team, agent and model', async () => {
    const byTenant = (await call('auditor', 'GET', '/spend?group_by=tenant')).json;
    expect(byTenant.data.map((r: any) => r.tenant).sort()).toEqual(['acme', 'globex']);
    expect(byTenant.data.every((r: any) => r.cost_usd > 0 && r.requests > 0)).toBe(true);
    const byAgent = (await call('admin', 'GET', '/spend?group_by=agent')).json.data;
    expect(byAgent).toContainEqual(expect.objectContaining({ tenant: 'acme', team: 'research', agent: 'bot' }));
    // Requests refused before routing (policy blocks) have no model; they are counted under null.
    const byModel = (await call('admin', 'GET', '/spend?group_by=model')).json.data.filter((r: any) => r.cost_usd > 0).map((r: any) => r.model).sort();
    expect(byModel).toEqual(['gpt-other', 'gpt-test']);
    const byTeam = (await call('acmeAdmin', 'GET', '/spend?group_by=team')).json.data;
    expect(byTeam.map((r: any) => [r.tenant, r.team])).toEqual([['acme', 'research']]);
    expect((await call('admin', 'GET', '/spend?group_by=planet')).json.error.param).toBe('group_by');
    expect((await call('admin', 'GET', '/spend?to=2000-01-01')).json.data).toEqual([]);
    expect((await call('reviewer', 'GET', '/spend')).status).toBe(403);
  });

  it('shows budgets with limit, spend and period, and the alert history', async () => {
    const budgets = (await call('auditor', 'GET', '/budgets')).json.data;
    const acme = budgets.find((b: any) => b.scope === 'tenant:acme');
    expect(acme).toMatchObject({ tenant: 'acme', kind: 'tenant', limit_usd: 100, period: 'monthly', reserved_usd: 0 });
    expect(acme.spent_usd).toBeGreaterThan(0);
    expect((await call('acmeAdmin', 'GET', '/budgets?tenant=globex')).status).toBe(404);
    expect((await call('admin', 'GET', '/alerts')).json).toEqual({ object: 'list', data: [], next_cursor: null });
    expect((await call('reviewer', 'GET', '/alerts')).status).toBe(403);
  });

  it('buckets requests, outcomes, cost and latency over a window', async () => {
    const res = await call('auditor', 'GET', '/overview?window=1h');
    expect(res.status).toBe(200);
    expect(res.json.buckets).toHaveLength(12);
    const { totals } = res.json;
    const all = (await call('admin', 'GET', '/audit?limit=1000')).json.data;
    expect(totals.requests).toBe(all.length);
    expect(totals.review).toBe(all.filter((r: any) => r.policy_outcome === 'REVIEW').length);
    expect(totals.allow + totals.review + totals.block).toBe(totals.requests);
    expect(totals.cost_usd).toBeCloseTo(all.reduce((n: number, r: any) => n + r.cost_usd, 0), 9);
    const busy = res.json.buckets.filter((b: any) => b.requests > 0);
    expect(busy.length).toBeGreaterThan(0);
    for (const b of busy) expect(b.latency_p95_ms).toBeGreaterThanOrEqual(b.latency_p50_ms);
    const acme = (await call('acmeAdmin', 'GET', '/overview?window=24h')).json;
    expect(acme.buckets).toHaveLength(24);
    expect(acme.totals.requests).toBe(all.filter((r: any) => r.tenant_id === 'acme').length);
    expect((await call('admin', 'GET', '/overview?window=2w')).json.error.param).toBe('window');
    expect((await call('reviewer', 'GET', '/overview')).status).toBe(403);
  });
});

describe('policies', () => {
  const strict = { thresholds: { review: 0.5, block: 0.95 }, review: { mode: 'hold', timeout: '20s', on_timeout: 'block' }, rules: [{ id: 'no-giraffes', terms: ['giraffe'], action: 'block' }] };

  it('lists, validates and dry-runs without forwarding', async () => {
    const list = (await call('auditor', 'GET', '/policies')).json.data;
    expect(list).toEqual([expect.objectContaining({ name: 'held', source: 'file', used_by: ['acme', 'globex'] })]);
    expect((await call('acmeAdmin', 'GET', '/policies')).json.data[0].used_by).toEqual(['acme']);
    expect((await call('admin', 'POST', '/policies/validate', { policy: strict })).json).toMatchObject({ valid: true, errors: [] });
    const invalid = (await call('admin', 'POST', '/policies/validate', { policy: { rules: [{ id: 'x', action: 'explode' }] } })).json;
    expect(invalid.valid).toBe(false);
    expect(invalid.errors[0].path).toContain('rules');
    expect((await call('admin', 'POST', '/policies/validate', {})).json.error).toMatchObject({ code: 'invalid_request', param: 'policy' });

    const before = h.upstream.requests.length;
    const dry = await call('admin', 'POST', '/policies/dry-run', { request: { tenant: 'acme', agent: 'bot', model: 'gpt-test', messages: user('cross at the zebra crossing') } });
    expect(dry.json).toMatchObject({ policy: { name: 'held' }, outcome: 'BLOCK', matched_rules: [expect.objectContaining({ id: 'no-zebras' })] });
    const draft = await call('admin', 'POST', '/policies/dry-run', { policy: strict, request: { tenant: 'acme', model: 'gpt-test', messages: user('a giraffe') } });
    expect(draft.json).toMatchObject({ outcome: 'BLOCK', matched_rules: [expect.objectContaining({ id: 'no-giraffes' })] });
    expect(h.upstream.requests.length).toBe(before);
    expect((await call('acmeAdmin', 'POST', '/policies/dry-run', { request: { tenant: 'globex', model: 'gpt-other', messages: user('x') } })).status).toBe(404);
    expect((await call('admin', 'POST', '/policies/dry-run', { request: { tenant: 'acme', model: 'gpt-test' } })).json.error).toMatchObject({ code: 'invalid_request', param: 'request' });
    expect((await call('auditor', 'POST', '/policies/dry-run', { request: { tenant: 'acme', model: 'gpt-test', messages: [] } })).status).toBe(403);
  });

  it('publishes a version that decides the next request, keeps versions, and rolls back', async () => {
    const original = (await call('admin', 'GET', '/policies/held')).json;
    // Only admins of every tenant change shared policies; reviewers and auditors never.
    expect((await call('acmeAdmin', 'POST', '/policies/held/versions', { policy: strict })).status).toBe(403);
    expect((await call('reviewer', 'POST', '/policies/held/versions', { policy: strict })).status).toBe(403);
    expect((await call('auditor', 'POST', '/policies/held/rollback', { version: original.version })).status).toBe(403);
    const invalid = await call('admin', 'POST', '/policies/held/versions', { policy: { rules: [{ id: 'x', action: 'explode' }] } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.param).toMatch(/^policy\.rules/);

    const published = await call('admin', 'POST', '/policies/held/versions', { policy: strict });
    expect(published.status).toBe(201);
    expect(published.json).toMatchObject({ name: 'held', source: 'api' });
    const blocked = await refused(h.gw.client().chat.completions.create({ model: 'gpt-test', messages: user('a giraffe walks in') }));
    expect(blocked.status).toBe(403);
    const versions = (await call('admin', 'GET', '/policies/held')).json.versions;
    expect(versions).toEqual([expect.objectContaining({ version: published.json.version, actor: 'root' })]);

    const back = await call('admin', 'POST', '/policies/held/rollback', { version: original.version });
    expect(back.status).toBe(200);
    expect(back.json.version).toBe(original.version);
    await h.gw.client().chat.completions.create({ model: 'gpt-test', messages: user('a giraffe walks in') });
    expect((await call('admin', 'POST', '/policies/held/rollback', { version: 'v-none' })).json.error).toMatchObject({ code: 'not_found', param: 'version' });
    expect((await call('acmeAdmin', 'GET', '/policies/other')).status).toBe(404);
  });
});

describe('admin events', () => {
  it('records every decision and publish in the chain of the target\'s tenant, secrets masked, and the chains verify', async () => {
    const events = (await call('auditor', 'GET', '/audit?kind=admin&limit=1000')).json.data;
    const actions = events.map((e: any) => `${e.action} ${e.tenant_id ?? '_'} ${e.actor.id}`);
    expect(actions).toEqual(expect.arrayContaining(['review.approve acme ada', 'review.reject globex root', 'policy.publish _ root', 'policy.rollback _ root']));
    const approve = events.find((e: any) => e.action === 'review.approve' && e.reason !== null);
    expect(approve).toMatchObject({ kind: 'admin', actor: { id: 'ada', kind: 'token', role: 'reviewer', tenant: 'acme' }, target: { type: 'review' }, before: { status: 'pending' }, after: { status: 'approved' }, reason: 'expected long answer' });
    // The acme admin sees acme's events only.
    const scoped = (await call('acmeAdmin', 'GET', '/audit?kind=admin')).json.data;
    expect(scoped.length).toBeGreaterThan(0);
    expect(scoped.every((e: any) => e.tenant_id === 'acme')).toBe(true);
    const verified = (await call('auditor', 'GET', '/audit/verify')).json;
    expect(verified.ok).toBe(true);
    expect(verified.chains.map((c: any) => c.chain)).toEqual(['_', 'acme', 'globex']);
    expect((await call('acmeAdmin', 'GET', '/audit/verify')).json.chains.map((c: any) => c.chain)).toEqual(['acme']);
  });

  it('detects an edited admin event', async () => {
    const event = (await call('admin', 'GET', '/audit?kind=admin&tenant=acme&limit=1')).json.data[0];
    const db = h.gw.db;
    const row = await db.selectFrom('audit_records').select(['seq', 'record']).where('decision_id', '=', event.decision_id).executeTakeFirstOrThrow();
    await sql`update audit_records set record = ${row.record.replace('"reviewer"', '"admin"')} where seq = ${row.seq}`.execute(db);
    const verdict = (await call('auditor', 'GET', '/audit/verify?tenant=acme')).json;
    expect(verdict.ok).toBe(false);
    expect(verdict.chains[0].broken).toMatchObject({ decision_id: event.decision_id, reason: expect.stringContaining('edited') });
    await sql`update audit_records set record = ${row.record} where seq = ${row.seq}`.execute(db);
    expect((await call('auditor', 'GET', '/audit/verify?tenant=acme')).json.ok).toBe(true);
  });
});

describe('health and the OpenAPI document', () => {
  it('documents exactly the routes the API serves', async () => {
    const doc = (await call('reviewer', 'GET', '/openapi.json')).json;
    const ops = Object.entries(doc.paths).flatMap(([path, methods]: [string, any]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(ops.sort()).toEqual(
      [
        'GET /admin/v1/session',
        'GET /admin/v1/openapi.json',
        'GET /admin/v1/health',
        'GET /admin/v1/overview',
        'GET /admin/v1/reviews',
        'GET /admin/v1/reviews/events',
        'GET /admin/v1/reviews/{id}',
        'POST /admin/v1/reviews/{id}/approve',
        'POST /admin/v1/reviews/{id}/reject',
        'GET /admin/v1/audit',
        'GET /admin/v1/audit/verify',
        'GET /admin/v1/audit/export',
        'GET /admin/v1/audit/{decision_id}',
        'GET /admin/v1/spend',
        'GET /admin/v1/budgets',
        'GET /admin/v1/alerts',
        'GET /admin/v1/policies',
        'GET /admin/v1/policies/{name}',
        'POST /admin/v1/policies/validate',
        'POST /admin/v1/policies/dry-run',
        'POST /admin/v1/policies/{name}/versions',
        'POST /admin/v1/policies/{name}/rollback',
        // The runtime-config entities (src/admin/routes/entities.ts, keys.ts, providers.ts).
        'DELETE /admin/v1/aliases/{tenant}/{alias}',
        'DELETE /admin/v1/models/{model}',
        'DELETE /admin/v1/providers/{name}/credential',
        'DELETE /admin/v1/tenants/{tenant}',
        'DELETE /admin/v1/tenants/{tenant}/budget',
        'DELETE /admin/v1/tenants/{tenant}/rate-limits',
        'DELETE /admin/v1/tenants/{tenant}/teams/{team}',
        'DELETE /admin/v1/tenants/{tenant}/teams/{team}/agents/{agent}',
        'GET /admin/v1/aliases',
        'GET /admin/v1/keys',
        'GET /admin/v1/keys/{id}',
        'GET /admin/v1/models',
        'GET /admin/v1/models/{model}',
        'GET /admin/v1/providers',
        'GET /admin/v1/tenants',
        'GET /admin/v1/tenants/{tenant}',
        'GET /admin/v1/tenants/{tenant}/budget',
        'GET /admin/v1/tenants/{tenant}/rate-limits',
        'GET /admin/v1/tenants/{tenant}/teams',
        'GET /admin/v1/tenants/{tenant}/teams/{team}',
        'GET /admin/v1/tenants/{tenant}/teams/{team}/agents',
        'GET /admin/v1/tenants/{tenant}/teams/{team}/agents/{agent}',
        'POST /admin/v1/aliases',
        'POST /admin/v1/config/reload',
        'POST /admin/v1/keys',
        'POST /admin/v1/keys/{id}/revoke',
        'POST /admin/v1/keys/{id}/rotate',
        'POST /admin/v1/tenants',
        'POST /admin/v1/tenants/{tenant}/teams',
        'POST /admin/v1/tenants/{tenant}/teams/{team}/agents',
        'PUT /admin/v1/models/{model}',
        'PUT /admin/v1/providers/{name}/credential',
        'PUT /admin/v1/tenants/{tenant}',
        'PUT /admin/v1/tenants/{tenant}/budget',
        'PUT /admin/v1/tenants/{tenant}/rate-limits',
        'PUT /admin/v1/tenants/{tenant}/teams/{team}',
        'PUT /admin/v1/tenants/{tenant}/teams/{team}/agents/{agent}',
      ].sort(),
    );
    // Each documented operation answers (not the router's 404), with its parameters described.
    for (const op of ops) {
      const [method, path] = op.split(' ') as [string, string];
      const concrete = path.replace(/\{[^}]+\}/g, 'x').replace('/admin/v1', '');
      if (concrete.endsWith('/events')) continue; // a stream
      const res = await call('admin', method, concrete, method === 'POST' ? {} : undefined);
      expect(res.json?.error?.code, op).not.toBe('unknown_endpoint');
    }
    expect(doc.paths['/admin/v1/audit'].get.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['tenant', 'outcome', 'model', 'agent', 'from', 'to', 'q', 'limit', 'cursor', 'kind']));
    expect(doc.paths['/admin/v1/reviews/{id}/approve'].post['x-roles']).toEqual(['admin', 'reviewer']);
  });
});

describe('deprecated /admin paths', () => {
  it('still answer admin tokens of all tenants, marked deprecated, and refuse other roles and scopes', async () => {
    const res = await fetch(`${h.gw.url}/admin/audit/verify`, { headers: { authorization: `Bearer ${TOKENS.admin}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('deprecation')).toBe('true');
    expect(res.headers.get('link')).toBe('</admin/v1/audit/verify>; rel="successor-version"');
    for (const token of [TOKENS.reviewer, TOKENS.acmeAdmin, TOKENS.auditor]) {
      expect((await fetch(`${h.gw.url}/admin/reviews`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
    }
    expect((await fetch(`${h.gw.url}/admin/reviews`, { headers: { authorization: `Bearer ${TENANT_KEY}` } })).status).toBe(401);
  });
});
