import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord, GatewayIdentity } from '../audit/record.js';
import { InProcessAuditWriter } from '../audit/writer.js';
import type { GatewayConfig } from '../config/load.js';
import { GatewayError } from '../errors.js';
import { scrubberFor } from '../security/scrub.js';
import { SqliteAuditSink } from '../store/sqlite/audit-sink.js';
import { PROVIDER_KEY, acmeTenant, firstRoute, principalOf, readContext, scratchDb, stageConfig } from '../../test/support/stage-fixtures.js';
import { auditRequest, commitCost } from './audit.js';
import type { RequestContext } from './context.js';
import { RouteTable } from './select-route.js';

const identity: GatewayIdentity = { instance: 'test:1', version: '0.0.0-test', configVersion: 'cfg1' };

let scratch: Awaited<ReturnType<typeof scratchDb>>;
let writer: InProcessAuditWriter;
let config: GatewayConfig;
let observed: AuditRecord[];
let deps: Parameters<typeof auditRequest>[1];

beforeEach(async () => {
  scratch = await scratchDb();
  writer = new InProcessAuditWriter(await SqliteAuditSink.open(scratch.db), { flushIntervalMs: 60_000, batchSize: 1000, spoolFile: join(scratch.dir, 'audit.spool') }, pino({ level: 'silent' }));
  config = stageConfig(acmeTenant());
  observed = [];
  deps = { audit: writer, identity, observeRecord: (r) => void observed.push(r), upstream: { scrubber: scrubberFor(config) } };
});
afterEach(async () => {
  await writer.close();
  await scratch.close();
});

async function stored(): Promise<{ kind: string; record: AuditRecord }[]> {
  const rows = await scratch.db.selectFrom('audit_records').select(['kind', 'record']).orderBy('seq').execute();
  return rows.map((r) => ({ kind: r.kind, record: JSON.parse(r.record) as AuditRecord }));
}

/** A request that was answered: routed, with provider usage. */
async function answered(): Promise<RequestContext> {
  const { ctx } = readContext(await principalOf(config), { max_tokens: 50 });
  const routes = new RouteTable(config);
  ctx.route = firstRoute(routes.resolve('gpt-test', ctx.principal!, 'chat'));
  ctx.upstreamStatus = 200;
  ctx.usage = { inputTokens: 1000, outputTokens: 500, cachedTokens: 0, reasoningTokens: 0 };
  return ctx;
}

describe('audit stage', () => {
  it('queues exactly one record per request, however often it runs, and shows observers the same record', async () => {
    const ctx = await answered();
    auditRequest(ctx, deps);
    auditRequest(ctx, deps);
    expect(writer.pending).toBe(1);
    await writer.flush();
    const rows = await stored();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.kind).toBe('request');
    expect(observed).toHaveLength(1);
    expect(rows[0]!.record).toEqual(JSON.parse(JSON.stringify(observed[0])));
    expect(ctx.audited).toBe(true);
  });

  it('meters the request before recording it', async () => {
    const ctx = await answered();
    auditRequest(ctx, deps);
    const r = observed[0]!;
    expect(ctx.metered).toBe(true);
    expect(r).toMatchObject({ decision_id: ctx.decisionId, tenant_id: 'acme', agent_id: 'bot', key_id: 'key_acme_bot', surface: 'chat-completions', model_resolved: 'gpt-test', provider: 'fake-openai', upstream_model: 'gpt-upstream', input_tokens: 1000, output_tokens: 500 });
    expect(r.cost_usd).toBeCloseTo((1000 * 2 + 500 * 8) / 1e6, 12);
  });

  it('records a refusal that never reached a provider, with its error', async () => {
    const { ctx } = readContext(await principalOf(config));
    ctx.error = new GatewayError('rate_limited', 'slow down');
    ctx.httpStatus = 429;
    ctx.rateLimited = true;
    auditRequest(ctx, deps);
    await writer.flush();
    const [row] = await stored();
    expect(row!.record).toMatchObject({ tenant_id: 'acme', model_resolved: null, http_status: 429, error_code: 'rate_limited', rate_limited: true, cost_usd: 0, input_tokens: null });
  });

  it('scrubs secrets from what came back from the provider before anyone sees the record', async () => {
    const ctx = await answered();
    ctx.upstreamError = `Provider "fake-openai" failed with HTTP 500: bad key ${PROVIDER_KEY}`;
    ctx.upstreamRequestId = 'sk-proj-abcdefghijklmnop1234';
    ctx.storedCompletion = [`the key is ${PROVIDER_KEY}`];
    ctx.attemptLog.push({ model: 'gpt-test', deployment: 'fake-openai/gpt-upstream', status: 500, error: `echo ${PROVIDER_KEY}`, latency_ms: 3 });
    auditRequest(ctx, deps);
    await writer.flush();
    const [row] = await stored();
    for (const record of [row!.record, observed[0]!]) {
      const text = JSON.stringify(record);
      expect(text).not.toContain(PROVIDER_KEY);
      expect(text).not.toContain('sk-proj-abcdefghijklmnop1234');
      expect(record.upstream_error).toBe('Provider "fake-openai" failed with HTTP 500: bad key [redacted]');
      expect(record.upstream_request_id).toBeNull();
    }
  });

  it('strict durability commits what an answer cost at once, without content; batched mode writes nothing early', async () => {
    const ctx = await answered();
    ctx.storedPrompt = [{ role: 'user', content: 'hello' }];
    ctx.storedCompletion = ['hi'];
    await commitCost(ctx, deps, false);
    expect(await stored()).toEqual([]);
    await commitCost(ctx, deps, true);
    const rows = await stored();
    expect(rows.map((r) => r.kind)).toEqual(['cost']);
    expect(rows[0]!.record).toMatchObject({ decision_id: ctx.decisionId, prompt: null, completion: null, output_tokens: 500 });
    expect(rows[0]!.record.cost_usd).toBeGreaterThan(0);
  });

  it('commits no cost for a request without a route, or one already audited', async () => {
    const { ctx: unrouted } = readContext(await principalOf(config));
    await commitCost(unrouted, deps, true);
    const done = await answered();
    auditRequest(done, deps);
    await commitCost(done, deps, true);
    expect(await stored()).toEqual([]);
  });
});
