/** Streams are forwarded chunk by chunk, aborted with the client, and ended cleanly on upstream death. */
import { waitFor } from '../support/requests.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, startTestGateway, type TestGateway } from '../support/gateway.js';

let upstream: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  gw = await startTestGateway(baseConfig(upstream.baseUrl));
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});


describe('streaming', () => {
  it('forwards the first chunk before the upstream has sent the rest (no buffering)', async () => {
    const stream = await gw.client().chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hold [gate] here' }],
      stream: true,
    });
    const iterator = stream[Symbol.asyncIterator]();
    const contents: string[] = [];
    // The fake sends the role chunk and the first word, then waits on the gate.
    while (contents.join('') !== 'Echo: ') {
      const { value } = await iterator.next();
      contents.push(value!.choices[0]?.delta.content ?? '');
    }
    expect(contents.join('')).toBe('Echo: '); // received while the upstream is still blocked
    upstream.release();
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) contents.push(r.value.choices[0]?.delta.content ?? '');
    expect(contents.join('')).toBe('Echo: hold [gate] here');
  });

  it('aborts the upstream request when the client disconnects, and audits it', async () => {
    const controller = new AbortController();
    const { data: stream, response } = await gw
      .client()
      .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'long [gate] story' }], stream: true }, { signal: controller.signal })
      .withResponse();
    const decisionId = response.headers.get('x-omega-decision-id')!;
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    const abortedBefore = upstream.aborted.length;
    controller.abort();
    await waitFor(() => upstream.aborted.length > abortedBefore, 'the upstream request to be aborted');
    upstream.release();
    await waitFor(async () => (await gw.auditRecord(decisionId)) !== undefined, 'the audit record');
    const record = await gw.auditRecord(decisionId);
    expect(record).toMatchObject({ client_disconnected: true, stream_interrupted: true, stream: true });
    // Nothing reported usage: the gateway billed what it delivered, and says so.
    expect(record!.usage_estimated).toBe(true);
    expect(record!.output_tokens).toBeGreaterThan(0);
    expect(record!.cost_usd).toBeGreaterThan(0);
  });

  it('ends the client stream with an error event when the upstream dies mid-stream', async () => {
    const { data: stream, response } = await gw
      .client()
      .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'one two three four five [die:3]' }], stream: true })
      .withResponse();
    const decisionId = response.headers.get('x-omega-decision-id')!;
    const received: string[] = [];
    const err = await (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String(err.message)).toMatch(/could not be reached|failed|terminated|aborted/i);
    expect(received.join('')).toBe('Echo: one two ');
    const record = await gw.auditRecord(decisionId);
    expect(record).toMatchObject({ stream_interrupted: true, client_disconnected: false, error_code: 'upstream_unreachable' });
    expect(record!.upstream_error).toBeTruthy();
    expect(record!.output_chars).toBe('Echo: one two '.length);
  });
});
