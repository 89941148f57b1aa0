/**
 * Rate quotas end to end: at most N per rolling minute, spikes smoothed by waiting for the window
 * (measured in the audit), sustained overload
 * refused with 429 and OpenAI's rate-limit headers, per-model and per-key quotas independent of
 * each other and of other keys, and token quotas that count estimated tokens up front and the
 * actual ones after the response. Token figures are computed as the gateway does: estimated
 * input (`estimateInputTokens`) + `max_tokens`.
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/record.js';
import { estimateInputTokens } from '../../src/budget/tokens.js';
import { fakePromptTokens, startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const UPSTREAM_MODEL = 'gpt-upstream';
const MAX_WAIT = 1500;
const key = (id: string) => `omk_test_${id}_key_0123456789abcdef`;
const msgs = (content: string) => [{ role: 'user' as const, content }];
const est = (content: string) => estimateInputTokens({ messages: msgs(content) }, UPSTREAM_MODEL);
/** max_tokens that makes a request count exactly `tokens` against a tpm quota. */
const maxTokensFor = (content: string, tokens: number) => tokens - est(content);
/** A `[words:N]` request with max_tokens N that counts exactly `tokens` (and writes all of them). */
function wordsFor(tokens: number): { content: string; words: number } {
  for (let words = tokens - 1; words > tokens - 50; words--) {
    const content = `[words:${words}]`;
    if (est(content) + words !== tokens) continue;
    if (fakePromptTokens({ messages: msgs(content) }) > est(content)) throw new Error('the fake would count more prompt tokens than estimated');
    return { content, words };
  }
  throw new Error(`no [words:N] request of exactly ${tokens} tokens`);
}

let upstream: FakeOpenAI;
let gw: TestGateway;

const config = (upstreamUrl: string) => `
server: { upstream_timeout: 5s }
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
audit: { flush_interval: 20ms }
rate_limiting: { max_wait: ${MAX_WAIT}ms }
providers:
  fake: { type: openai, base_url: "${upstreamUrl}", api_key: sk-upstream-test-key-123, circuit_breaker: { enabled: false } }
models:
  model-a: { provider: fake, model: ${UPSTREAM_MODEL}, retries: 0, price: { input: 1, output: 1 } }
  model-b: { provider: fake, model: ${UPSTREAM_MODEL}, retries: 0, price: { input: 1, output: 1 } }
tenants:
  acme:
    teams:
      t:
        agents:
          smooth: { rate_limits: { rpm: 3 }, keys: [ { id: key_smooth, key: "${key('smooth')}" } ] }
          patient: { rate_limits: { rpm: 1 }, keys: [ { id: key_patient, key: "${key('patient')}" } ] }
          overload: { rate_limits: { rpm: 5 }, keys: [ { id: key_overload, key: "${key('overload')}" } ] }
          tokens: { rate_limits: { rpm: 100, tpm: 1000 }, keys: [ { id: key_tokens, key: "${key('tokens')}" } ] }
          shared:
            rate_limits: { per_model: { model-a: { rpm: 2 } } }
            keys:
              - { id: key_shared_1, key: "${key('shared1')}", rate_limits: { rpm: 3 } }
              - { id: key_shared_2, key: "${key('shared2')}", rate_limits: { rpm: 3 } }
          neighbour: { rate_limits: { per_model: { model-a: { rpm: 2 } } }, keys: [ { id: key_neighbour, key: "${key('neighbour')}" } ] }
`;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  gw = await startTestGateway(config(upstream.baseUrl));
});
afterEach(() => upstream.release());
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function settled(decisionId: string): Promise<AuditRecord> {
  let record: AuditRecord | undefined;
  await waitFor(async () => (record = await gw.auditRecord(decisionId)) !== undefined, `the audit record of ${decisionId}`);
  return record!;
}

/** Opens a gated stream (held open by the fake after its first word) that counts `tokens` against the quota. */
async function hog(client: OpenAI, content: string, tokens: number) {
  const { data, response } = await client.chat.completions
    .create({ model: 'model-a', messages: msgs(content), max_tokens: maxTokensFor(content, tokens), stream: true })
    .withResponse();
  return {
    headers: response.headers,
    decisionId: response.headers.get('x-omega-decision-id')!,
    async finish() {
      upstream.release();
      for await (const _ of data);
    },
  };
}

