/**
 * Tool calls proposed by models, judged by `on: tool_calls` rules on every surface: a chat
 * completion's `tool_calls`, an Anthropic message's `tool_use` blocks, a Response's
 * `function_call` items, streamed and not, with the official SDKs against the wire-format fakes.
 * A forbidden call is blocked; a risky one is held for a reviewer (in a stream the text before it
 * reaches the client meanwhile, the call does not) and released after approval through the
 * admin API, or ends with the policy error when rejected. Each outcome is in the audit record.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.js';
import { FAKE_UPSTREAM_KEY, PROPOSAL_TEXT, startFakeOpenAI } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { adminCall, waitFor } from '../support/requests.js';

const KEY = 'omk_test_payments_agent_key_0123456789';
const ADMIN = 'adm_test_alice_token_0123456789abcdef';

let gw: TestGateway;
let openai: Awaited<ReturnType<typeof startFakeOpenAI>>;
let anthropic: Awaited<ReturnType<typeof startFakeAnthropic>>;

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startFakeOpenAI(), startFakeAnthropic()]);
  gw = await startTestGateway(`
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
audit: { flush_interval: 20ms }
admin: { tokens: [ { id: alice, token: "${ADMIN}" } ] }
providers:
  openai: { type: openai, base_url: "${openai.baseUrl}", api_key: ${FAKE_UPSTREAM_KEY}, circuit_breaker: { enabled: false } }
  anthropic: { type: anthropic, base_url: "${anthropic.url}", api_key: sk-ant-test-key-789, circuit_breaker: { enabled: false } }
models:
  gpt-test: { provider: openai, model: gpt-upstream, retries: 0, price: { input: 2, output: 8 } }
  claude-test: { provider: anthropic, model: claude-upstream-1, retries: 0, price: { input: 2, output: 8 } }
policies:
  payments:
    review: { mode: hold, timeout: 20s, on_timeout: block }
    rules:
      - { id: no-refunds, on: tool_calls, tools: ["refund_*"], action: block }
      - { id: big-transfers, on: tool_calls, tools: [transfer_funds], when: "tool.args.amount > 5000", action: review }
      - { id: every-call, on: tool_calls, tools: ["*"], action: log }
tenants:
  acme:
    policy: payments
    teams:
      finance:
        agents:
          payments: { keys: [ { id: k_payments, key: "${KEY}" } ] }
`);
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all([openai?.close(), anthropic?.close()]);
});

type Surface = 'chat' | 'messages' | 'responses';

interface Call {
  name: string;
  args: unknown;
}

interface Answer {
  text: string;
  calls: Call[];
  decisionId: string | null;
}

/** What a streaming client has seen so far (text and calls), to look at while the answer is held. */
interface Seen {
  text: string;
  calls: string[];
}

