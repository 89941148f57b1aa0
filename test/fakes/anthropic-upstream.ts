/**
 * A fake Anthropic Messages API for integration tests: `POST /v1/messages` in the real wire
 * format, JSON or SSE, and `POST /v1/messages/count_tokens`. What it answers is driven by the
 * text of the last user message:
 *   `[tool]`        → a tool_use block calling the first declared tool, input built from its schema
 *                     (also when tool_choice is `any` or names a tool; never when it is `none`)
 *   `[call:NAME {…}]` → the text `Preparing the call.`, then a tool_use block calling NAME with
 *                     these JSON arguments (no `]` inside), declared or not
 *   `[think]`       → a thinking block (with a signature) before the answer; streamed as
 *                     thinking_delta events and one signature_delta
 *   `[error:NNN]`   → HTTP NNN with Anthropic's error body (429 carries `retry-after: 1`)
 *   `[error:stream]`→ a 200 stream that breaks off with an `error` event (overloaded_error)
 *   `[cache]`       → usage reports 50 cache-write and 100 cache-read input tokens
 *   otherwise       → the text `Echo: <last user text>`
 * Requests need a credential (`x-api-key`, or `Authorization: Bearer` as the SDK sends) and an
 * `anthropic-version` header, else a 401 in Anthropic's error shape.
 * Usage is deterministic: input_tokens = words in the system prompt and all message text (also
 * what count_tokens answers), output_tokens = words emitted (thinking included). `max_tokens` and
 * `stop_sequences` cut the text as upstream would. Every request is recorded with its exact body
 * bytes (`raw`), so tests can check what a passthrough sent.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (the raw text when it was not JSON). */
  body: any;
  /** The body exactly as received (UTF-8). */
  raw: string;
}

/** Wire JSON, read loosely: the fake checks only what it needs. */
type Json = Record<string, any>;

interface Reply {
  content: Json[];
  stop_reason: string;
  stop_sequence: string | null;
  usage: { input_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number; output_tokens: number };
}

const ERROR_TYPES: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'],
  500: ['api_error', 'Internal server error'],
  529: ['overloaded_error', 'Overloaded'],
};

export async function startFakeAnthropic(): Promise<{ url: string; requests: RecordedRequest[]; close(): Promise<void> }> {
  const requests: RecordedRequest[] = [];
  let seq = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      let body: unknown = raw;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        // kept as text: the handler answers 400
      }
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, raw });
      // Ids are sequential per server, so tests can predict them: msg_fake0001, toolu_fake0001, req_fake0001.
      handle(req, res, body, String(++seq).padStart(4, '0'));
    })().catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'api_error', String(err), 'req_fake_crash');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function handle(req: IncomingMessage, res: ServerResponse, body: unknown, id: string): void {
  const requestId = `req_fake${id}`;
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const counting = path === '/v1/messages/count_tokens';
  if (req.method !== 'POST' || (path !== '/v1/messages' && !counting)) return sendError(res, 404, 'not_found_error', 'Not found', requestId);
  // The installed SDK (1.x) sends its API key as `Authorization: Bearer`; the gateway sends `x-api-key`.
  if (!req.headers['x-api-key'] && !/^Bearer \S/.test(req.headers.authorization ?? '')) {
    return sendError(res, 401, 'authentication_error', 'x-api-key header is required', requestId);
  }
  if (!req.headers['anthropic-version']) return sendError(res, 401, 'authentication_error', 'anthropic-version header is required', requestId);
  const problem = validate(body, !counting);
  if (problem) return sendError(res, 400, 'invalid_request_error', problem, requestId);
  const params = body as Json;
  if (counting) {
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId });
    return void res.end(JSON.stringify({ input_tokens: inputTokens(params) }));
  }

  const lastUser = [...params.messages].reverse().find((m: Json) => m.role === 'user');
  const said = lastUser ? messageText(lastUser) : '';
  const forced = /\[error:(\d{3})\]/.exec(said);
  if (forced) {
    const status = Number(forced[1]);
    const [type, message] = ERROR_TYPES[status] ?? ['api_error', `Error ${status}`];
    return sendError(res, status, type, message, requestId, status === 429 ? { 'retry-after': '1' } : {});
  }

  const reply = buildReply(params, said, id);
  const message = { id: `msg_fake${id}`, type: 'message', role: 'assistant', model: params.model, ...reply };
  if (params.stream === true) return sendStream(res, message, reply, requestId, said.includes('[error:stream]'));
  res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId });
  res.end(JSON.stringify({ ...message, usage: { ...reply.usage, service_tier: 'standard' } }));
}

