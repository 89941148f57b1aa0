/**
 * Provider usage is untrusted input: negative, infinite (`1e400` parses to Infinity), string,
 * null, fractional or absurdly large token counts never make a cost NaN or Infinity, never zero a
 * bill, and never make chain verification report an edit.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/verify.js';
import { MAX_USAGE_TOKENS } from '../../src/pipeline/meter.js';
import { baseConfig, startTestGateway, type TestGateway } from '../support/gateway.js';

/** Usage bodies as raw JSON text: JSON.stringify could not write 1e400. */
const USAGE: Record<string, string> = {
  negative: '{"prompt_tokens":-5,"completion_tokens":7,"total_tokens":2}',
  infinite: '{"prompt_tokens":1e400,"completion_tokens":1e309,"total_tokens":1e400}',
  strings: '{"prompt_tokens":"12","completion_tokens":"3","total_tokens":"15"}',
  nulls: '{"prompt_tokens":null,"completion_tokens":null,"total_tokens":null}',
  fractions: '{"prompt_tokens":1.5,"completion_tokens":2.5,"total_tokens":4,"prompt_tokens_details":{"cached_tokens":0.5}}',
  huge: '{"prompt_tokens":1e12,"completion_tokens":3,"total_tokens":1e12}',
  bad_details: '{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":1e400},"completion_tokens_details":{"reasoning_tokens":-1}}',
};

let upstream: Server;
let gw: TestGateway;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body);
      const text: string = parsed.messages.at(-1).content;
      const usage = USAGE[/case:(\w+)/.exec(text)![1]!]!;
      const head = `"id":"chatcmpl-x","created":1,"model":"gpt-upstream"`;
      if (parsed.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: {${head},"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"four words of answer"},"finish_reason":null}]}\n\n`);
        res.write(`data: {${head},"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n`);
        res.write(`data: {${head},"object":"chat.completion.chunk","choices":[],"usage":${usage}}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{${head},"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"four words of answer"},"finish_reason":"stop"}],"usage":${usage}}`);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  gw = await startTestGateway(baseConfig(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`));
});

afterAll(async () => {
  await gw?.stop();
  await new Promise((r) => upstream?.close(r));
});

async function call(name: string, stream: boolean) {
  const client = gw.client();
  const messages = [{ role: 'user' as const, content: `usage case:${name}` }];
  let decisionId: string | null;
  if (stream) {
    const { data, response } = await client.chat.completions.create({ model: 'gpt-test', messages, stream: true }).withResponse();
    for await (const chunk of data) void chunk;
    decisionId = response.headers.get('x-omega-decision-id');
  } else {
    const { response } = await client.chat.completions.create({ model: 'gpt-test', messages }).withResponse();
    decisionId = response.headers.get('x-omega-decision-id');
  }
  const record = await gw.auditRecord(decisionId!);
  expect(record).toBeDefined();
  expect(Number.isFinite(record!.cost_usd)).toBe(true);
  expect(record!.cost_usd).toBeGreaterThan(0);
  return record!;
}

describe('upstream usage validation', () => {
  for (const stream of [false, true]) {
    describe(stream ? 'streamed' : 'JSON', () => {
      it.each(['negative', 'infinite', 'strings', 'nulls'])('%s token counts are not counts: the gateway bills its own estimate', async (name) => {
        const r = await call(name, stream);
        expect(r).toMatchObject({ usage_estimated: true, input_tokens: r.input_tokens_estimated, cached_tokens: 0 });
        expect(r.output_tokens).toBeGreaterThan(0); // the delivered answer, estimated
      });

      it('fractions are rounded up to whole tokens, cached ones never above the input', async () => {
        const r = await call('fractions', stream);
        expect(r).toMatchObject({ usage_estimated: false, input_tokens: 2, output_tokens: 3, cached_tokens: 1 });
        expect(r.cost_usd).toBeCloseTo((1 * 2 + 1 * 2 + 3 * 8) / 1_000_000, 12);
      });

      it('an absurd count is capped', async () => {
        const r = await call('huge', stream);
        expect(r).toMatchObject({ usage_estimated: false, input_tokens: MAX_USAGE_TOKENS, output_tokens: 3 });
      });

      it('invalid details count as none', async () => {
        const r = await call('bad_details', stream);
        expect(r).toMatchObject({ usage_estimated: false, input_tokens: 10, output_tokens: 3, cached_tokens: 0, reasoning_tokens: 0 });
      });
    });
  }

  it('the chain verifies after all of them', async () => {
    await gw.audit.flush();
    const verdicts = await verifyAudit(gw.stores.auditQuery);
    expect(verdicts.map((v) => v.broken)).toEqual(verdicts.map(() => null));
  });
});