const seconds = (duration: string | null) => {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(duration ?? '');
  if (!m) throw new Error(`not a duration in seconds: ${duration}`);
  return Number(m[1]);
};

describe('smoothing', () => {
  // The window is a real minute: the quotas are filled, then the test waits until just before
  // the first requests leave the window (one ~60 s wait for both cases, run side by side).
  it('serves requests that fit once the window slides within max_wait, and gives an abandoned slot to the next request', async () => {
    const smooth = gw.client(key('smooth'));
    const patient = gw.client(key('patient'));
    const ask = (client: OpenAI, signal?: AbortSignal) => client.chat.completions.create({ model: 'model-a', messages: msgs('smooth') }, { signal }).withResponse();
    const t0 = Date.now();
    await Promise.all([ask(smooth), ask(smooth), ask(smooth), ask(patient)]); // rpm 3 and rpm 1: full
    const filled = Date.now();
    expect((await ask(smooth).catch((e) => e)).status).toBe(429); // the window slides ~60 s from now: beyond max_wait
    await new Promise((r) => setTimeout(r, 60_000 - (Date.now() - t0) - 500));

    // smooth: 4 at once ~600 ms before the window slides. Three fit as the fill leaves the window
    // (each waiting for its slot, within max_wait); the fourth would need one of those to leave.
    const abandon = new AbortController();
    const gaveUp = ask(patient, abandon.signal).catch((e) => e);
    setTimeout(() => abandon.abort(), 100);
    const burst = await Promise.all(Array.from({ length: 4 }, () => ask(smooth).catch((e) => e)));
    const served = burst.filter((r) => !(r instanceof Error));
    const refused = burst.filter((r): r is InstanceType<typeof OpenAI.RateLimitError> => r instanceof Error);
    expect(served).toHaveLength(3);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(OpenAI.RateLimitError);
    expect(Number(refused[0].headers.get('retry-after-ms'))).toBeGreaterThan(55_000);
    const records = await Promise.all(served.map((r) => settled(r.response.headers.get('x-omega-decision-id')!)));
    for (const r of records) {
      expect(r).toMatchObject({ rate_limited: false, http_status: 200 });
      expect(r.ratelimit_wait_ms).toBeGreaterThan(0);
      expect(r.ratelimit_wait_ms).toBeLessThanOrEqual(MAX_WAIT + 200);
      expect(Date.parse(r.received_at) + r.ratelimit_wait_ms).toBeGreaterThanOrEqual(t0 + 60_000 - 50); // not before the window slid
      expect(r.total_latency_ms).toBeGreaterThanOrEqual(r.ratelimit_wait_ms);
    }

    // patient: the abandoned request had booked the one slot; the next one gets it. Had the
    // booking been kept, the next slot would be a minute away and the request refused.
    expect(await gaveUp).toBeInstanceOf(OpenAI.APIUserAbortError);
    const abandonedRecord = async () => (await gw.auditRecords()).find((r) => r.agent_id === 'patient' && r.http_status === 499);
    await waitFor(async () => (await abandonedRecord()) !== undefined, 'the record of the abandoned request');
    expect(await abandonedRecord()).toMatchObject({ client_disconnected: true, attempts: 0, cost_usd: 0 });
    expect((await abandonedRecord())!.ratelimit_wait_ms).toBeGreaterThan(0); // it waited for its slot until the client gave up
    const { response } = await ask(patient);
    const wait = (await settled(response.headers.get('x-omega-decision-id')!)).ratelimit_wait_ms;
    expect(wait).toBeLessThan(MAX_WAIT);
    expect(Date.now() - filled).toBeLessThan(120_000);
  }, 90_000);
});

