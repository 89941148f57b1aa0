import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI, type FakeOpenAI } from './openai-upstream.js';

let fake: FakeOpenAI;
let client: OpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  client = new OpenAI({ baseURL: fake.baseUrl, apiKey: FAKE_UPSTREAM_KEY, maxRetries: 0 });
});
afterAll(() => fake.close());

const tools = [{ type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } }, strict: false }];

describe('fake OpenAI /v1/responses, read by the official SDK', () => {
  it('answers JSON with text and usage, and records the exact bytes', async () => {
    const r = await client.responses.create({ model: 'gpt-4.1', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hello ✓' }] }] });
    expect(r.output_text).toBe('Echo: Hello ✓');
    expect(r.usage).toMatchObject({ output_tokens: 3, total_tokens: r.usage!.input_tokens + 3 }); // one per word piece
    const seen = fake.requests.at(-1)!;
    expect(seen.raw.toString('utf8')).toBe(seen.rawBody);
    expect(JSON.parse(seen.rawBody).model).toBe('gpt-4.1');
  });

  it('streams events the SDK accumulates', async () => {
    const stream = client.responses.stream({ model: 'gpt-4.1', input: '[words:4]' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('w0 w1 w2 w3');
    expect(final.output_text).toBe('w0 w1 w2 w3');
  });

  it.each([false, true])('calls the first function tool on [tool] (stream: %s)', async (stream) => {
    const r = stream ? await client.responses.stream({ model: 'gpt-4.1', input: 'weather? [tool]', tools }).finalResponse() : await client.responses.create({ model: 'gpt-4.1', input: 'weather? [tool]', tools });
    expect(r.output).toMatchObject([{ type: 'function_call', name: 'get_weather', arguments: '{"location":"Paris"}', call_id: expect.stringMatching(/^call_fake_/) }]);
  });

  it('accepts previous_response_id only for an id it issued', async () => {
    const first = await client.responses.create({ model: 'gpt-4.1', input: 'one' });
    expect(fake.responseIds).toContain(first.id);
    const second = await client.responses.create({ model: 'gpt-4.1', input: 'two', previous_response_id: first.id });
    expect(second.previous_response_id).toBe(first.id);
    const err = await client.responses.create({ model: 'gpt-4.1', input: 'x', previous_response_id: 'resp_unknown' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'previous_response_not_found', param: 'previous_response_id' });
  });

  it('answers error markers with OpenAI error bodies', async () => {
    const err = await client.responses.create({ model: 'gpt-4.1', input: 'x [error:503]' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ status: 503, message: expect.stringContaining('Fake upstream error 503') });
  });
});
