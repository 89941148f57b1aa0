/**
 * The demo upstream: a tiny OpenAI-compatible server on loopback that the gateway starts only
 * when a provider of `type: demo` is configured, so a first run answers with no provider
 * account. It echoes the last user message; it is not a model and says so.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoUpstream {
  /** Base URL to configure as the provider's API root, e.g. http://127.0.0.1:40123/v1 */
  baseUrl: string;
  close(): Promise<void>;
}

export async function startDemoUpstream(): Promise<DemoUpstream> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function handle(req: IncomingMessage, res: ServerResponse, text: string): void {
  let body: Record<string, any>;
  try {
    body = JSON.parse(text);
  } catch {
    return json(res, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error', param: null, code: null } });
  }
  if (req.url === '/v1/chat/completions') return chat(res, body);
  if (req.url === '/v1/embeddings') return embeddings(res, body);
  json(res, 404, { error: { message: `unknown path ${req.url}`, type: 'invalid_request_error', param: null, code: null } });
}

function chat(res: ServerResponse, body: Record<string, any>): void {
  const lastUser = [...(body.messages ?? [])].reverse().find((m: any) => m.role === 'user');
  const said = typeof lastUser?.content === 'string' ? lastUser.content : JSON.stringify(lastUser?.content ?? '');
  const reply = `Hello from the OmegaEngine demo upstream (not a model). You said: ${said}`;
  const words = reply.split(/(?<= )/);
  const usage = { prompt_tokens: Math.ceil(JSON.stringify(body.messages).length / 4), completion_tokens: words.length, total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const id = `chatcmpl-demo${Date.now()}`;
  const created = Math.floor(Date.now() / 1000);
  if (!body.stream) {
    return json(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: reply, refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage,
    });
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`;
  res.write(chunk({ role: 'assistant', content: '' }, null));
  for (const w of words) res.write(chunk({ content: w }, null));
  res.write(chunk({}, 'stop'));
  if (body.stream_options?.include_usage) {
    res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage })}\n\n`);
  }
  res.end('data: [DONE]\n\n');
}

function embeddings(res: ServerResponse, body: Record<string, any>): void {
  const inputs: unknown[] = Array.isArray(body.input) ? body.input : [body.input];
  // Deterministic 8-dimensional vectors from a hash: stable for tests and demos, meaningless otherwise.
  const data = inputs.map((input, index) => {
    const digest = createHash('sha256').update(JSON.stringify(input)).digest();
    const embedding = Array.from({ length: 8 }, (_, i) => digest.readInt16BE(i * 2) / 32768);
    return { object: 'embedding', index, embedding };
  });
  const tokens = Math.ceil(JSON.stringify(body.input).length / 4);
  json(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
