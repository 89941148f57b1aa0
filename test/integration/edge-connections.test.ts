/**
 * Connection limits with bare sockets: a body sent byte by byte is timed out with a 408 in the
 * OpenAI shape (and audited), an idle keep-alive connection is closed, connections beyond the
 * per-address cap are refused.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';
import { openSocket, parseResponse } from '../support/raw-http.js';

let upstream: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  const server = 'server:\n  request_timeout: 1500ms\n  headers_timeout: 1s\n  keep_alive_timeout: 400ms\n  max_connections_per_ip: 4\n';
  gw = await startTestGateway(baseConfig(upstream.baseUrl).replace('server:\n', server));
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

/** Collects what a socket receives; resolves `closed` with it when the gateway closes the socket. */
function watch(socket: Socket): { received: () => string; closed: Promise<{ text: string; at: number }> } {
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
  socket.on('error', () => undefined);
  const closed = new Promise<{ text: string; at: number }>((resolve) => socket.on('close', () => resolve({ text, at: Date.now() })));
  return { received: () => text, closed };
}

describe('connections', () => {
  it('a body sent one byte at a time gets a 408 in the OpenAI shape within request_timeout, audited', async () => {
    const socket = await openSocket(gw.url);
    const seen = watch(socket);
    const body = JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'slow' }] });
    const started = Date.now();
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TENANT_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
    let i = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed && i < body.length) socket.write(body[i++]!);
    }, 200);
    const { text, at } = await seen.closed;
    clearInterval(drip);
    // request_timeout 1.5 s, checked every second by Node.
    expect(at - started).toBeLessThan(1500 + 2500);
    const res = parseResponse(text)!;
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'request_timeout', type: 'invalid_request_error' } });
    const decision = res.headers['x-omega-decision-id']!;
    expect(decision).toMatch(/^dec_/);
    const records = (await gw.auditRecords()).filter((r) => r.decision_id === decision);
    expect(records).toHaveLength(1);
    // Authenticated before the body: the record knows whose request timed out.
    expect(records[0]).toMatchObject({ http_status: 408, error_code: 'request_timeout', tenant_id: 'acme', endpoint: '/v1/chat/completions' });
    expect(upstream.requests.some((r) => r.rawBody.includes('"slow"'))).toBe(false);
  });

  it('headers sent one byte at a time are cut off too', async () => {
    const socket = await openSocket(gw.url);
    const seen = watch(socket);
    const head = 'GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ' + 'a'.repeat(100);
    let i = 0;
    const started = Date.now();
    const drip = setInterval(() => {
      if (!socket.destroyed && i < head.length) socket.write(head[i++]!);
    }, 100);
    const { text, at } = await seen.closed;
    clearInterval(drip);
    expect(at - started).toBeLessThan(1500 + 2500);
    expect(parseResponse(text)?.status).toBe(408);
  });

  it('an idle keep-alive connection is closed after keep_alive_timeout', async () => {
    const socket = await openSocket(gw.url);
    const seen = watch(socket);
    socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    while (!seen.received().includes('"ok"')) await new Promise((r) => setTimeout(r, 10));
    const answered = Date.now();
    const { at } = await seen.closed;
    expect(parseResponse(seen.received())?.status).toBe(200);
    expect(at - answered).toBeGreaterThanOrEqual(300);
    expect(at - answered).toBeLessThan(400 + 2000);
  });

  it('connections beyond max_connections_per_ip are refused with a 503; others still work', async () => {
    const held = await Promise.all(Array.from({ length: 4 }, () => openSocket(gw.url)));
    for (const s of held) s.on('error', () => undefined);
    // Let the server register them all.
    await new Promise((r) => setTimeout(r, 100));
    const extra = await openSocket(gw.url);
    const { text } = await watch(extra).closed;
    const res = parseResponse(text)!;
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'too_many_connections' } });
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});
