/**
 * A fake Cohere v2 API for tests: `/v2/chat` (JSON and SSE, in Cohere's real event format) and
 * `/v2/embed`, deterministic from the input. The last user text steers it:
 * `[tool]` → a call to the first declared tool; `[error:429]` / `[error:500]` → that error in
 * Cohere's `{"message"}` shape; anything else → "Echo: <text>", streamed word by word.
 * Token counts are words, so tests can predict them exactly.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, as received. */
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

export interface FakeUpstream {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

interface CohereMessage {
  role: string;
  content?: string | Array<{ type: string; text?: string }>;
  tool_plan?: string;
}

interface CohereTool {
  function: { name: string; parameters?: { properties?: Record<string, { type?: string }> } };
}

const ERRORS: Record<string, string> = {
  '429': 'You are past the per minute request limit, please wait and try again later.',
  '500': 'internal server error, this has been reported to our developers',
};

export async function startFakeCohere(): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
        route(req, res, body);
      },
      () => send(res, 400, { message: 'invalid request: body is not JSON' }),
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
  if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) {
    return send(res, 401, { id: 'fake-401', message: 'invalid api token' });
  }
  const path = (req.url ?? '').split('?')[0];
  if (req.method === 'POST' && path === '/v2/chat') return chat(res, body);
  if (req.method === 'POST' && path === '/v2/embed') return embed(res, body);
  send(res, 404, { message: 'Not Found' });
}

function chat(res: ServerResponse, body: any): void {
  const messages: CohereMessage[] = Array.isArray(body?.messages) ? body.messages : [];
  if (typeof body?.model !== 'string' || messages.length === 0) {
    return send(res, 400, { message: 'invalid request: model and messages are required' });
  }
  const userText = textOf([...messages].reverse().find((m) => m.role === 'user'));
  const code = /\[error:(\d{3})\]/.exec(userText)?.[1];
  if (code) return send(res, Number(code), { id: 'fake-error', message: ERRORS[code] ?? `error ${code}` });

  const id = uuidFrom(JSON.stringify(body));
  const inputTokens = messages.reduce((n, m) => n + words(textOf(m)).length, 0);
  const tool: CohereTool | undefined = userText.includes('[tool]') ? body.tools?.[0] : undefined;
  const reply = tool ? `I will use ${tool.function.name}.` : `Echo: ${userText}`;
  const call = tool && { id: `${tool.function.name}_${id.slice(0, 8)}`, type: 'function', function: { name: tool.function.name, arguments: JSON.stringify(argsFor(tool)) } };
  const outputTokens = words(reply).length + (call ? words(call.function.arguments).length : 0);
  const usage = { billed_units: { input_tokens: inputTokens, output_tokens: outputTokens }, tokens: { input_tokens: inputTokens + 5, output_tokens: outputTokens } };
  const finishReason = call ? 'TOOL_CALL' : 'COMPLETE';

  if (body.stream !== true) {
    const message = call
      ? { role: 'assistant', tool_plan: reply, tool_calls: [call] }
      : { role: 'assistant', content: [{ type: 'text', text: reply }] };
    return send(res, 200, { id, finish_reason: finishReason, message, usage });
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': id });
  const event = (e: Record<string, unknown>) => res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  event({ type: 'message-start', id, delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } });
  if (call) {
    for (const piece of pieces(reply)) event({ type: 'tool-plan-delta', delta: { message: { tool_plan: piece } } });
    event({ type: 'tool-call-start', index: 0, delta: { message: { tool_calls: { ...call, function: { name: call.function.name, arguments: '' } } } } });
    const args = call.function.arguments;
    const half = Math.ceil(args.length / 2);
    for (const part of [args.slice(0, half), args.slice(half)]) {
      event({ type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: part } } } } });
    }
    event({ type: 'tool-call-end', index: 0 });
  } else {
    event({ type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } });
    for (const piece of pieces(reply)) event({ type: 'content-delta', index: 0, delta: { message: { content: { text: piece } } } });
    event({ type: 'content-end', index: 0 });
  }
  event({ type: 'message-end', delta: { finish_reason: finishReason, usage } });
  res.end();
}

function embed(res: ServerResponse, body: any): void {
  const texts: unknown = body?.texts;
  if (typeof body?.model !== 'string' || !Array.isArray(texts) || !texts.every((t) => typeof t === 'string')) {
    return send(res, 400, { message: 'invalid request: model and texts are required' });
  }
  if (!Array.isArray(body.embedding_types) || body.embedding_types.length === 0) {
    return send(res, 400, { message: 'invalid request: embedding_types is required' });
  }
  if (typeof body.input_type !== 'string') {
    return send(res, 400, { message: 'invalid request: valid input_type must be provided with the provided model' });
  }
  const code = /\[error:(\d{3})\]/.exec(texts.join(' '))?.[1];
  if (code) return send(res, Number(code), { id: 'fake-error', message: ERRORS[code] ?? `error ${code}` });
  const dims = Number.isInteger(body.output_dimension) ? body.output_dimension : 8;
  send(res, 200, {
    id: uuidFrom(JSON.stringify(body)),
    texts,
    embeddings: { float: texts.map((t) => fakeVector(t, dims)) },
    meta: { api_version: { version: '2' }, billed_units: { input_tokens: texts.reduce((n, t) => n + words(t).length, 0) } },
    response_type: 'embeddings_by_type',
  });
}

/** A unit-range vector from a hash of the text: same text, same vector. */
export function fakeVector(text: string, dims: number): number[] {
  const out: number[] = [];
  for (let block = 0; out.length < dims; block++) {
    const bytes = createHash('sha256').update(`${block}:${text}`).digest();
    for (const b of bytes) if (out.length < dims) out.push(Math.round((b / 255) * 2e6 - 1e6) / 1e6);
  }
  return out;
}

/** Arguments that satisfy the tool's schema: strings read "Paris", numbers 1, booleans true. */
function argsFor(tool: CohereTool): Record<string, unknown> {
  const sample: Record<string, unknown> = { string: 'Paris', number: 1, integer: 1, boolean: true, array: [], object: {} };
  const props = tool.function.parameters?.properties ?? {};
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sample[v.type ?? 'string'] ?? null]));
}

function textOf(m: CohereMessage | undefined): string {
  if (!m) return '';
  const content = typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join(' ');
  return [content, m.tool_plan ?? ''].join(' ').trim();
}

function words(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

/** "Echo: a b" → ["Echo:", " a", " b"]: word deltas that concatenate back to the text. */
function pieces(s: string): string[] {
  return words(s).map((w, i) => (i === 0 ? w : ` ${w}`));
}

function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

async function readBody(req: IncomingMessage): Promise<any> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const raw = Buffer.concat(parts).toString('utf8');
  return raw ? JSON.parse(raw) : undefined;
}

function send(res: ServerResponse, status: number, json: unknown): void {
  const body = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': 'fake-cohere' });
  res.end(body);
}