describe('overload', () => {
  it('refuses sustained overload with 429, Retry-After and the x-ratelimit-* request headers', async () => {
    const client = gw.client(key('overload'));
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 5; i++) {
      const { response } = await client.chat.completions.create({ model: 'model-a', messages: msgs('steady') }).withResponse();
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('5');
      remaining.push(response.headers.get('x-ratelimit-remaining-requests'));
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    const sent = upstream.requests.length;

    // rpm 5: the next slot is when the first of the five leaves the window, ~60 s away, far beyond max_wait (1.5 s).
    const refusals = await Promise.all(Array.from({ length: 5 }, () => client.chat.completions.create({ model: 'model-a', messages: msgs('steady') }).catch((e) => e)));
    expect(upstream.requests.length).toBe(sent);
    for (const err of refusals) {
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err.error).toMatchObject({ code: 'rate_limited', type: 'rate_limit_error' });
      expect(err.error.message).toContain('agent:acme/overload');
      const h: Headers = err.headers;
      const retryMs = Number(h.get('retry-after-ms'));
      expect(retryMs).toBeGreaterThan(60_000 - 5_000);
      expect(retryMs).toBeLessThanOrEqual(60_000);
      expect(h.get('retry-after')).toBe(String(Math.ceil(retryMs / 1000)));
      expect(h.get('x-ratelimit-limit-requests')).toBe('5');
      expect(h.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(seconds(h.get('x-ratelimit-reset-requests'))).toBeGreaterThan(58);
      expect(seconds(h.get('x-ratelimit-reset-requests'))).toBeLessThanOrEqual(60);
      expect(h.get('x-ratelimit-limit-tokens')).toBeNull(); // no tpm on this scope
      expect(h.get('x-should-retry')).not.toBe('false');
      const record = await settled(h.get('x-omega-decision-id')!);
      // Refused at once: waiting could not have helped.
      expect(record).toMatchObject({ rate_limited: true, http_status: 429, error_code: 'rate_limited', attempts: 0, ratelimit_wait_ms: 0, ratelimit_remaining_requests: 0, cost_usd: 0 });
    }
  });
});

