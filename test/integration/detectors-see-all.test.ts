/**
 * Issue 10 item 8 through the real gateway and the official SDK: text hidden in fields other
 * than message contents, or spelled with look-alike characters, is found; redactions reach the
 * upstream at the right place with the original spelling around them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refused } from '../support/requests.js';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const KEY = 'omk_test_seeall_key_0123456789abcdef';

function config(upstreamBaseUrl: string): string {
  return `
server:
  upstream_timeout: 2s
storage:
  url: sqlite://\${DATA_DIR}/omega.db
audit:
  flush_interval: 20ms
providers:
  fake-openai: { type: openai, base_url: "${upstreamBaseUrl}", api_key: "${FAKE_UPSTREAM_KEY}", circuit_breaker: { enabled: false } }
models:
  gpt-test: { provider: fake-openai, model: gpt-upstream, retries: 0, price: { input: 1, output: 1 } }
policies:
  guard:
    rules:
      - { id: codename, terms: ["project orion"], action: block }
      - { id: mask-pii, detect: pii, action: redact }
tenants:
  acme:
    models: [gpt-test]
    policy: guard
    teams:
      t:
        agents:
          a: { keys: [ { id: key_seeall, key: "${KEY}" } ] }
`;
}

let upstream: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  gw = await startTestGateway(config(upstream.baseUrl));
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

const hi = [{ role: 'user' as const, content: 'hi' }];

describe('detectors see everything the model reads', () => {
  it.each([
    ['a message name', { messages: [{ role: 'user' as const, name: 'project orion', content: 'hi' }] }],
    ['a tool description', { messages: hi, tools: [{ type: 'function' as const, function: { name: 'f', description: 'about Project Orion' } }] }],
    ['a parameter description', { messages: hi, tools: [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object', properties: { q: { type: 'string', description: 'project orion' } } } } }] }],
    ['a response_format schema', { messages: hi, response_format: { type: 'json_schema' as const, json_schema: { name: 'r', description: 'project orion' } } }],
    ['prediction content', { messages: hi, prediction: { type: 'content' as const, content: 'project orion' } }],
    ['a stop sequence', { messages: hi, stop: ['project orion'] }],
    ['a metadata value', { messages: hi, metadata: { note: 'project orion' }, store: true }],
    ['user', { messages: hi, user: 'project orion' }],
    ['a file name', { messages: [{ role: 'user' as const, content: [{ type: 'file' as const, file: { filename: 'project orion.pdf', file_data: 'data:application/pdf;base64,AAAA' } }] }] }],
    ['fullwidth letters', { messages: [{ role: 'user' as const, content: 'ｐｒｏｊｅｃｔ ｏｒｉｏｎ' }] }],
    ['zero-width characters', { messages: [{ role: 'user' as const, content: 'pro\u200bject or\u200dion' }] }],
    ['Cyrillic look-alikes', { messages: [{ role: 'user' as const, content: 'prоjесt оriоn' }] }],
  ])('blocks a term hidden in %s', async (_what, body) => {
    const err = await refused(gw.client(KEY).chat.completions.create({ model: 'gpt-test', ...body } as any));
    expect(err.status).toBe(403);
    expect((err.error as { code?: string }).code).toBe('policy_blocked');
  });

  it('redacts PII in a tool description and a look-alike e-mail, keeping the original elsewhere', async () => {
    upstream.requests.length = 0;
    await gw.client(KEY).chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'Письмо: ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ, спасибо' }],
      tools: [{ type: 'function', function: { name: 'send', description: 'Sends to bob@example.org only' } }],
      metadata: { 'contact info': 'carol@example.net' },
      store: true,
    });
    const sent = upstream.requests.at(-1)!.body;
    expect(sent.messages[0].content).toBe('Письмо: [REDACTED:email], спасибо');
    expect(sent.tools[0].function.description).toBe('Sends to [REDACTED:email] only');
    expect(sent.metadata['contact info']).toBe('[REDACTED:email]');
  });
});
