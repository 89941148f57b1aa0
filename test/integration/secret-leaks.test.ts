/**
 * Issue 10, item 2: nothing secret leaves. A hostile upstream echoes the request's headers (the
 * provider key and configured provider headers) plus the admin token and tenant keys, in every
 * error form, for every provider type; then every place a string can leave the gateway is
 * searched for the planted secrets: response bodies and headers, log lines, audit rows, the
 * audit export, admin API answers, /metrics and exported spans.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvHeader, csvLine, exportAudit } from '../../src/audit/query.js';
import { parseConfigText } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/main.js';
import { createLogger } from '../../src/telemetry/logger.js';

const KEYS = {
  openai: 'sk-planted-openai-key-000111222333',
  compat: 'compat-planted-plain-key-222333444',
  anthropic: 'sk-ant-planted-anthropic-key-444555666777',
  gemini: 'AIzaPlantedGeminiKey0123456789abcdefghijk',
  cohere: 'cohere-planted-plain-key-777888999',
  azure: 'azure-planted-plain-key-999000111',
} as const;
const HEADER_SECRET = 'header-planted-secret-55667788';
const ADMIN_TOKEN = 'admin-planted-token-aabbccddeeff0011';
const TENANT_KEY = 'omk_planted_tenant_key_0123456789ab';
const OTHER_TENANT_KEY = 'omk_planted_other_key_9876543210cd';
const OTLP_TOKEN = 'otlp-planted-collector-token-1234';
const PLANTED = [...Object.values(KEYS), HEADER_SECRET, ADMIN_TOKEN, TENANT_KEY, OTHER_TENANT_KEY, OTLP_TOKEN];

type Type = keyof typeof KEYS;
const TYPES: Type[] = ['openai', 'compat', 'anthropic', 'gemini', 'cohere', 'azure'];
const JSON_MODES = ['json400', 'json401', 'json404', 'json429', 'json500', 'html502', 'text503', 'ok200'];
const STREAM_MODES = ['streamerr', 'streamctype', 'stream500', 'json429'];

/** What the hostile upstream says back: every header it got, plus secrets it should never have known. */
function echo(req: IncomingMessage): string {
  return `headers=${JSON.stringify(req.headers)} admin=${ADMIN_TOKEN} tenants=${TENANT_KEY},${OTHER_TENANT_KEY} auth: ${req.headers.authorization ?? ''}`;
}

function kindOf(url: string): 'anthropic' | 'gemini' | 'cohere' | 'openai' {
  if (url.includes('/v1/messages')) return 'anthropic';
  if (url.includes(':generateContent') || url.includes(':streamGenerateContent')) return 'gemini';
  if (url.includes('/v2/chat')) return 'cohere';
  return 'openai';
}