/** One request through `surface` with its official SDK; rejects with the SDK's error (or the Responses stream's error event). */
async function ask(surface: Surface, model: string, prompt: string, stream: boolean, seen: Seen = { text: '', calls: [] }): Promise<Answer> {
  if (surface === 'messages') {
    const client = new Anthropic({ apiKey: KEY, baseURL: gw.url, maxRetries: 0 });
    if (!stream) {
      const { data, response } = await client.messages.create({ model, max_tokens: 200, messages: [{ role: 'user', content: prompt }] }).withResponse();
      return {
        text: data.content.map((b) => (b.type === 'text' ? b.text : '')).join(''),
        calls: data.content.flatMap((b) => (b.type === 'tool_use' ? [{ name: b.name, args: b.input }] : [])),
        decisionId: response.headers.get('x-omega-decision-id'),
      };
    }
    const { data, response } = await client.messages.create({ model, max_tokens: 200, stream: true, messages: [{ role: 'user', content: prompt }] }).withResponse();
    const calls: { name: string; json: string }[] = [];
    for await (const e of data) {
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') seen.text += e.delta.text;
      if (e.type === 'content_block_start' && e.content_block.type === 'tool_use') {
        calls.push({ name: e.content_block.name, json: '' });
        seen.calls.push(e.content_block.name);
      }
      if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta') calls.at(-1)!.json += e.delta.partial_json;
    }
    return { text: seen.text, calls: calls.map((c) => ({ name: c.name, args: JSON.parse(c.json) })), decisionId: response.headers.get('x-omega-decision-id') };
  }
  const client = gw.client(KEY);
  if (surface === 'chat') {
    if (!stream) {
      const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }] }).withResponse();
      const message = data.choices[0]!.message;
      return {
        text: message.content ?? '',
        calls: (message.tool_calls ?? []).map((c) => (c.type === 'function' ? { name: c.function.name, args: JSON.parse(c.function.arguments) } : { name: '?', args: null })),
        decisionId: response.headers.get('x-omega-decision-id'),
      };
    }
    const { data, response } = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: prompt }] }).withResponse();
    const calls: { name: string; json: string }[] = [];
    for await (const chunk of data) {
      const delta = chunk.choices[0]?.delta;
      if (delta?.content) seen.text += delta.content;
      for (const c of delta?.tool_calls ?? []) {
        if (c.function?.name) {
          calls[c.index] = { name: c.function.name, json: '' };
          seen.calls.push(c.function.name);
        }
        calls[c.index]!.json += c.function?.arguments ?? '';
      }
    }
    return { text: seen.text, calls: calls.map((c) => ({ name: c.name, args: JSON.parse(c.json) })), decisionId: response.headers.get('x-omega-decision-id') };
  }
  if (!stream) {
    const { data, response } = await client.responses.create({ model, input: prompt }).withResponse();
    return {
      text: data.output_text,
      calls: data.output.flatMap((i) => (i.type === 'function_call' ? [{ name: i.name, args: JSON.parse(i.arguments) }] : [])),
      decisionId: response.headers.get('x-omega-decision-id'),
    };
  }
  const { data, response } = await client.responses.create({ model, input: prompt, stream: true }).withResponse();
  const calls: Call[] = [];
  for await (const e of data) {
    if (e.type === 'response.output_text.delta') seen.text += e.delta;
    if (e.type === 'response.output_item.added' && e.item.type === 'function_call') seen.calls.push(e.item.name);
    if (e.type === 'response.output_item.done' && e.item.type === 'function_call') calls.push({ name: e.item.name, args: JSON.parse(e.item.arguments) });
    if (e.type === 'error') throw Object.assign(new Error(e.message), { status: 200, code: e.code });
  }
  return { text: seen.text, calls, decisionId: response.headers.get('x-omega-decision-id') };
}

/** The review item of the held answer whose proposed transfer has this amount. */
async function reviewItemFor(amount: number): Promise<any> {
  return waitFor(
    async () =>
      (await adminCall(gw.url, 'GET', '/reviews?status=pending', undefined, ADMIN)).json.data.find((i: any) => i.request?.proposed_tool_calls?.[0]?.arguments?.amount === amount),
    `the review item of the ${amount} EUR transfer`,
    10_000,
  );
}

const transfer = (amount: number) => `[call:transfer_funds {"to":"DE89370400440532013000","amount":${amount},"currency":"EUR"}]`;
const transferArgs = (amount: number) => ({ to: 'DE89370400440532013000', amount, currency: 'EUR' });

/** The request record of the only request whose audit names this review. */
const recordOfReview = (id: string) => waitFor(async () => (await gw.auditRecords()).find((r) => r.kind === 'request' && r.tool_call_review_id === id), `the audit record of ${id}`);

// Messages and Responses each go to their own provider natively (the provider's events pass
// through), and to the other provider translated (the gateway's encoder writes the events).
const ROUTES: { surface: Surface; model: string; label: string }[] = [
  { surface: 'chat', model: 'gpt-test', label: 'chat completions' },
  { surface: 'messages', model: 'claude-test', label: 'messages (native)' },
  { surface: 'responses', model: 'gpt-test', label: 'responses (native)' },
  { surface: 'messages', model: 'gpt-test', label: 'messages (translated)' },
  { surface: 'responses', model: 'claude-test', label: 'responses (translated)' },
];

let nextAmount = 9000;

