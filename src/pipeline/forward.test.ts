import { createHash } from 'node:crypto';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../config/load.js';
import { GatewayError } from '../errors.js';
import type { ChatRequest } from '../providers/adapter.js';
import { chatCompletionsSurface } from '../surfaces/chat-completions/index.js';
import { startFakeOpenAI, type FakeOpenAI } from '../../test/fakes/openai-upstream.js';
import { serveCanned } from '../../test/support/canned-server.js';
import { PROVIDER_KEY, acmeTenant, firstRoute, principalOf, readContext, stageConfig } from '../../test/support/stage-fixtures.js';
import type { RequestContext } from './context.js';
import { checkStreamAnswer, pipeStream, readJsonAnswer, UpstreamClient, OutputDigest } from './forward.js';
import { RouteTable } from './select-route.js';

let fake: FakeOpenAI;
let config: GatewayConfig;
let client: UpstreamClient;
let routes: RouteTable;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  config = stageConfig(acmeTenant(), {
    upstream: fake.baseUrl,
    providers: [
      `  slowpoke: { type: openai, base_url: "${fake.baseUrl}", api_key: "${PROVIDER_KEY}", timeout: 150ms }`,
      `  nowhere: { type: openai, base_url: "http://127.0.0.1:9/v1", api_key: "${PROVIDER_KEY}" }`,
    ].join('\n'),
    models: '  slow-model: { provider: slowpoke, model: gpt-upstream }\n  closed: { provider: nowhere }',
  });
  client = new UpstreamClient(config);
  routes = new RouteTable(config);
});
afterAll(async () => {
  await client.close();
  await fake.close();
});

async function exchange(model: string, body: Partial<ChatRequest>, abort = new AbortController()) {
  const { ctx, wire } = readContext(await principalOf(config), { model, ...body });
  const route = firstRoute(routes.resolve(model, ctx.principal!, 'chat'));
  ctx.route = route;
  const pending = client.send(ctx, route, route.adapter.chatRequest(wire, route.target), abort.signal);
  return { ctx, wire, route, pending };
}

const user = (content: string) => ({ messages: [{ role: 'user' as const, content }] });
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => { expect(e).toBeInstanceOf(GatewayError); return e as GatewayError; });

