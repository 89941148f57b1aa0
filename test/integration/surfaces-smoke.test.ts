/** Smoke: the Messages and Responses surfaces through the gateway with the official SDKs, native and translated. */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.js';
import { startFakeGemini } from '../fakes/gemini-upstream.js';
import { startFakeOpenAI } from '../fakes/openai-upstream.js';
import { startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
const fakes: Record<string, { url: string; close(): Promise<void> }> = {};
beforeAll(async () => {
  fakes.openai = await startFakeOpenAI();
  fakes.anthropic = await startFakeAnthropic();
  fakes.gemini = await startFakeGemini();
  gw = await startTestGateway(`
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
audit: { flush_interval: 20ms }
providers:
  openai: { type: openai, base_url: "${fakes.openai.url}/v1", api_key: sk-upstream-test-key-123 }
  anthropic: { type: anthropic, base_url: "${fakes.anthropic.url}", api_key: sk-ant-test-key-789 }
  google: { type: gemini, base_url: "${fakes.gemini.url}", api_key: gemini-test-key-012 }
models:
  gpt-5.4: { provider: openai, price: { input: 1, output: 2 } }
  claude-opus-4-6: { provider: anthropic, price: { input: 1, output: 2 } }
  gemini-3.1-pro: { provider: google, price: { input: 1, output: 2 } }
tenants:
  acme:
    teams: { t: { agents: { bot: { keys: [ { id: k, key: "${TENANT_KEY}" } ] } } } }
`);
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
});

describe.each(['claude-opus-4-6', 'gpt-5.4', 'gemini-3.1-pro'])('surfaces with %s', (model) => {
  it('messages.create and messages.stream', async () => {
    const client = new Anthropic({ apiKey: TENANT_KEY, baseURL: gw.url, maxRetries: 0 });
    const msg = await client.messages.create({ model, max_tokens: 50, messages: [{ role: 'user', content: 'Hello there' }] });
    expect(msg.content[0]).toMatchObject({ type: 'text' });
    expect((msg.content[0] as { text: string }).text).toContain('Hello there');
    const stream = client.messages.stream({ model, max_tokens: 50, messages: [{ role: 'user', content: 'Stream me' }] });
    const final = await stream.finalMessage();
    expect((final.content[0] as { text: string }).text).toContain('Stream me');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('responses.create, streamed and not, with previous_response_id', async () => {
    const client = gw.client();
    const first = await client.responses.create({ model, input: 'Hello responses' });
    expect(first.output_text).toContain('Hello responses');
    const second = await client.responses.create({ model, input: 'And again', previous_response_id: first.id });
    expect(second.output_text).toContain('And again');
    const stream = client.responses.stream({ model, input: 'Streamed', previous_response_id: second.id });
    const final = await stream.finalResponse();
    expect(final.output_text).toContain('Streamed');
    const got = await client.responses.retrieve(final.id);
    expect(got.id).toBe(final.id);
  });
});
