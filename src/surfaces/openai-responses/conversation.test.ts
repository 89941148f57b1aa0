import { beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors.js';
import type { ChatCompletion } from '../../providers/adapter.js';
import { MemoryResponseStore } from '../../store/memory/response-store.js';
import { expandPrevious, renderStored, shouldStore, toStored, withExpandedInput } from './conversation.js';
import { parseResponsesRequest } from './parse.js';
import { renderCompletion } from './render.js';
import { responsesToChat } from './to-chat.js';

const NOW = 1_800_000_000_000;
const DAY = 86_400_000;
const wireOf = (body: Record<string, unknown>) => parseResponsesRequest({ model: 'gpt-x', ...body }).wire;
const completion = (message: Partial<ChatCompletion.Choice['message']>, finish: ChatCompletion.Choice['finish_reason'] = 'stop'): ChatCompletion => ({
  id: 'c', object: 'chat.completion', created: 1, model: 'claude', choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, ...message }, logprobs: null, finish_reason: finish }],
});

let store: MemoryResponseStore;
beforeEach(() => {
  store = new MemoryResponseStore(() => NOW);
});

/** One turn through a translated provider, stored as the runner would. */
async function turn(body: Record<string, unknown>, answer: ChatCompletion, tenant = 'acme', provider = 'anthropic-main', native = false) {
  const wire = wireOf(body);
  const items = await expandPrevious(wire, store, tenant);
  const response = renderCompletion(answer, wire);
  await store.put(tenant, toStored(response, wire, { tenantId: tenant, provider, native, inputItems: items, retentionMs: 30 * DAY, now: NOW }));
  return { wire, items, response };
}

describe('conversation state', () => {
  it('expands previous_response_id into the stored input and output, then the new input', async () => {
    const first = await turn({ input: 'What is the weather?', tools: [{ type: 'function', name: 'get' }] }, completion({ tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get', arguments: '{}' } }] }, 'tool_calls'));
    const second = wireOf({ previous_response_id: first.response.id, input: [{ type: 'function_call_output', call_id: 'call_1', output: 'sunny' }], tools: [{ type: 'function', name: 'get' }] });
    const items = await expandPrevious(second, store, 'acme');
    expect(items).toMatchObject([
      { type: 'message', role: 'user', content: 'What is the weather?' },
      { type: 'function_call', call_id: 'call_1', name: 'get' },
      { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
    ]);
    // …and it translates to a chat conversation a provider accepts.
    expect(responsesToChat(withExpandedInput(second, items)).messages).toEqual([
      { role: 'user', content: 'What is the weather?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    ]);
  });

  it('chains: a third turn sees the whole conversation once', async () => {
    const a = await turn({ input: 'one' }, completion({ content: 'uno' }));
    const b = await turn({ input: 'two', previous_response_id: a.response.id }, completion({ content: 'dos' }));
    const items = await expandPrevious(wireOf({ input: 'three', previous_response_id: b.response.id }), store, 'acme');
    expect(items.map((i: any) => (typeof i.content === 'string' ? i.content : i.content[0].text))).toEqual(['one', 'uno', 'two', 'dos', 'three']);
  });

  it('resolves item_reference to an item of the stored conversation', async () => {
    const a = await turn({ input: 'one' }, completion({ content: 'uno' }));
    const msgId = (a.response.output[0] as { id: string }).id;
    const items = await expandPrevious(wireOf({ previous_response_id: a.response.id, input: [{ type: 'item_reference', id: msgId }] }), store, 'acme');
    expect(items.at(-1)).toMatchObject({ id: msgId, type: 'message', role: 'assistant' });
  });

  it.each([
    ['an unknown id', 'acme', 'resp_nope'],
    ['another tenant\'s id', 'globex', null],
  ])('%s is a 404 not_found naming previous_response_id', async (_name, tenant, id) => {
    const a = await turn({ input: 'one' }, completion({ content: 'uno' }));
    const err = await expandPrevious(wireOf({ input: 'x', previous_response_id: id ?? a.response.id }), store, tenant).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ code: 'not_found', status: 404, param: 'previous_response_id', message: `Response with id '${id ?? a.response.id}' not found.` });
  });

  it('stores what GET renders, for the retention period', async () => {
    const { response, items } = await turn({ input: 'one', metadata: { k: 'v' } }, completion({ content: 'uno' }));
    const stored = (await store.get('acme', response.id))!;
    expect(stored).toMatchObject({ id: response.id, tenantId: 'acme', createdAt: NOW, expiresAt: NOW + 30 * DAY, model: 'gpt-x', provider: 'anthropic-main', native: false, inputItems: items, outputItems: response.output });
    expect(renderStored(stored)).toEqual(JSON.parse(JSON.stringify(response)));
    expect(await store.deleteExpired(NOW + 30 * DAY)).toBe(1);
  });

  it.each([
    [{}, true, true],
    [{ store: false }, true, false],
    [{ store: true }, false, false],
  ])('shouldStore(%j, responses.store=%s) → %s', (body, enabled, expected) => {
    expect(shouldStore(wireOf({ input: 'x', ...body }), enabled)).toBe(expected);
  });
});
