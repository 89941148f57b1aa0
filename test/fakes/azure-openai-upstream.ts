/**
 * A fake Azure OpenAI resource for tests: OpenAI's wire format on Azure's URL layout
 * (`/openai/deployments/{deployment}/chat/completions|embeddings?api-version=…`), with Azure's
 * quirks: the `api-key` header, a required `api-version`, `apim-request-id`, and a
 * content-filter preamble chunk opening every stream. Steered like the Cohere fake by the last
 * user text: `[tool]`, `[error:429]`, `[error:500]`, else "Echo: <text>". Tokens are words.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeUpstream, RecordedRequest } from './cohere-upstream.js';
import { fakeVector } from './cohere-upstream.js';

export type { FakeUpstream, RecordedRequest };

const ROUTE = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/;
const CREATED = 1_760_000_000;

interface Message {
  role: string;
  content?: string | Array<{ type: string; text?: string }> | null;
}

export async function startFakeAzureOpenAI(): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
        route(req, res, body);
      },
      () => error(res, 400, 'BadRequest', 'The request body is not valid JSON.'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

function route(req: IncomingMessage, res: ServerResponse, body: any): void {
  const url = new URL(req.url ?? '/', 'http://fake');
  if (!req.headers['api-key']) {
    return error(res, 401, '401', 'Access denied due to invalid subscription key or wrong API endpoint.');
  }
  if (!url.searchParams.get('api-version')) {
    return error(res, 400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  }
  const match = ROUTE.exec(url.pathname);
  if (req.method !== 'POST' || !match) return error(res, 404, '404', 'Resource not found');
  const deployment = decodeURIComponent(match[1]!);
  if (match[2] === 'embeddings') return embeddings(res, body, deployment);
  chat(res, body, deployment);
}

function chat(res: ServerResponse, body: any, deployment: string): void {
  const messages: Message[] = Array.isArray(body?.messages) ? body.messages : [];
  if (messages.length === 0) return error(res, 400, 'BadRequest', "'messages' is a required property", 'messages');
  const userText = textOf([...messages].reverse().find((m) => m.role === 'user'));
  const code = /\[error:(\d{3})\]/.exec(userText)?.[1];
  if (code === '429') return error(res, 429, '429', 'Requests to the ChatCompletions_Create Operation have exceeded the rate limit.', null, { 'retry-after': '1' });
  if (code) return error(res, Number(code), 'InternalServerError', 'The server had an error while processing your request.');

  const id = `chatcmpl-${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 24)}`;
  const tool = userText.includes('[tool]') ? body.tools?.[0]?.function : undefined;
  const reply = `Echo: ${userText}`;
  const call = tool && { id: `call_${id.slice(9, 21)}`, type: 'function', function: { name: tool.name, arguments: JSON.stringify(argsFor(tool)) } };
  const prompt = messages.reduce((n, m) => n + words(textOf(m)).length, 0);
  const completion = call ? words(call.function.arguments).length : words(reply).length;
  const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  const finish = call ? 'tool_calls' : 'stop';
  const head = { id, created: CREATED, model: deployment };

  if (body.stream !== true) {
    const message = call ? { role: 'assistant', content: null, refusal: null, tool_calls: [call] } : { role: 'assistant', content: reply, refusal: null };
    return send(res, 200, {
      ...head,
      object: 'chat.completion',
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }],
      choices: [{ index: 0, message, finish_reason: finish, logprobs: null, content_filter_results: {} }],
      usage,
    });
  }

  const withUsage = body.stream_options?.include_usage === true;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'apim-request-id': id });
  const data = (json: unknown) => res.write(`data: ${JSON.stringify(json)}\n\n`);
  const chunk = (delta: object, finish_reason: string | null = null) =>
    data({ ...head, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason, logprobs: null }], ...(withUsage && { usage: null }) });
  // Azure opens every stream with the prompt's content-filter verdict and no choices.
  data({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] });
  chunk({ role: 'assistant', content: '', refusal: null });
  if (call) {
    chunk({ tool_calls: [{ index: 0, ...call, function: { name: call.function.name, arguments: '' } }] });
    chunk({ tool_calls: [{ index: 0, function: { arguments: call.function.arguments } }] });
  } else {
    words(reply).forEach((w, i) => chunk({ content: i === 0 ? w : ` ${w}` }));
  }
  chunk({}, finish);
  if (withUsage) data({ ...head, object: 'chat.completion.chunk', choices: [], usage });
  res.end('data: [DONE]\n\n');
}

function embeddings(res: ServerResponse, body: any, deployment: string): void {
  const inputs: unknown[] = typeof body?.input === 'string' ? [body.input] : Array.isArray(body?.input) ? body.input : [];
  if (inputs.length === 0 || !inputs.every((t) => typeof t === 'string')) {
    return error(res, 400, 'BadRequest', "'input' must be a string or an array of strings", 'input');
  }
  const texts = inputs as string[];
  const dims = Number.isInteger(body.dimensions) ? body.dimensions : 8;
  const base64 = body.encoding_format === 'base64';
  const tokens = texts.reduce((n, t) => n + words(t).length, 0);
  send(res, 200, {
    object: 'list',
    data: texts.map((t, index) => {
      const v = fakeVector(t, dims);
      return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v };
    }),
    model: deployment,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function argsFor(fn: { parameters?: { properties?: Record<string, { type?: string }> } }): Record<string, unknown> {
  const sample: Record<string, unknown> = { string: 'Paris', number: 1, integer: 1, boolean: true, array: [], object: {} };
  return Object.fromEntries(Object.entries(fn.parameters?.properties ?? {}).map(([k, v]) => [k, sample[v.type ?? 'string'] ?? null]));
}

function textOf(m: Message | undefined): string {
  if (!m?.content) return '';
  return typeof m.content === 'string' ? m.content : m.content.map((p) => p.text ?? '').join(' ');
}

function words(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

async function readBody(req: IncomingMessage): Promise<any> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const raw = Buffer.concat(parts).toString('utf8');
  return raw ? JSON.parse(raw) : undefined;
}

function error(res: ServerResponse, status: number, code: string, message: string, param: string | null = null, headers: Record<string, string> = {}): void {
  send(res, status, { error: { code, message, param, type: null } }, headers);
}

function send(res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'apim-request-id': 'fake-azure', ...headers });
  res.end(body);
}
