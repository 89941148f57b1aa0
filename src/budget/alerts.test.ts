import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { AlertNotifier, slackPayload, type AlertLogger } from './alerts.js';
import type { BudgetScope } from './ledger.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function receiver(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, body, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/secretpart`;
}

function capture(): AlertLogger & { lines: { obj: Record<string, unknown>; msg?: string }[] } {
  const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
  return { lines, warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) };
}

const scope: BudgetScope = { key: 'team:acme/research', limitUsd: 100, period: 'monthly', alerts: [0.5, 0.8, 1] };
const event = (threshold: number, tenantId = 'acme') => ({ scope, threshold, spentUsd: threshold * 100 + 0.12, periodStart: Date.parse('2025-05-01T00:00:00Z'), tenantId });

describe('AlertNotifier', () => {
  it('accepts a pino logger', () => {
    const logger: AlertLogger = pino({ level: 'silent' });
    new AlertNotifier({ logger }).notify(event(0.5));
  });

  it('logs, remembers and posts a Slack-compatible webhook', async () => {
    const received: { method?: string; type?: string; body: Record<string, any> }[] = [];
    const url = await receiver((req, body, res) => {
      received.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(body) });
      res.end('ok');
    });
    const log = capture();
    const n = new AlertNotifier({ logger: log, webhookUrl: url, now: () => Date.parse('2025-05-20T10:00:00Z') });
    n.notify(event(0.8));
    await n.flush();
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0].obj).toMatchObject({ tenantId: 'acme', scope: 'team:acme/research', threshold: 0.8 });
    expect(received).toHaveLength(1);
    const { method, type, body } = received[0];
    expect(method).toBe('POST');
    expect(type).toBe('application/json');
    expect(body.text).toContain('team:acme/research reached 80% of its monthly budget ($80.12 of $100.00)');
    expect(body.attachments[0].color).toBe('warning');
    expect(body.omega).toEqual({
      type: 'budget.threshold_crossed',
      tenant_id: 'acme',
      scope: 'team:acme/research',
      period: 'monthly',
      threshold: 0.8,
      spent_usd: 80.12,
      limit_usd: 100,
      utilization: 0.8012,
      period_start: '2025-05-01T00:00:00.000Z',
      at: '2025-05-20T10:00:00.000Z',
    });
  });

  it('never throws on a failing, unreachable or hanging webhook, and logs without the secret URL', async () => {
    const failing = await receiver((_req, _body, res) => {
      res.statusCode = 500;
      res.end('nope');
    });
    const hanging = await receiver(() => undefined);
    const closed = await receiver((_r, _b, res) => res.end());
    const closedServer = servers.pop()!;
    closedServer.closeAllConnections();
    await new Promise((r) => closedServer.close(r));

    for (const [url, expected] of [
      [failing, 'refused'],
      [hanging, 'failed'],
      [closed, 'failed'],
    ] as const) {
      const log = capture();
      const n = new AlertNotifier({ logger: log, webhookUrl: url, timeoutMs: 200 });
      const t0 = performance.now();
      expect(() => n.notify(event(1))).not.toThrow();
      expect(performance.now() - t0).toBeLessThan(50); // fire-and-forget
      await n.flush();
      expect(log.lines).toHaveLength(2);
      expect(log.lines[1].msg).toContain(expected);
      expect(JSON.stringify(log.lines)).not.toContain('secretpart');
    }
  });

  it('keeps the last 1,000 events, newest first, filterable by tenant', () => {
    const n = new AlertNotifier({ logger: capture() });
    for (let i = 0; i < 1500; i++) n.notify({ ...event(0.5, i % 2 ? 'odd' : 'even'), spentUsd: i });
    const all = n.recent();
    expect(all).toHaveLength(1000);
    expect(all[0].spentUsd).toBe(1499);
    expect(all[999].spentUsd).toBe(500);
    const odd = n.recent('odd');
    expect(odd).toHaveLength(500);
    expect(odd.every((a) => a.tenantId === 'odd')).toBe(true);
    expect(n.recent('nobody')).toEqual([]);
  });

  it('formats the payload for full alerts', () => {
    const p = slackPayload({ ...event(1), at: 0 });
    expect(p.attachments[0]).toMatchObject({ color: 'danger' });
    expect(p.text).toContain('100%');
  });
});