/** The checks the real API makes that an adapter is most likely to get wrong. */
function validate(body: unknown, needsMaxTokens: boolean): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'Invalid JSON body';
  const b = body as Json;
  if (typeof b.model !== 'string') return 'model: Field required';
  if (needsMaxTokens && (!Number.isInteger(b.max_tokens) || b.max_tokens < 1)) return 'max_tokens: Field required';
  if (!Array.isArray(b.messages) || b.messages.length === 0) return 'messages: at least one message is required';
  for (let i = 0; i < b.messages.length; i++) {
    const role = b.messages[i]?.role;
    if (role !== 'user' && role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (i > 0 && b.messages[i - 1].role === role) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${role}" roles in a row`;
    }
  }
  if (b.system !== undefined && typeof b.system !== 'string' && !Array.isArray(b.system)) return 'system: Input should be a valid string';
  return undefined;
}

function inputTokens(params: Json): number {
  return Math.max(1, words(systemText(params.system)) + params.messages.reduce((n: number, m: Json) => n + words(messageText(m)), 0));
}

const THOUGHT = 'The user wants an echo of their message.';

function buildReply(params: Json, said: string, id: string): Reply {
  const reply = buildAnswer(params, said, id);
  if (!said.includes('[think]')) return reply;
  // Thinking comes first and counts as output, as upstream bills it.
  reply.content.unshift({ type: 'thinking', thinking: THOUGHT, signature: `sig_fake${id}` });
  reply.usage.output_tokens += words(THOUGHT);
  return reply;
}

function buildAnswer(params: Json, said: string, id: string): Reply {
  const cached = said.includes('[cache]');
  const usage = { input_tokens: inputTokens(params), cache_creation_input_tokens: cached ? 50 : 0, cache_read_input_tokens: cached ? 100 : 0, output_tokens: 0 };

  const proposed = /\[call:([A-Za-z0-9_-]+) (\{[^\]]*\})\]/.exec(said);
  if (proposed) {
    const input = JSON.parse(proposed[2]!) as Json;
    const text = 'Preparing the call.';
    usage.output_tokens = words(text) + words(JSON.stringify(input));
    return { content: [{ type: 'text', text }, { type: 'tool_use', id: `toolu_fake${id}`, name: proposed[1], input }], stop_reason: 'tool_use', stop_sequence: null, usage };
  }
  const tools: Json[] = Array.isArray(params.tools) ? params.tools : [];
  const choice: Json | undefined = params.tool_choice;
  const wantsTool = tools.length > 0 && choice?.type !== 'none' && (said.includes('[tool]') || choice?.type === 'any' || choice?.type === 'tool');
  if (wantsTool) {
    const tool = (choice?.type === 'tool' && tools.find((t) => t.name === choice.name)) || tools[0]!;
    const input = sampleObject(tool.input_schema);
    usage.output_tokens = Math.max(1, words(JSON.stringify(input)));
    return { content: [{ type: 'tool_use', id: `toolu_fake${id}`, name: tool.name, input }], stop_reason: 'tool_use', stop_sequence: null, usage };
  }

  let text = `Echo: ${said}`.trimEnd();
  let stop_reason = 'end_turn';
  let stop_sequence: string | null = null;
  for (const seqText of (params.stop_sequences ?? []) as string[]) {
    const at = text.indexOf(seqText);
    if (at >= 0) {
      text = text.slice(0, at).trimEnd();
      stop_reason = 'stop_sequence';
      stop_sequence = seqText;
      break;
    }
  }
  const pieces = text.match(/\s*\S+/g) ?? [];
  if (pieces.length > params.max_tokens) {
    text = pieces.slice(0, params.max_tokens).join('');
    stop_reason = 'max_tokens';
    stop_sequence = null;
  }
  usage.output_tokens = words(text);
  return { content: [{ type: 'text', text }], stop_reason, stop_sequence, usage };
}