describe('token quotas', () => {
  it('counts estimated input + max_tokens up front, and the actual tokens once the response is metered', async () => {
    // tpm 1000 (rpm 100 is not the binding one here).
    const client = gw.client(key('tokens'));
    const job = await hog(client, '[gate] [words:3]', 600);
    expect(job.headers.get('x-ratelimit-limit-tokens')).toBe('1000');
    expect(job.headers.get('x-ratelimit-remaining-tokens')).toBe('400');
    expect(job.headers.get('x-ratelimit-limit-requests')).toBe('100');
    expect(job.headers.get('x-ratelimit-remaining-requests')).toBe('99');

    // 500 more tokens do not fit in the 400 left (room comes back when the 600 leave the window, ~60 s away).
    const big = { model: 'model-a', messages: msgs('big'), max_tokens: maxTokensFor('big', 500) };
    const refused = await client.chat.completions.create(big).catch((e) => e);
    expect(refused.status).toBe(429);
    const h: Headers = refused.headers;
    expect(h.get('x-ratelimit-limit-tokens')).toBe('1000');
    expect(Number(h.get('x-ratelimit-remaining-tokens'))).toBeGreaterThanOrEqual(400);
    expect(Number(h.get('x-ratelimit-remaining-tokens'))).toBeLessThan(420);
    expect(seconds(h.get('x-ratelimit-reset-tokens'))).toBeGreaterThan(55);
    expect(seconds(h.get('x-ratelimit-reset-tokens'))).toBeLessThanOrEqual(60);
    expect(Number(h.get('retry-after-ms'))).toBeGreaterThan(55_000);
    expect(Number(h.get('retry-after-ms'))).toBeLessThanOrEqual(60_000);
    expect(h.get('x-ratelimit-remaining-requests')).toBe('99'); // requests were not the problem
    expect(refused.error.message).toContain('agent:acme/tokens');

    // 300 tokens fit at once.
    const small = await client.chat.completions.create({ model: 'model-a', messages: msgs('small'), max_tokens: maxTokensFor('small', 300) }).withResponse();
    const smallRecord = await settled(small.response.headers.get('x-omega-decision-id')!);
    expect(smallRecord.ratelimit_wait_ms).toBe(0);
    expect(Number(small.response.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(120);

    // After both responses are metered only their actual tokens count, so the 500 now fit.
    await job.finish();
    const jobRecord = await settled(job.decisionId);
    const actual = jobRecord.input_tokens! + jobRecord.output_tokens! + smallRecord.input_tokens! + smallRecord.output_tokens!;
    expect(jobRecord.output_tokens).toBe(3);
    expect(jobRecord.input_tokens).toBe(fakePromptTokens({ messages: msgs('[gate] [words:3]') }));
    const { response } = await client.chat.completions.create(big).withResponse();
    const left = Number(response.headers.get('x-ratelimit-remaining-tokens'));
    expect(left).toBeGreaterThanOrEqual(1000 - actual - 500); // nothing left the window meanwhile
    expect(left).toBeLessThan(1000 - actual - 500 + 20);
    expect((await settled(response.headers.get('x-omega-decision-id')!)).ratelimit_remaining_tokens).toBe(left);
  });
});

describe('per-model and per-key quotas', () => {
  const ask = (k: string, model: string) => gw.client(key(k)).chat.completions.create({ model, messages: msgs('quota') }).withResponse();
  const refusal = (k: string, model: string) => ask(k, model).then(() => null, (e) => e);

  it('keeps a model quota, a key quota and other keys’ quotas apart', async () => {
    // key 1: model-a twice hits the agent's per-model quota (rpm 2)...
    expect((await ask('shared1', 'model-a')).response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    const second = (await ask('shared1', 'model-a')).response.headers;
    expect([second.get('x-ratelimit-limit-requests'), second.get('x-ratelimit-remaining-requests')]).toEqual(['2', '0']);
    const perModel = await refusal('shared1', 'model-a');
    expect(perModel.status).toBe(429);
    expect(perModel.error.message).toContain('agent:acme/shared/model:model-a');
    expect(perModel.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(Number(perModel.headers.get('retry-after'))).toBe(60); // rpm 2: the next slot is when the first leaves the window

    // ...while model-b is still open to it, up to the key's own quota (rpm 3; the refusal took nothing).
    const third = (await ask('shared1', 'model-b')).response.headers;
    expect([third.get('x-ratelimit-limit-requests'), third.get('x-ratelimit-remaining-requests')]).toEqual(['3', '0']);
    const perKey = await refusal('shared1', 'model-b');
    expect(perKey.status).toBe(429);
    expect(perKey.error.message).toContain('key:key_shared_1');
    expect(Number(perKey.headers.get('retry-after'))).toBe(60); // rpm 3: likewise

    // The other key of the same agent has its own key quota untouched...
    const other = (await ask('shared2', 'model-b')).response.headers;
    expect([other.get('x-ratelimit-limit-requests'), other.get('x-ratelimit-remaining-requests')]).toEqual(['3', '2']);
    // ...but shares the agent's per-model quota, which is spent.
    const sharedModel = await refusal('shared2', 'model-a');
    expect(sharedModel.status).toBe(429);
    expect(sharedModel.error.message).toContain('agent:acme/shared/model:model-a');

    // Another agent with the same per-model limit has a quota of its own.
    for (const left of ['1', '0']) expect((await ask('neighbour', 'model-a')).response.headers.get('x-ratelimit-remaining-requests')).toBe(left);
    expect((await refusal('neighbour', 'model-a')).status).toBe(429);

    const records = (await gw.auditRecords()).filter((r) => r.agent_id === 'shared' || r.agent_id === 'neighbour');
    expect(records.map((r) => [r.key_id, r.model_requested, r.http_status])).toEqual([
      ['key_shared_1', 'model-a', 200],
      ['key_shared_1', 'model-a', 200],
      ['key_shared_1', 'model-a', 429],
      ['key_shared_1', 'model-b', 200],
      ['key_shared_1', 'model-b', 429],
      ['key_shared_2', 'model-b', 200],
      ['key_shared_2', 'model-a', 429],
      ['key_neighbour', 'model-a', 200],
      ['key_neighbour', 'model-a', 200],
      ['key_neighbour', 'model-a', 429],
    ]);
  });
});