describe.each(ROUTES)('proposed tool calls through $label', ({ surface, model }) => {
  describe.each([false, true])('stream %s', (stream) => {
    it('lets an allowed call through and records it', async () => {
      const answer = await ask(surface, model, transfer(120), stream);
      expect(answer.text).toBe(PROPOSAL_TEXT);
      expect(answer.calls).toEqual([{ name: 'transfer_funds', args: transferArgs(120) }]);
      const record = await waitFor(() => gw.auditRecord(answer.decisionId!), 'the audit record');
      expect(record).toMatchObject({ proposed_tool_calls: ['transfer_funds'], tool_calls_count: 1, tool_call_policy_outcome: 'ALLOW', tool_call_matched_rules: ['every-call'], tool_call_review_id: null, http_status: 200 });
    });

    it('blocks a forbidden call with the policy error in the API’s shape', async () => {
      const seen: Seen = { text: '', calls: [] };
      const err: any = await ask(surface, model, '[call:refund_payment {"payment":"pay_123"}]', stream, seen).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, 'the client must get an error').toBeDefined();
      expect(String(err.message)).toContain('no-refunds');
      if (!stream) expect(err.status).toBe(403);
      // The call itself never reached the client; in a stream the text before it did.
      expect(seen.calls).toEqual([]);
      if (stream) expect(seen.text).toBe(PROPOSAL_TEXT);
      const record = await waitFor(async () => (await gw.auditRecords()).filter((r) => r.kind === 'request' && r.tool_call_policy_outcome === 'BLOCK').at(-1), 'the audit record');
      expect(record).toMatchObject({ proposed_tool_calls: ['refund_payment'], tool_call_matched_rules: ['no-refunds', 'every-call'], error_code: 'policy_blocked', stream, http_status: stream ? 200 : 403 });
    });

    it('holds a call that needs review and releases it once approved', async () => {
      const amount = nextAmount++;
      const seen: Seen = { text: '', calls: [] };
      const pending = ask(surface, model, transfer(amount), stream, seen);
      pending.catch(() => undefined);
      const item = await reviewItemFor(amount);
      expect(item).toMatchObject({ model, mode: 'hold', agentId: 'payments', matchedRules: [{ id: 'big-transfers', action: 'review', shadow: false }, { id: 'every-call', action: 'log', shadow: false }] });
      expect(item.request.proposed_tool_calls).toEqual([{ id: expect.any(String), name: 'transfer_funds', arguments: transferArgs(amount), outcome: 'REVIEW' }]);
      if (stream) {
        // Text flows while the call is held.
        await waitFor(() => seen.text === PROPOSAL_TEXT, 'the text before the call');
        expect(seen.calls).toEqual([]);
      }
      expect((await adminCall(gw.url, 'POST', `/reviews/${item.id}/approve`, {}, ADMIN)).status).toBe(200);
      const answer = await pending;
      expect(answer.text).toBe(PROPOSAL_TEXT);
      expect(answer.calls).toEqual([{ name: 'transfer_funds', args: transferArgs(amount) }]);
      const record = await recordOfReview(item.id);
      expect(record).toMatchObject({ decision_id: answer.decisionId, tool_call_policy_outcome: 'REVIEW', tool_call_review_decision: 'approved', tool_call_reviewer: 'alice', http_status: 200, error_code: null });
    });

    it('ends with the policy error when the reviewer rejects the call', async () => {
      const amount = nextAmount++;
      const seen: Seen = { text: '', calls: [] };
      const pending = ask(surface, model, transfer(amount), stream, seen).then(
        () => undefined,
        (e: unknown) => e,
      );
      const item = await reviewItemFor(amount);
      expect((await adminCall(gw.url, 'POST', `/reviews/${item.id}/reject`, { reason: 'over the daily limit' }, ADMIN)).status).toBe(200);
      const err: any = await pending;
      expect(err, 'the client must get an error').toBeDefined();
      expect(String(err.message)).toContain('rejected by alice: over the daily limit');
      if (!stream) expect(err.status).toBe(403);
      expect(seen.calls).toEqual([]);
      const record = await recordOfReview(item.id);
      expect(record).toMatchObject({ tool_call_policy_outcome: 'REVIEW', tool_call_review_decision: 'rejected', error_code: 'review_rejected', http_status: stream ? 200 : 403 });
    });
  });
});