describe('forward: JSON answers', () => {
  it('sends the translated request with the provider’s credential and records the exchange', async () => {
    const { ctx, route, pending } = await exchange('gpt-test', user('hi'));
    const res = await pending;
    const { json, text } = await readJsonAnswer(ctx, route, res, client.scrubber);
    expect(text).toBe(JSON.stringify(json));
    expect((json as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('Echo: hi');
    const seen = fake.requests.at(-1)!;
    expect(seen.body.model).toBe('gpt-upstream');
    expect(seen.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(ctx.attempts).toBe(1);
    expect(ctx.upstreamStatus).toBe(200);
    expect(ctx.upstreamRequestId).toMatch(/^req_upstream_chatcmpl-fake/);
    expect(ctx.upstreamMs).toBeGreaterThan(0);
  });

  it('maps provider errors to catalog errors, keeping Retry-After', async () => {
    const a = await exchange('gpt-test', user('[error:500]'));
    const err = await failure(a.pending.then((res) => readJsonAnswer(a.ctx, a.route, res, client.scrubber)));
    expect(err).toMatchObject({ code: 'upstream_error', status: 502 });
    expect(a.ctx.upstreamStatus).toBe(500);
    expect(a.ctx.upstreamError).toBe(err.message);
    const b = await exchange('gpt-test', user('[error:429]'));
    const limited = await failure(b.pending.then((res) => readJsonAnswer(b.ctx, b.route, res, client.scrubber)));
    expect(limited).toMatchObject({ code: 'upstream_rate_limited', status: 429 });
    expect(limited.headers?.['retry-after']).toBe('1');
  });

  it('refuses a 200 that is not JSON with 502 upstream_invalid_response', async () => {
    const { ctx, route, pending } = await exchange('gpt-test', user('[nonjson]'));
    const err = await failure(pending.then((res) => readJsonAnswer(ctx, route, res, client.scrubber)));
    expect(err).toMatchObject({ code: 'upstream_invalid_response', status: 502 });
    expect(ctx.upstreamError).toContain('not JSON');
  });

  it('never relays the provider credential a provider echoes in an error', async () => {
    const canned = await serveCanned({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: { message: `bad key ${PROVIDER_KEY}`, type: 'invalid_request_error' } }) });
    const cfg = stageConfig(acmeTenant(), { upstream: canned.baseURL });
    const upstream = new UpstreamClient(cfg);
    try {
      const { ctx, wire } = readContext(await principalOf(cfg), user('hi'));
      const route = firstRoute(new RouteTable(cfg).resolve('gpt-test', ctx.principal!, 'chat'));
      const res = await upstream.send(ctx, route, route.adapter.chatRequest(wire, route.target), new AbortController().signal);
      const err = await failure(readJsonAnswer(ctx, route, res, upstream.scrubber));
      expect(err.code).toBe('upstream_rejected');
      expect(err.message).not.toContain(PROVIDER_KEY);
      expect(ctx.upstreamError).not.toContain(PROVIDER_KEY);
    } finally {
      await upstream.close();
      await canned.close();
    }
  });

  it('maps transport failures: refused connection 502, no answer in time 504', async () => {
    const closed = await exchange('closed', user('hi'));
    const refused = await failure(closed.pending);
    expect(refused).toMatchObject({ code: 'upstream_unreachable', status: 502 });
    expect(refused.message).toContain('ECONNREFUSED');
    expect(closed.ctx.attempts).toBe(1);
    expect(closed.ctx.upstreamError).toBe(refused.message);
    const slow = await exchange('slow-model', user('[slow:3000]'));
    expect(await failure(slow.pending)).toMatchObject({ code: 'upstream_timeout', status: 504 });
  });
});

/** Runs one stream through pipeStream into a real HTTP response read by a real client. */
async function relay(content: string, onFirstData?: (destroy: () => void) => void) {
  let ctx!: RequestContext;
  let beforeEnd = 0;
  let done!: Promise<void>;
  const server: Server = createServer((_req, out) => {
    done = (async () => {
      // One abort for the upstream request and the client's side, as the runner has.
      const abort = new AbortController();
      const x = await exchange('gpt-test', { stream: true, ...user(content) }, abort);
      ctx = x.ctx;
      const res = await x.pending;
      await checkStreamAnswer(ctx, x.route, res, client.scrubber);
      const output = { translator: x.route.adapter.chatStream(x.route.target), encoder: chatCompletionsSurface.streamEncoder(x.wire, { clientWantsUsage: false, inputTokens: 0 }), native: false };
      await pipeStream(ctx, x.route, res, out, () => out.writeHead(200, { 'content-type': 'text/event-stream' }), abort, output, client.scrubber, async () => void beforeEnd++);
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const body = await new Promise<string>((resolve) => {
    const req = get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        onFirstData?.(() => req.destroy());
        onFirstData = undefined;
      });
      res.on('end', () => resolve(text));
      res.on('close', () => resolve(text));
    });
    req.on('error', () => undefined);
  });
  await done;
  server.close();
  return { ctx, body, beforeEnd: () => beforeEnd };
}

describe('forward: streams', () => {
  it('relays the frames and records usage, output and timing; the last bytes wait for beforeEnd', async () => {
    const { ctx, body, beforeEnd } = await relay('stream me');
    expect(body).toContain('"content":"Echo: "');
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    // Usage is forced upstream for metering, but this client did not ask for it.
    expect(body).not.toContain('prompt_tokens');
    expect(ctx.usage).toMatchObject({ outputTokens: 3 });
    expect(ctx.finishReason).toBe('stop');
    expect(ctx.outputChars).toBe('Echo: stream me'.length);
    expect(ctx.outputHash).toBe(createHash('sha256').update('Echo: stream me').digest('hex'));
    expect(ctx.timeToFirstTokenMs).not.toBeNull();
    expect(ctx.streamInterrupted).toBe(false);
    expect(beforeEnd()).toBe(1);
  });

  it('scrubs a configured credential out of a 200 stream', async () => {
    const { body } = await relay(`say ${PROVIDER_KEY}`);
    expect(body).not.toContain(PROVIDER_KEY);
    expect(body).toContain('[redacted]');
  });

  it('ends a stream the provider cuts with an error frame, and records the interruption', async () => {
    const { ctx, body, beforeEnd } = await relay('[die:2] one two three four');
    expect(ctx.streamInterrupted).toBe(true);
    expect(ctx.error?.code).toBe('upstream_unreachable');
    expect(ctx.upstreamError).toBe(ctx.error!.message);
    const frames = body.trimEnd().split('\n\n');
    expect(JSON.parse(frames.at(-1)!.slice('data: '.length))).toEqual({ error: { message: ctx.error!.message, type: 'upstream_error', param: null, code: 'upstream_unreachable' } });
    expect(body).not.toContain('[DONE]');
    expect(ctx.outputChars).toBeGreaterThan(0);
    expect(beforeEnd()).toBe(1);
  });

  it('aborts the upstream request when the client leaves, without an error of its own', async () => {
    const before = fake.aborted.length;
    // The gate holds the rest of the stream: the client leaves after the first frame.
    const { ctx, beforeEnd } = await relay('[gate] a b c', (destroy) => destroy());
    expect(ctx.clientDisconnected).toBe(true);
    expect(ctx.streamInterrupted).toBe(true);
    expect(ctx.error).toBeUndefined();
    expect(ctx.upstreamError).toContain('client disconnected');
    expect(beforeEnd()).toBe(0);
    for (let i = 0; i < 200 && fake.aborted.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(fake.aborted.length).toBeGreaterThan(before);
    fake.release();
  });

  it('refuses a stream answer that is not an event stream before any byte reaches the client', async () => {
    const { ctx, route, pending } = await exchange('gpt-test', user('no stream'));
    const err = await failure(pending.then((res) => checkStreamAnswer(ctx, route, res, client.scrubber)));
    expect(err).toMatchObject({ code: 'upstream_invalid_response', status: 502 });
    expect(err.message).toContain('application/json');
  });
});

describe('forward: output digest', () => {
  it('equals hashing each delta in turn, for short and long streams', () => {
    for (const deltas of [[], ['one'], ['a', 'b', 'c'], Array.from({ length: 5000 }, (_, i) => `token ${i} `)]) {
      const digest = new OutputDigest();
      const reference = createHash('sha256');
      for (const d of deltas) {
        digest.add(d);
        reference.update(d);
      }
      expect(digest.digest()).toBe(reference.digest('hex'));
    }
  });
});
