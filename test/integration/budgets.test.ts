/**
 * Budgets end to end: worst-case holds under concurrency, settlement on every path (no phantom
 * refusals), exact metering of streams and failures, threshold alerts to a webhook and the admin
 * API, the spend report, and spend surviving a restart. Every figure is computed the way the
 * gateway computes it: the reservation from `estimateInputTokens` + `max_tokens` at the model's
 * prices, the actual cost from what the fake upstream reports (or, for cut-short streams, from
 * what was delivered).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/record.js';
import { estimateInputTokens } from '../../src/budget/tokens.js';
import { parseConfigText } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/main.js';
import { fakePromptTokens, startFakeOpenAI, type FakeOpenAI, type RecordedRequest } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const UPSTREAM_MODEL = 'gpt-upstream';
/** $1000 per million tokens, in and out: one token costs exactly $0.001. */
const PRICE = { input: 1000, output: 1000 };
/** Output only: the cost of a `[words:N]` answer with max_tokens N is exactly its reservation. */
const OUT_PRICE = { input: 0, output: 1000 };
const ADMIN_TOKEN = 'adm_test_auditor_token_0123456789';
const TZ = 'Europe/Berlin';

const key = (agent: string) => `omk_test_${agent}_key_0123456789abcdef`;
const msgs = (content: string) => [{ role: 'user' as const, content }];
/** Input tokens as the gateway estimates them before forwarding. */
const est = (content: string) => estimateInputTokens({ messages: msgs(content) }, UPSTREAM_MODEL);
const usd = (inputTokens: number, outputTokens: number, price = PRICE) => (inputTokens * price.input + outputTokens * price.output) / 1_000_000;
/** The hold the gateway takes: estimated input + max_tokens (x n choices) at the model's prices. */
const worst = (content: string, maxTokens: number, price = PRICE, n = 1) => usd(est(content), maxTokens * n, price);
/** What the fake upstream bills for `[words:N]`: its prompt count and N completion tokens. */
const billed = (content: string, words: number, price = PRICE) => usd(fakePromptTokens({ messages: msgs(content) }), words, price);

// ---- the scenarios' figures (see each test) ----
const CROWD = '[gate] [words:5]'; // gated stream: the holds of all served requests coexist
const RUSH = 'rush [words:5]';
const FINAL = '[words:5]';
const STREAM_ABORT = '[gate] [words:5]';
const SLOW_ABORT = '[slow:1500]';
const crowdHold = worst(CROWD, 5);
const crowdBudget = 50 * crowdHold;
const rushHold = worst(RUSH, 5);
const rushBudget = 50 * rushHold;
/** A stream the client drops after the first word ("w0 ", 3 chars = 1 token): billed estimated input + 1 token. */
const abortCost = usd(est(STREAM_ABORT), 1);
const flakyBudget = 3 * abortCost + worst(FINAL, 5);

let upstream: FakeOpenAI;
let gw: TestGateway;
let hooks: { server: Server; url: string; received: any[] };

function config(upstreamUrl: string, webhook: string, extra = ''): string {
  const agent = (id: string, budget = '') => `          ${id}: { ${budget ? `budget: ${budget}, ` : ''}keys: [ { id: key_${id}, key: "${key(id)}" } ] }`;
  return `
server: { upstream_timeout: 5s }
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
audit: { flush_interval: 20ms }
budgets: { timezone: ${TZ} }
admin: { tokens: [ { id: auditor, token: "${ADMIN_TOKEN}" } ] }
alerts: { webhook: "${webhook}" }
providers:
  fake: { type: openai, base_url: "${upstreamUrl}", api_key: sk-upstream-test-key-123, circuit_breaker: { enabled: false } }
models:
  metered: { provider: fake, model: ${UPSTREAM_MODEL}, retries: 0, price: { input: ${PRICE.input}, output: ${PRICE.output} } }
  out-only: { provider: fake, model: ${UPSTREAM_MODEL}, retries: 0, price: { input: ${OUT_PRICE.input}, output: ${OUT_PRICE.output} } }
  capped: { provider: fake, model: ${UPSTREAM_MODEL}, retries: 0, max_output_tokens: 64, price: { input: ${PRICE.input}, output: ${PRICE.output} } }
tenants:
  acme:
    teams:
      research:
        agents:
${agent('crowd', `{ usd: ${crowdBudget}, period: daily }`)}
${agent('rush', `{ usd: ${rushBudget}, period: daily }`)}
${agent('flaky', `{ usd: ${flakyBudget}, period: daily }`)}
${agent('meter', '{ usd: 100, period: monthly }')}
${agent('alerted', '{ usd: 0.05, period: daily, alerts: [0.5, 0.8, 1.0] }')}
      ops:
        agents:
${agent('spender')}
      lab:
        budget: { usd: 0.03, period: daily }
        agents:
          a1: { keys: [ { id: key_a1, key: "${key('a1')}", budget: { usd: 0.015, period: daily } } ] }
${agent('a2')}
  globex:
    teams:
      ops:
        agents:
${agent('outsider')}
${extra}`;
}