/** Streams the reply as Anthropic does: message_start, blocks with deltas, message_delta, message_stop. */
function sendStream(res: ServerResponse, message: Json, reply: Reply, requestId: string, breakOff: boolean): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': requestId });
  const send = (event: string, data: Json) => res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  send('message_start', {
    message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...reply.usage, output_tokens: 1, service_tier: 'standard' } },
  });
  reply.content.forEach((block, index) => {
    if (block.type === 'thinking') {
      send('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      for (const piece of (block.thinking as string).match(/\s*\S+/g) ?? []) send('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } });
      send('content_block_delta', { index, delta: { type: 'signature_delta', signature: block.signature } });
    } else if (block.type === 'text') {
      send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      send('ping', {});
      const pieces: string[] = block.text.match(/\s*\S+/g) ?? [];
      for (const piece of pieces) {
        send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
        if (breakOff) {
          send('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
          return;
        }
      }
    } else {
      send('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      // Like the real API: an empty first fragment, then the JSON in a few arbitrary cuts.
      const json = JSON.stringify(block.input);
      const size = Math.max(1, Math.ceil(json.length / 3));
      send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } });
      for (let i = 0; i < json.length; i += size) send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: json.slice(i, i + size) } });
    }
    send('content_block_stop', { index });
  });
  if (breakOff) return void res.end();
  send('message_delta', { delta: { stop_reason: reply.stop_reason, stop_sequence: reply.stop_sequence }, usage: { output_tokens: reply.usage.output_tokens } });
  send('message_stop', {});
  res.end();
}

function sendError(res: ServerResponse, status: number, type: string, message: string, requestId: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId, ...headers });
  res.end(JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId }));
}

/** A value for every required property (all properties when none is marked required). */
function sampleObject(schema: Json | undefined): Json {
  const props: Json = schema?.properties ?? {};
  const names: string[] = Array.isArray(schema?.required) && schema.required.length > 0 ? schema.required : Object.keys(props);
  return Object.fromEntries(names.map((name) => [name, sampleValue(props[name])]));
}

function sampleValue(schema: Json | undefined): unknown {
  if (Array.isArray(schema?.enum) && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema?.type) ? schema.type[0] : schema?.type;
  if (type === 'number' || type === 'integer') return 1;
  if (type === 'boolean') return true;
  if (type === 'array') return [];
  if (type === 'object') return sampleObject(schema);
  return 'Paris';
}

function systemText(system: unknown): string {
  if (typeof system === 'string') return system;
  return Array.isArray(system) ? system.map((b: Json) => b.text ?? '').join(' ') : '';
}

/** The text a message carries: text blocks, else tool results (so a tool loop gets an echo back). */
function messageText(message: Json): string {
  if (typeof message.content === 'string') return message.content;
  const blocks: Json[] = Array.isArray(message.content) ? message.content : [];
  const text = blocks.filter((b) => b.type === 'text').map((b) => b.text).join(' ');
  if (text) return text;
  return blocks
    .filter((b) => b.type === 'tool_result')
    .map((b) => (typeof b.content === 'string' ? b.content : (b.content ?? []).map((c: Json) => c.text ?? '').join(' ')))
    .join(' ');
}

function words(s: string): number {
  return s.split(/\s+/).filter(Boolean).length;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