function okBody(kind: ReturnType<typeof kindOf>, said: string): unknown {
  switch (kind) {
    case 'anthropic':
      return { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } };
    case 'gemini':
      return { candidates: [{ content: { parts: [{ text: 'ok' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2 } };
    case 'cohere':
      return { id: 'c1', finish_reason: 'COMPLETE', message: { role: 'assistant', content: [{ type: 'text', text: 'ok' }] }, usage: { billed_units: { input_tokens: 1, output_tokens: 1 }, tokens: { input_tokens: 1, output_tokens: 1 } } };
    default:
      // A finish reason that is not one: a proxy that echoes into a 200 body.
      return { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: said }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
  }
}

function streamError(kind: ReturnType<typeof kindOf>, said: string): string {
  switch (kind) {
    case 'anthropic':
      return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message: said } })}\n\n`;
    case 'gemini':
      return `data: ${JSON.stringify({ error: { code: 500, message: said, status: 'INTERNAL' } })}\n\n`;
    case 'cohere':
      return `event: message-end\ndata: ${JSON.stringify({ type: 'message-end', delta: { finish_reason: 'ERROR', error: said } })}\n\n`;
    default:
      return `data: ${JSON.stringify({ error: { message: said, type: 'server_error' } })}\n\n`;
  }
}

function hostileUpstream(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = req.url ?? '';
  const mode = /mode-([a-z0-9]+)/.exec(url + body)?.[1] ?? 'json500';
  const kind = kindOf(url);
  const said = echo(req);
  const key = String(req.headers.authorization ?? req.headers['x-api-key'] ?? req.headers['api-key'] ?? req.headers['x-goog-api-key'] ?? '');
  // Every answer also echoes the credential in the headers a gateway might read.
  const headers = { 'x-request-id': key, 'request-id': key, 'apim-request-id': key, 'x-echo': said };
  const jsonError = (status: number) => {
    const payload = { type: 'error', error: { type: 'api_error', message: said, code: key.replace(/^Bearer /, ''), status: 'INTERNAL', param: said }, message: said };
    res.writeHead(status, { ...headers, 'content-type': 'application/json', 'retry-after': key }).end(JSON.stringify(payload));
  };
  switch (mode) {
    case 'json400':
      return jsonError(400);
    case 'json401':
      return jsonError(401);
    case 'json404':
      return jsonError(404);
    case 'json429':
      return jsonError(429);
    case 'json500':
    case 'stream500':
      return jsonError(500);
    case 'html502':
      res.writeHead(502, { ...headers, 'content-type': 'text/html' }).end(`<html><body><h1>Bad Gateway</h1><pre>${said}</pre></body></html>`);
      return;
    case 'text503':
      res.writeHead(503, { ...headers, 'content-type': 'text/plain' }).end(`upstream unavailable; request was: ${said}`);
      return;
    case 'ok200':
      res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(okBody(kind, key)));
      return;
    case 'streamerr':
      res.writeHead(200, { ...headers, 'content-type': 'text/event-stream' }).end(streamError(kind, said));
      return;
    case 'streamctype':
      res.writeHead(200, { ...headers, 'content-type': `text/plain; echo=${key.replace(/^Bearer /, '')}` }).end(said);
      return;
    default:
      return jsonError(500);
  }
}

function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

function configYaml(dir: string, upstream: string, otlp: string): string {
  const base: Record<Type, string> = {
    openai: `type: openai, base_url: "${upstream}/v1"`,
    compat: `type: openai-compatible, base_url: "${upstream}/v1"`,
    anthropic: `type: anthropic, base_url: "${upstream}"`,
    gemini: `type: gemini, base_url: "${upstream}/v1beta"`,
    cohere: `type: cohere, base_url: "${upstream}"`,
    azure: `type: azure-openai, base_url: "${upstream}"`,
  };
  const providers = TYPES.map(
    (t) => `  ${t}: { ${base[t]}, api_key: "${KEYS[t]}", headers: { X-Org-Secret: "${HEADER_SECRET}" }, circuit_breaker: { enabled: false } }`,
  ).join('\n');
  const models = TYPES.flatMap((t) => [...new Set([...JSON_MODES, ...STREAM_MODES])].map((m) => `  ${t}-${m}: { provider: ${t}, model: mode-${m}, retries: 0 }`)).join('\n');
  return `
server: { upstream_timeout: 5s }
storage: { url: "sqlite://${dir}/omega.db" }
audit: { flush_interval: 20ms }
routing: { initial_backoff: 1ms, max_backoff: 1ms }
admin:
  tokens: [ { id: ops, token: "${ADMIN_TOKEN}" } ]
telemetry:
  otlp_endpoint: "${otlp}"
  otlp_headers: { authorization: "Bearer ${OTLP_TOKEN}" }
providers:
${providers}
models:
${models}
  openai-embed: { provider: openai, model: mode-json500, embeddings: true, retries: 0 }
tenants:
  acme:
    models: ["*"]
    teams: { t: { agents: { a: { keys: [ { id: key_acme, key: "${TENANT_KEY}" } ] } } } }
  globex:
    models: ["*"]
    teams: { t: { agents: { b: { keys: [ { id: key_globex, key: "${OTHER_TENANT_KEY}" } ] } } } }
`;
}

/** Every place a planted secret (or its first 14 characters) shows up in `text`. */
function leaks(where: string, text: string): string[] {
  const found: string[] = [];
  for (const s of PLANTED) {
    if (text.includes(s.slice(0, 14))) found.push(`${where}: ${s}`);
  }
  return found;
}

describe('no planted secret leaves the gateway (issue 10)', () => {
  let dir: string;
  let upstream: Awaited<ReturnType<typeof listen>>;
  let collector: Awaited<ReturnType<typeof listen>>;
  let gateway: RunningGateway;
  const spans: string[] = [];
  const logLines: string[] = [];
  const seen: { where: string; text: string }[] = [];
  const answers: { model: string; stream: boolean; status: number; body: string; headers: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'omega-leaks-'));
    upstream = await listen(hostileUpstream);
    collector = await listen((req, res, _body) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    // The collector keeps raw (maybe gzipped) bodies: re-read them from a second listener.
    collector.server.removeAllListeners('request');
    collector.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let raw = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        spans.push(raw.toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    const config = parseConfigText(configYaml(dir, upstream.url, collector.url), join(dir, 'omega.yaml'), {});
    gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logger: createLogger('trace', sink) });

    const call = async (model: string, stream: boolean, key = TENANT_KEY) => {
      const res = await request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, stream, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
      });
      answers.push({ model, stream, status: res.statusCode, body: await res.body.text(), headers: res.headers });
    };
    for (const t of TYPES) {
      for (const m of JSON_MODES) await call(`${t}-${m}`, false);
      for (const m of STREAM_MODES) await call(`${t}-${m}`, true, OTHER_TENANT_KEY);
    }
    const embed = await request(`${gateway.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai-embed', input: 'hi' }),
    });
    answers.push({ model: 'embeddings', stream: false, status: embed.statusCode, body: await embed.body.text(), headers: embed.headers });

    for (const a of answers) seen.push({ where: `response ${a.model}${a.stream ? ' (stream)' : ''}`, text: `${JSON.stringify(a.headers)}\n${a.body}` });

    await gateway.audit.flush();
    const rows = await gateway.db.selectFrom('audit_records').selectAll().execute();
    seen.push({ where: 'audit rows', text: JSON.stringify(rows) });
    const fields = Object.keys(JSON.parse(rows[0]!.record as string));
    let csv = csvHeader(fields);
    for await (const r of exportAudit(gateway.stores.auditQuery, { allKinds: true })) csv += `\n${csvLine(r as unknown as Record<string, unknown>, fields)}\n${JSON.stringify(r)}`;
    seen.push({ where: 'audit export', text: csv });

    const admin = async (path: string) => {
      const res = await request(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const text = await res.body.text();
      seen.push({ where: `GET ${path}`, text: `${JSON.stringify(res.headers)}\n${text}` });
      return { status: res.statusCode, text };
    };
    const audit = await admin('/admin/audit?limit=1000&all_kinds=true');
    expect(audit.status).toBe(200);
    for (const path of ['/admin/audit/verify', '/admin/spend', '/admin/alerts', '/admin/reviews', '/admin/policies', '/metrics', '/readyz', '/healthz']) await admin(path);
    const decision = answers.find((a) => a.headers['x-omega-decision-id'])!.headers['x-omega-decision-id'];
    await admin(`/admin/audit?decision_id=${String(decision)}`);
    const models = await request(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${TENANT_KEY}` } });
    seen.push({ where: 'GET /v1/models', text: `${JSON.stringify(models.headers)}\n${await models.body.text()}` });

    await gateway.close(); // flushes the audit and exports the spans
  }, 60_000);

  afterAll(async () => {
    await new Promise<void>((r) => upstream.server.close(() => r()));
    await new Promise<void>((r) => collector.server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the upstream did echo the secrets (the test is live)', () => {
    expect(answers.length).toBe(TYPES.length * (JSON_MODES.length + STREAM_MODES.length) + 1);
    expect(answers.every((a) => a.status > 0)).toBe(true);
  });

  it('clients get catalog errors, scrubbed, and no echoed upstream request id', () => {
    const leaked = answers.flatMap((a) => leaks(`${a.model} stream=${a.stream} HTTP ${a.status}`, `${JSON.stringify(a.headers)}\n${a.body}`));
    expect(leaked).toEqual([]);
    for (const a of answers.filter((x) => !x.stream && x.status >= 400)) {
      const body = JSON.parse(a.body) as { error: { code: string; message: string; type: string } };
      expect(body.error.code, a.model).toMatch(/^upstream_|^context_length/);
      expect(a.headers['retry-after'], a.model).toBeUndefined();
    }
    // A 200 whose headers echo the key still succeeds, without the echoed id.
    for (const t of TYPES) {
      const ok = answers.find((a) => a.model === `${t}-ok200`)!;
      expect(ok.status, t).toBe(200);
      expect(ok.headers['x-omega-upstream-request-id'], t).toBeUndefined();
    }
    // Mid-stream error events are SSE data events carrying a scrubbed catalog error.
    const midStream = answers.filter((a) => a.model.endsWith('-streamerr'));
    for (const a of midStream) {
      expect(a.status, a.model).toBe(200);
      expect(a.body, a.model).toContain('"error"');
      expect(a.body, a.model).toContain('[redacted]');
    }
  });

  it('no log line, audit row, export, admin answer, metric or span holds a planted secret', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(spans.length).toBeGreaterThan(0);
    const everywhere = [...seen, { where: 'logs', text: logLines.join('') }, { where: 'spans', text: spans.join('\n') }];
    expect(everywhere.flatMap((s) => leaks(s.where, s.text))).toEqual([]);
  });

  it('the audit keeps what an operator needs: the failure, scrubbed', () => {
    const trail = seen.find((s) => s.where === 'audit export')!.text;
    expect(trail).toContain('failed with HTTP 500');
    expect(trail).toContain('[redacted]');
  });
});