async function startWebhook(): Promise<{ server: Server; url: string; received: any[] }> {
  const received: any[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const recordsOf = async (g: { auditRecords(): Promise<AuditRecord[]> }, agent: string) => (await g.auditRecords()).filter((r) => r.agent_id === agent);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const sentWith = (content: string) => (r: RecordedRequest) => r.body?.messages?.at(-1)?.content === content;
const alertsOf = (scope: string) => hooks.received.filter((h) => h.omega.scope === scope);

async function admin(g: { url: string }, path: string, token: string | null = ADMIN_TOKEN) {
  const res = await fetch(`${g.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as any };
}

/** Reads a stream to its end; returns the text, the chunks and the error that ended it, if any. */
async function drain(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  let error: unknown;
  try {
    for await (const c of stream) chunks.push(c);
  } catch (err) {
    error = err;
  }
  return { text: chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), chunks, error };
}

/** Opens a gated stream, reads up to the first word, drops the connection; resolves with the settled audit record. */
async function abortMidStream(client: OpenAI, model: string, content: string, maxTokens: number): Promise<AuditRecord> {
  const controller = new AbortController();
  const { data, response } = await client.chat.completions
    .create({ model, messages: msgs(content), max_tokens: maxTokens, stream: true }, { signal: controller.signal })
    .withResponse();
  const decisionId = response.headers.get('x-omega-decision-id')!;
  const it = data[Symbol.asyncIterator]();
  let text = '';
  while (text !== 'w0 ') text += (await it.next()).value!.choices[0]?.delta.content ?? '';
  const abortedBefore = upstream.aborted.length;
  controller.abort();
  await waitFor(() => upstream.aborted.length > abortedBefore, 'the upstream request to be aborted');
  upstream.release();
  let record: AuditRecord | undefined;
  await waitFor(async () => (record = await gw.auditRecord(decisionId)) !== undefined, 'the audit record of the dropped stream');
  return record!;
}

beforeAll(async () => {
  hooks = await startWebhook();
  upstream = await startFakeOpenAI();
  gw = await startTestGateway(config(upstream.baseUrl, hooks.url));
});
afterEach(() => upstream.release());
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
  await new Promise((r) => hooks?.server.close(r));
});

describe('budget holds under concurrency', () => {
  it('serves exactly the 50 requests whose worst case fits while all 200 are in flight, and refuses the rest with 402', async () => {
    // The gated fake holds every served stream open, so all holds coexist: nothing settles early.
    expect(crowdHold).toBeCloseTo(usd(15, 5), 15); // 15 estimated input tokens + max_tokens 5 = $0.020
    const client = gw.client(key('crowd'));
    const attempts = await Promise.allSettled(
      Array.from({ length: 200 }, () => client.chat.completions.create({ model: 'metered', messages: msgs(CROWD), max_tokens: 5, stream: true }).withResponse()),
    );
    const served = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    const refused = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason] : []));
    expect(served).toHaveLength(50);
    expect(refused).toHaveLength(150);
    expect(upstream.requests.filter(sentWith(CROWD))).toHaveLength(50);
    for (const err of refused) {
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(err.status).toBe(402);
      expect(err.error).toMatchObject({ code: 'budget_exceeded', type: 'insufficient_quota' });
      expect(err.headers.get('x-should-retry')).toBe('false');
      expect(err.headers.get('x-omega-budget-remaining-usd')).toBe('0.000000'); // 50 holds fill the budget
    }

    upstream.release();
    const texts = await Promise.all(served.map(async ({ data }) => (await drain(data)).text));
    expect(texts.every((t) => t === 'w0 w1 w2 w3 w4')).toBe(true);

    await waitFor(async () => (await recordsOf(gw, 'crowd')).length === 200, '200 audit records');
    const records = await recordsOf(gw, 'crowd');
    const ok = records.filter((r) => r.http_status === 200);
    const no = records.filter((r) => r.http_status === 402);
    expect([ok.length, no.length]).toEqual([50, 150]);
    for (const r of ok) {
      expect(r.budget_reserved_usd).toBeCloseTo(crowdHold, 15);
      expect(r.cost_usd).toBeCloseTo(billed(CROWD, 5), 15); // 12 prompt tokens + 5 words = $0.017
      expect(r.usage_estimated).toBe(false);
    }
    for (const r of no) {
      expect(r).toMatchObject({ budget_scope_hit: 'agent:acme/crowd', error_code: 'budget_exceeded', cost_usd: 0, attempts: 0, policy_outcome: 'BLOCK' });
      expect(r.budget_reserved_usd).toBeCloseTo(crowdHold, 15);
    }
    const spent = sum(ok.map((r) => r.cost_usd));
    expect(spent).toBeLessThanOrEqual(crowdBudget + crowdHold);
    expect(spent).toBeLessThanOrEqual(crowdBudget + 1e-12); // each actual cost stayed within its hold

    // No hold is left: the next refusal reports exactly budget - spent, and a request that fits is served.
    const probe = await client.chat.completions.create({ model: 'metered', messages: msgs(FINAL), max_tokens: 1_000_000 }).catch((e) => e);
    expect(probe.status).toBe(402);
    expect(probe.headers.get('x-omega-budget-remaining-usd')).toBe((crowdBudget - spent).toFixed(6)); // $0.150000
    const cheap = await client.chat.completions.create({ model: 'metered', messages: msgs(FINAL), max_tokens: 5 }).withResponse();
    expect(cheap.data.choices[0]!.message.content).toBe('w0 w1 w2 w3 w4');
    const after = await client.chat.completions.create({ model: 'metered', messages: msgs(FINAL), max_tokens: 1_000_000 }).catch((e) => e);
    expect(after.headers.get('x-omega-budget-remaining-usd')).toBe((crowdBudget - spent - billed(FINAL, 5)).toFixed(6));
  });

  it('never spends past the budget when 200 requests race and settle as they go', async () => {
    const client = gw.client(key('rush'));
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () => client.chat.completions.create({ model: 'metered', messages: msgs(RUSH), max_tokens: 5 })),
    );
    const served = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(refused.every((e) => e.status === 402 && e.error.code === 'budget_exceeded')).toBe(true);
    // A refusal needs spent + held + $hold > budget, so at least budget/hold are served; settling at the
    // (lower) actual cost may free room for a few more, never more than budget/actual.
    const actual = billed(RUSH, 5);
    expect(served).toBeGreaterThanOrEqual(50);
    expect(served).toBeLessThanOrEqual(Math.floor(rushBudget / actual + 1e-9));
    await waitFor(async () => (await recordsOf(gw, 'rush')).length === 200, '200 audit records');
    const records = await recordsOf(gw, 'rush');
    expect(records.filter((r) => r.http_status === 200)).toHaveLength(served);
    const spent = sum(records.map((r) => r.cost_usd));
    expect(spent).toBeCloseTo(served * actual, 12);
    expect(spent).toBeLessThanOrEqual(rushBudget + rushHold);
    expect(spent).toBeLessThanOrEqual(rushBudget + 1e-12);
    expect(records.filter((r) => r.http_status === 402).every((r) => r.budget_scope_hit === 'agent:acme/rush')).toBe(true);
  });
});

describe('no phantom refusals', () => {
  it('releases the holds of failed requests and commits dropped streams at their delivered cost, so a budget that fits one more request serves it', async () => {
    const client = gw.client(key('flaky'));
    // Upstream failures (retries: 0): nothing was billed, the hold is released.
    for (let i = 0; i < 3; i++) {
      const err = await client.chat.completions.create({ model: 'metered', messages: msgs('[error:500]'), max_tokens: 5 }).catch((e) => e);
      expect(err.status).toBe(502);
    }
    for (let i = 0; i < 2; i++) {
      const err = await client.chat.completions.create({ model: 'metered', messages: msgs('[error:500]'), max_tokens: 5, stream: true }).catch((e) => e);
      expect(err.status).toBe(502);
    }
    // The client gives up while the upstream has not answered yet: released.
    for (let i = 0; i < 2; i++) {
      const controller = new AbortController();
      const sentBefore = upstream.requests.length;
      const pending = client.chat.completions.create({ model: 'metered', messages: msgs(SLOW_ABORT), max_tokens: 4 }, { signal: controller.signal }).catch((e) => e);
      await waitFor(() => upstream.requests.length > sentBefore, 'the request to reach the upstream');
      controller.abort();
      expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    }
    await waitFor(async () => (await recordsOf(gw, 'flaky')).filter((r) => r.http_status === 499).length === 2, 'two client-closed records');
    // The client drops three streams after the first word: each is billed its input + 1 delivered token.
    for (let i = 0; i < 3; i++) {
      const record = await abortMidStream(client, 'metered', STREAM_ABORT, 5);
      expect(record).toMatchObject({ client_disconnected: true, usage_estimated: true, output_tokens: 1, input_tokens: est(STREAM_ABORT) });
      expect(record.cost_usd).toBeCloseTo(abortCost, 15);
    }

    const records = await recordsOf(gw, 'flaky');
    expect(records).toHaveLength(10);
    const failed = records.filter((r) => r.http_status !== 200);
    expect(failed.map((r) => r.http_status).sort()).toEqual([499, 499, 502, 502, 502, 502, 502]);
    for (const r of failed) expect(r.cost_usd).toBe(0);

    // The budget is 3 dropped streams + exactly one more request's hold: it is served...
    const last = await client.chat.completions.create({ model: 'metered', messages: msgs(FINAL), max_tokens: 5 }).withResponse();
    expect(last.data.choices[0]!.message.content).toBe('w0 w1 w2 w3 w4');
    // ...and then nothing more fits: what is left is the hold minus the actual cost of the last one.
    const refused = await client.chat.completions.create({ model: 'metered', messages: msgs(FINAL), max_tokens: 5 }).catch((e) => e);
    expect(refused.status).toBe(402);
    expect(refused.headers.get('x-omega-budget-remaining-usd')).toBe((flakyBudget - 3 * abortCost - billed(FINAL, 5)).toFixed(6));
  });
});

describe('exact metering', () => {
  const client = () => gw.client(key('meter'));
  const lastSent = () => upstream.requests.at(-1)!.body;

  it('bills a plain answer at the upstream usage', async () => {
    const { data, response } = await client().chat.completions.create({ model: 'metered', messages: msgs('plain [words:7]'), max_tokens: 7 }).withResponse();
    const prompt = fakePromptTokens(lastSent());
    expect(data.usage).toMatchObject({ prompt_tokens: prompt, completion_tokens: 7 });
    const record = (await gw.auditRecord(response.headers.get('x-omega-decision-id')!))!;
    expect(record).toMatchObject({ input_tokens: prompt, output_tokens: 7, usage_estimated: false, http_status: 200 });
    expect(record.cost_usd).toBeCloseTo(usd(prompt, 7), 15);
    expect(record.budget_reserved_usd).toBeCloseTo(worst('plain [words:7]', 7), 15);
    expect(Number(response.headers.get('x-omega-cost-usd'))).toBeCloseTo(usd(prompt, 7), 8);
    const spentSoFar = sum((await recordsOf(gw, 'meter')).map((r) => r.cost_usd));
    expect(record.budget_utilization!['agent:acme/meter']).toBeCloseTo(spentSoFar / 100, 15);
  });

  it('bills a stream from the usage the gateway asked the upstream for, when the client did not ask for it', async () => {
    const { data, response } = await client().chat.completions.create({ model: 'metered', messages: msgs('quiet [words:6]'), max_tokens: 6, stream: true }).withResponse();
    const { text, chunks } = await drain(data);
    expect(text).toBe('w0 w1 w2 w3 w4 w5');
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(lastSent().stream_options).toEqual({ include_usage: true });
    const prompt = fakePromptTokens(lastSent());
    const record = (await gw.auditRecord(response.headers.get('x-omega-decision-id')!))!;
    expect(record).toMatchObject({ stream: true, input_tokens: prompt, output_tokens: 6, usage_estimated: false });
    expect(record.cost_usd).toBeCloseTo(usd(prompt, 6), 15);
  });

  it('bills a stream at the usage the client also receives, when it asked for it', async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: 'metered', messages: msgs('loud [words:6]'), max_tokens: 6, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    const { chunks } = await drain(data);
    const usage = chunks.at(-1)!.usage!;
    expect(usage).toMatchObject({ prompt_tokens: fakePromptTokens(lastSent()), completion_tokens: 6 });
    const record = (await gw.auditRecord(response.headers.get('x-omega-decision-id')!))!;
    expect(record).toMatchObject({ input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens, usage_estimated: false });
    expect(record.cost_usd).toBeCloseTo(usd(usage.prompt_tokens, usage.completion_tokens), 15);
  });

  it('bills what was delivered when the upstream dies mid-stream, and says the usage is estimated', async () => {
    const content = 'dying [words:6] [die:3]';
    const { data, response } = await client().chat.completions.create({ model: 'metered', messages: msgs(content), max_tokens: 6, stream: true }).withResponse();
    const { text, error } = await drain(data);
    expect(text).toBe('w0 w1 w2 ');
    expect(error).toBeInstanceOf(Error);
    const record = (await gw.auditRecord(response.headers.get('x-omega-decision-id')!))!;
    // No usage chunk: the gateway's input estimate plus the delivered text (9 chars → 3 tokens).
    expect(record).toMatchObject({ stream_interrupted: true, usage_estimated: true, input_tokens: est(content), output_tokens: 3, output_chars: 9, error_code: 'upstream_unreachable' });
    expect(record.cost_usd).toBeCloseTo(usd(est(content), 3), 15);
  });

  it('bills what was delivered when the client drops the stream', async () => {
    const content = '[gate] [words:6]';
    const record = await abortMidStream(client(), 'metered', content, 6);
    expect(record).toMatchObject({ client_disconnected: true, stream_interrupted: true, usage_estimated: true, input_tokens: est(content), output_tokens: 1, output_chars: 3 });
    expect(record.cost_usd).toBeCloseTo(usd(est(content), 1), 15);
  });

  it('bills nothing for a failed request and releases its hold', async () => {
    // The probe asks for more than the budget holds (max_tokens is capped at 1,000,000 when the model's limit is unknown).
    const before = await client().chat.completions.create({ model: 'metered', messages: msgs('x'), max_tokens: 1_000_000 }).catch((e) => e);
    const left = before.headers.get('x-omega-budget-remaining-usd');
    const err = await client().chat.completions.create({ model: 'metered', messages: msgs('[error:500]'), max_tokens: 10 }).catch((e) => e);
    expect(err.status).toBe(502);
    const record = (await gw.auditRecord(err.headers.get('x-omega-decision-id')))!;
    expect(record).toMatchObject({ cost_usd: 0, input_tokens: null, output_tokens: null, usage_estimated: false, upstream_status: 500, http_status: 502 });
    expect(record.budget_reserved_usd).toBeCloseTo(worst('[error:500]', 10), 15);
    // The settled figure in the audit: the hold is gone, nothing was spent.
    expect(record.budget_remaining_usd!['agent:acme/meter'].toFixed(6)).toBe(left);
    const after = await client().chat.completions.create({ model: 'metered', messages: msgs('x'), max_tokens: 1_000_000 }).catch((e) => e);
    expect(after.headers.get('x-omega-budget-remaining-usd')).toBe(left);
  });

  it.each([false, true])('bills nothing when a 2xx answer is not a model answer (stream: %s)', async (stream) => {
    const probe = () => client().chat.completions.create({ model: 'metered', messages: msgs('x'), max_tokens: 1_000_000 }).catch((e) => e.headers.get('x-omega-budget-remaining-usd'));
    const left = await probe();
    const err = await client().chat.completions.create({ model: 'metered', messages: msgs('[nonjson]'), max_tokens: 10, stream }).catch((e) => e);
    expect(err.status).toBe(502);
    const record = (await gw.auditRecord(err.headers.get('x-omega-decision-id')))!;
    expect(record).toMatchObject({ upstream_status: 200, error_code: 'upstream_invalid_response', cost_usd: 0, input_tokens: null, usage_estimated: false, output_chars: 0 });
    expect(await probe()).toBe(left);
  });

  it('holds the output bound: max_tokens, else the model’s max output, else 4096 tokens; for each of n choices', async () => {
    const reserved = async (body: Omit<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, 'messages'>, content: string) => {
      const { response } = await client().chat.completions.create({ ...body, messages: msgs(content) }).withResponse();
      return (await gw.auditRecord(response.headers.get('x-omega-decision-id')!))!.budget_reserved_usd;
    };
    expect(await reserved({ model: 'metered', max_tokens: 4, n: 3 }, 'three [words:4]')).toBeCloseTo(worst('three [words:4]', 4, PRICE, 3), 15);
    expect(await reserved({ model: 'metered', max_completion_tokens: 9 }, 'newer [words:4]')).toBeCloseTo(worst('newer [words:4]', 9), 15);
    expect(await reserved({ model: 'capped' }, 'capped [words:4]')).toBeCloseTo(worst('capped [words:4]', 64), 15);
    expect(await reserved({ model: 'metered' }, 'unbounded [words:4]')).toBeCloseTo(worst('unbounded [words:4]', 4096), 15);
  });
});

describe('budget scopes', () => {
  it('counts every request against its tenant, team, agent and key budgets, and names the scope that refuses', async () => {
    // Team lab: $0.03 shared by agents a1 and a2; a1's key alone may spend $0.015. $0.01 a request.
    const ask = (agent: string) => gw.client(key(agent)).chat.completions.create({ model: 'out-only', messages: msgs('[words:10]'), max_tokens: 10 });
    await ask('a1');
    const keyRefusal = await ask('a1').catch((e) => e);
    expect(keyRefusal.status).toBe(402);
    expect(keyRefusal.error.message).toContain('key:key_a1');
    expect(keyRefusal.headers.get('x-omega-budget-remaining-usd')).toBe('0.005000');
    await ask('a2');
    const { response } = await gw.client(key('a2')).chat.completions.create({ model: 'out-only', messages: msgs('[words:10]'), max_tokens: 10 }).withResponse();
    const record = (await gw.auditRecord(response.headers.get('x-omega-decision-id')!))!;
    expect(Object.keys(record.budget_remaining_usd!)).toEqual(['team:acme/lab']); // agent a2 has no budget of its own
    expect(record.budget_remaining_usd!['team:acme/lab']).toBeCloseTo(0, 12);
    expect(record.budget_utilization!['team:acme/lab']).toBeCloseTo(1, 12);
    for (const agent of ['a1', 'a2']) {
      const teamRefusal = await ask(agent).catch((e) => e);
      expect(teamRefusal.status).toBe(402);
      expect(teamRefusal.headers.get('x-omega-budget-remaining-usd')).toBe('0.000000');
      expect((await gw.auditRecord(teamRefusal.headers.get('x-omega-decision-id')))!.budget_scope_hit).toBe('team:acme/lab');
    }
  });
});

describe('budget alerts', () => {
  it('fires 50%, 80% and 100% once each, to the webhook and GET /admin/alerts', async () => {
    const client = gw.client(key('alerted'));
    const scope = 'agent:acme/alerted';
    // Output-only prices: each request costs exactly its hold, $0.01 of $0.05.
    expect(worst('[words:10]', 10, OUT_PRICE)).toBe(0.01);
    const ask = () => client.chat.completions.create({ model: 'out-only', messages: msgs('[words:10]'), max_tokens: 10 });
    await ask();
    await ask();
    await client.chat.completions.create({ model: 'out-only', messages: msgs('[error:500]'), max_tokens: 10 }).catch(() => undefined);
    expect((await admin(gw, '/admin/alerts?tenant=acme')).body.data.filter((a: any) => a.scope.key === scope)).toEqual([]);
    await ask(); // $0.03: past 50%
    await waitFor(() => alertsOf(scope).length === 1, 'the 50% alert');
    await ask(); // $0.04: 80%; 50% is still crossed but is not announced again
    await waitFor(() => alertsOf(scope).length === 2, 'the 80% alert');
    await ask(); // $0.05: 100%
    await waitFor(() => alertsOf(scope).length === 3, 'the 100% alert');
    const refused = await ask().catch((e) => e);
    expect(refused.status).toBe(402);

    const listed = (await admin(gw, '/admin/alerts?tenant=acme')).body.data.filter((a: any) => a.scope.key === scope);
    expect(listed.map((a: any) => a.threshold)).toEqual([1, 0.8, 0.5]); // most recent first, once each
    expect(listed.map((a: any) => Number(a.spentUsd.toFixed(9)))).toEqual([0.05, 0.04, 0.03]);
    expect(listed.every((a: any) => a.tenantId === 'acme' && a.scope.limitUsd === 0.05 && a.scope.period === 'daily')).toBe(true);
    expect((await admin(gw, '/admin/alerts?tenant=globex')).body.data).toEqual([]);

    const posted = alertsOf(scope).map((h) => h.omega);
    expect(posted.map((o) => o.threshold)).toEqual([0.5, 0.8, 1]);
    expect(posted.map((o) => Number(o.spent_usd.toFixed(9)))).toEqual([0.03, 0.04, 0.05]);
    expect(posted[0]).toMatchObject({ type: 'budget.threshold_crossed', tenant_id: 'acme', period: 'daily', limit_usd: 0.05 });
    expect(alertsOf(scope)[1].text).toContain('agent:acme/alerted reached 80% of its daily budget');
    // The in-memory list proves there were exactly three notifications, so no fourth post is coming.
    expect(hooks.received).toHaveLength(3);
    expect((await admin(gw, '/admin/alerts', null)).status).toBe(401);
  });
});

describe('GET /admin/spend', () => {
  it('reports spend per day, team, agent and model exactly as the audit trail has it, for one tenant', async () => {
    await gw.client(key('spender')).chat.completions.create({ model: 'out-only', messages: msgs('[words:3]'), max_tokens: 3 });
    await gw.client(key('outsider')).chat.completions.create({ model: 'metered', messages: msgs('[words:2]'), max_tokens: 2 });

    const res = await admin(gw, '/admin/spend?tenant=acme&since=1d');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'list', timezone: TZ });

    const day = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' });
    const expected = new Map<string, any>();
    for (const r of await gw.auditRecords()) {
      if (r.tenant_id !== 'acme') continue;
      const row = { day: day.format(r.received_at_ms), tenant_id: 'acme', team_id: r.team_id, agent_id: r.agent_id, model: r.model_resolved };
      const k = JSON.stringify(row);
      const e = expected.get(k) ?? { ...row, requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 };
      e.requests++;
      e.input_tokens += r.input_tokens ?? 0;
      e.output_tokens += r.output_tokens ?? 0;
      e.cost_usd += r.cost_usd;
      expected.set(k, e);
    }
    const key4 = (r: any) => JSON.stringify([r.day, r.team_id, r.agent_id, r.model]);
    const got = new Map<string, any>(res.body.data.map((r: any) => [key4(r), r]));
    expect([...got.keys()].sort()).toEqual([...expected.values()].map(key4).sort());
    for (const e of expected.values()) {
      const g = got.get(key4(e));
      expect({ ...g, cost_usd: 0 }).toEqual({ ...e, cost_usd: 0 });
      expect(g.cost_usd).toBeCloseTo(e.cost_usd, 12);
    }
    // Spot checks against what the tests above know independently.
    const served = (agent: string, model: string) => got.get(key4({ day: day.format(Date.now()), team_id: 'research', agent_id: agent, model }));
    expect(served('crowd', 'metered')).toMatchObject({ requests: 51, output_tokens: 51 * 5 });
    expect(served('alerted', 'out-only').cost_usd).toBeCloseTo(0.05, 12);
    expect(got.get(key4({ day: day.format(Date.now()), team_id: 'ops', agent_id: 'spender', model: 'out-only' }))).toMatchObject({ requests: 1, output_tokens: 3 });
    expect(res.body.data.every((r: any) => r.tenant_id === 'acme')).toBe(true);

    // Without a tenant: every tenant; a malformed `since` is refused naming the parameter.
    const all = (await admin(gw, '/admin/spend?since=1d')).body.data;
    expect(all.filter((r: any) => r.tenant_id === 'globex')).toMatchObject([{ team_id: 'ops', agent_id: 'outsider', model: 'metered', requests: 1, output_tokens: 2 }]);
    expect(all.filter((r: any) => r.tenant_id === 'acme')).toEqual(res.body.data);
    const bad = await admin(gw, '/admin/spend?since=last-tuesday');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_request', param: 'since' });

    for (const token of [null, 'adm_wrong_token_0123456789abcdef']) {
      const denied = await admin(gw, '/admin/spend?tenant=acme&since=1d', token);
      expect(denied.status).toBe(401);
      expect(denied.body.error).toMatchObject({ code: 'admin_unauthenticated', type: 'authentication_error' });
    }
  });
});

describe('restart', () => {
  const saverConfig = (upstreamUrl: string, webhook: string) => `
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
audit: { flush_interval: 20ms }
budgets: { timezone: ${TZ} }
admin: { tokens: [ { id: auditor, token: "${ADMIN_TOKEN}" } ] }
alerts: { webhook: "${webhook}" }
providers:
  fake: { type: openai, base_url: "${upstreamUrl}", api_key: sk-upstream-test-key-123 }
models:
  out-only: { provider: fake, model: ${UPSTREAM_MODEL}, retries: 0, price: { input: 0, output: 1000 } }
tenants:
  acme:
    budget: { usd: 1, period: monthly }
    teams:
      research:
        budget: { usd: 0.5, period: weekly }
        agents:
          saver:
            budget: { usd: 0.03, period: daily, alerts: [0.5, 1.0] }
            keys: [ { id: key_saver, key: "${key('saver')}", budget: { usd: 0.2, period: total } } ]
`;
  let dir: string;
  const running: RunningGateway[] = [];

  /** Starts a gateway on a fixed data directory, so a second start finds the first one's database. */
  async function startOn(yaml: string) {
    const text = yaml.replaceAll('${DATA_DIR}', dir);
    const g = await startGateway({ config: parseConfigText(text, join(dir, 'omega.yaml'), {}), port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }) });
    running.push(g);
    const auditRecords = async () => {
      await g.audit.flush();
      const rows = await g.db.selectFrom('audit_records').select('record').execute();
      return rows.map((r) => JSON.parse(r.record) as AuditRecord);
    };
    const client = new OpenAI({ apiKey: key('saver'), baseURL: `${g.url}/v1`, maxRetries: 0 });
    return { g, client, auditRecords, url: g.url };
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'omega-restart-'));
  });
  afterAll(async () => {
    for (const g of running) await g.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the period’s spend (and the alerts already sent) across a restart on the same database', async () => {
    const yaml = saverConfig(upstream.baseUrl, hooks.url);
    const scope = 'agent:acme/saver';
    const ask = (client: OpenAI, words: number) => client.chat.completions.create({ model: 'out-only', messages: msgs(`[words:${words}]`), max_tokens: words });

    const first = await startOn(yaml);
    await ask(first.client, 10); // $0.01
    await ask(first.client, 10); // $0.02 of $0.03: past 50%
    await waitFor(() => alertsOf(scope).length === 1, 'the 50% alert');
    expect(sum((await first.auditRecords()).map((r) => r.cost_usd))).toBeCloseTo(0.02, 12);
    await first.g.close();

    const second = await startOn(yaml);
    // Seeded from the audit: $0.01 left, so a $0.02 hold is refused and a $0.01 one fits.
    const tooBig = await ask(second.client, 20).catch((e) => e);
    expect(tooBig.status).toBe(402);
    expect(tooBig.headers.get('x-omega-budget-remaining-usd')).toBe('0.010000');
    const { response } = await ask(second.client, 10).withResponse();
    // Every scope was seeded from the audit, each in its own period: $0.03 spent on all four.
    const served = (await second.auditRecords()).find((r) => r.decision_id === response.headers.get('x-omega-decision-id'))!;
    const left = Object.fromEntries(Object.entries(served.budget_remaining_usd!).map(([k, v]) => [k, Number(v.toFixed(9))]));
    expect(left).toEqual({ 'tenant:acme': 0.97, 'team:acme/research': 0.47, [scope]: 0, 'key:key_saver': 0.17 });
    const exhausted = await ask(second.client, 1).catch((e) => e);
    expect(exhausted.status).toBe(402);
    expect(exhausted.headers.get('x-omega-budget-remaining-usd')).toBe('0.000000');
    const records = await second.auditRecords();
    expect(records.filter((r) => r.http_status === 402).map((r) => r.budget_scope_hit)).toEqual([scope, scope]);

    // 100% fires after the restart; 50% was sent before it and is not sent again.
    await waitFor(() => alertsOf(scope).length === 2, 'the 100% alert');
    expect(alertsOf(scope).map((h) => h.omega.threshold)).toEqual([0.5, 1]);
    const listed = (await admin(second, '/admin/alerts')).body.data;
    expect(listed.map((a: any) => [a.scope.key, a.threshold])).toEqual([[scope, 1]]);
    // The spend report spans both processes: three served requests, two refusals (no model).
    const spend = (await admin(second, '/admin/spend?tenant=acme&since=1d')).body.data;
    expect(spend.map((r: any) => [r.agent_id, r.model, r.requests, r.output_tokens])).toEqual([
      ['saver', null, 2, 0],
      ['saver', 'out-only', 3, 30],
    ]);
    expect(spend[1].cost_usd).toBeCloseTo(0.03, 12);
  });
});
