/**
 * A fake OpenAI API on loopback, speaking the real wire format (chat completions JSON and SSE
 * with `stream_options.include_usage`, tool calls, embeddings, OpenAI error bodies). Tests
 * steer it with markers in the last user message:
 *   [tool]          answer with a call to the first declared tool
 *   [call:NAME {…}] answer with the text `Preparing the call.`, then a call to tool NAME with
 *                   these JSON arguments (no `]` inside); streamed: the text first, then the call
 *                   with its arguments in three fragments (also on /v1/responses)
 *   [error:NNN]     answer HTTP NNN with an OpenAI error body
 *   [nonjson]       answer 200 with an HTML page
 *   [slow:MS]       wait MS before the response headers
 *   [die:N]         stream N content chunks, then destroy the socket
 *   [gate]          stream the first chunk, then wait for `release()` before the rest
 *   [words:N]       reply with N words
 *   [reset]         destroy the connection without answering
 *   [context]       answer 400 context_length_exceeded
 * `setFault(marker)` applies a marker to every request, to make one upstream fail while
 * another (same test) stays healthy. * `POST /v1/responses` is answered by openai-responses.ts (same markers: [tool], [error:NNN], …).
 * It records every request (method, path, headers, parsed body, exact bytes) and every connection that
 * closed before its response ended (`aborted`).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerResponses, responsesInputText, type ResponsesFakeState } from './openai-responses.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  rawBody: string;
  /** The exact bytes received. */
  raw: Buffer;
}

export interface FakeOpenAI {
  url: string;
  /** Base URL to configure for an openai / openai-compatible provider. */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Paths of requests whose client went away before the response ended. */
  aborted: string[];
  /** Lets a `[gate]` stream continue. */
  release(): void;
  /** Ids of the `/v1/responses` answers, in order (`previous_response_id` must name one). */
  responseIds: string[];
  /** Applies a marker (e.g. `[error:500]`) to every request until set to null. */
  setFault(marker: string | null): void;
  close(): Promise<void>;
}

export const FAKE_UPSTREAM_KEY = 'sk-upstream-test-key-123';

export async function startFakeOpenAI(options: { requireKey?: string | null } = {}): Promise<FakeOpenAI> {
  const requireKey = options.requireKey === undefined ? FAKE_UPSTREAM_KEY : options.requireKey;
  const requests: RecordedRequest[] = [];
  const aborted: string[] = [];
  let gates: (() => void)[] = [];
  let fault: string | null = null;
  const responsesState: ResponsesFakeState = { issued: [] };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const rawBody = raw.toString('utf8');
      let body: any;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      requests.push({ method: req.method!, path: req.url!, headers: req.headers, body, rawBody, raw });
      res.on('close', () => {
        if (!res.writableFinished) aborted.push(req.url!);
      });
      void handle(req, res, body, requireKey, () => new Promise<void>((resolve) => gates.push(resolve)), fault, responsesState);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseUrl: `${url}/v1`,
    requests,
    aborted,
    responseIds: responsesState.issued,
    setFault(marker) {
      fault = marker;
    },
    release() {
      const open = gates;
      gates = [];
      for (const g of open) g();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function lastUserText(body: any): string {
  const messages: any[] = body?.messages ?? [];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return (last.content ?? []).filter((p: any) => p.type === 'text').map((p: any) => p.text).join(' ');
}

/** Deterministic "tokenizer": one token per 4 characters of the JSON of the messages. */
export function fakePromptTokens(body: any): number {
  return Math.ceil(JSON.stringify(body?.messages ?? body?.input ?? '').length / 4);
}

async function handle(req: IncomingMessage, res: ServerResponse, body: any, requireKey: string | null, gate: () => Promise<void>, fault: string | null, responsesState: ResponsesFakeState): Promise<void> {
  if (requireKey && req.headers.authorization !== `Bearer ${requireKey}`) {
    return json(res, 401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
  }
  if (body === undefined) {
    return json(res, 400, { error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } });
  }
  const text = (fault ?? '') + (lastUserText(body) || (req.url === '/v1/responses' ? responsesInputText(body.input) : String(body.input ?? '')));
  if (text.includes('[reset]')) return void res.socket?.destroy();
  if (text.includes('[context]')) {
    return json(res, 400, { error: { message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } });
  }
  const slow = /\[slow:(\d+)\]/.exec(text);
  if (slow) await sleep(Number(slow[1]));
  const error = /\[error:(\d{3})\]/.exec(text);
  if (error) {
    const status = Number(error[1]);
    const headers: Record<string, string> = status === 429 ? { 'retry-after': '1' } : {};
    return json(res, status, { error: { message: `Fake upstream error ${status}`, type: status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: null } }, headers);
  }
  if (text.includes('[nonjson]')) {
    res.writeHead(200, { 'content-type': 'text/html' });
    return void res.end('<html><body>Bad gateway from some proxy</body></html>');
  }
  if (req.url === '/v1/embeddings') return embeddings(res, body);
  if (req.url === '/v1/responses') return answerResponses(res, body, text.slice((fault ?? '').length), responsesState, json);
  if (req.url !== '/v1/chat/completions') return json(res, 404, { error: { message: `Unknown path ${req.url}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });

  const id = `chatcmpl-fake${Math.random().toString(36).slice(2, 10)}`;
  const created = 1_700_000_000;
  const proposed = proposedCall(text);
  const tool = proposed?.name ?? (text.includes('[tool]') && body.tools?.[0]?.function?.name);
  const wordsWanted = /\[words:(\d+)\]/.exec(text);
  const reply = proposed ? PROPOSAL_TEXT : wordsWanted ? Array.from({ length: Number(wordsWanted[1]) }, (_, i) => `w${i}`).join(' ') : `Echo: ${text.slice((fault ?? '').length)}`;
  const pieces = reply.split(/(?<= )/);
  const toolCall = tool ? { id: 'call_fake_1', type: 'function' as const, function: { name: tool, arguments: proposed?.arguments ?? '{"location":"Paris"}' } } : null;
  const usage = {
    prompt_tokens: fakePromptTokens(body),
    completion_tokens: toolCall ? 9 : pieces.length,
    total_tokens: 0,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const headers = { 'x-request-id': `req_upstream_${id}` };

  if (!body.stream) {
    const message = toolCall
      ? { role: 'assistant', content: proposed ? reply : null, refusal: null, tool_calls: [toolCall] }
      : { role: 'assistant', content: reply, refusal: null };
    return json(
      res,
      200,
      { id, object: 'chat.completion', created, model: `${body.model}-2026-01-01`, choices: [{ index: 0, message, logprobs: null, finish_reason: toolCall ? 'tool_calls' : 'stop' }], usage, system_fingerprint: 'fp_fake' },
      headers,
    );
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
  const send = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: `${body.model}-2026-01-01`, system_fingerprint: 'fp_fake', choices, ...extra })}\n\n`);
  const die = /\[die:(\d+)\]/.exec(text);
  send([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
  if (toolCall) {
    if (proposed) for (const piece of pieces) send([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]);
    send([{ index: 0, delta: { tool_calls: [{ index: 0, id: toolCall.id, type: 'function', function: { name: toolCall.function.name, arguments: '' } }] }, logprobs: null, finish_reason: null }]);
    for (const frag of thirds(toolCall.function.arguments)) {
      send([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: frag } }] }, logprobs: null, finish_reason: null }]);
    }
  } else {
    for (let i = 0; i < pieces.length; i++) {
      if (die && i === Number(die[1])) {
        await sleep(50); // let what was written reach the client before the connection dies
        res.socket?.destroy();
        return;
      }
      send([{ index: 0, delta: { content: pieces[i] }, logprobs: null, finish_reason: null }]);
      if (i === 0 && text.includes('[gate]')) await gate();
      if (res.destroyed) return;
    }
  }
  send([{ index: 0, delta: {}, logprobs: null, finish_reason: toolCall ? 'tool_calls' : 'stop' }]);
  if (body.stream_options?.include_usage) send([], { usage });
  res.end('data: [DONE]\n\n');
}

/** The text a `[call:…]` answer says before its tool call. */
export const PROPOSAL_TEXT = 'Preparing the call.';

/** `[call:NAME {json}]` in the user's text: the tool call to propose. */
export function proposedCall(text: string): { name: string; arguments: string } | undefined {
  const m = /\[call:([A-Za-z0-9_-]+) (\{[^\]]*\})\]/.exec(text);
  return m ? { name: m[1]!, arguments: m[2]! } : undefined;
}

/** A JSON text in three fragments, as providers stream arguments. */
export function thirds(json: string): string[] {
  const size = Math.max(1, Math.ceil(json.length / 3));
  const out: string[] = [];
  for (let i = 0; i < json.length; i += size) out.push(json.slice(i, i + size));
  return out;
}

function embeddings(res: ServerResponse, body: any): void {
  const inputs: unknown[] = Array.isArray(body.input) && typeof body.input[0] !== 'number' ? body.input : [body.input];
  const data = inputs.map((input, index) => {
    const vector = [String(input).length / 100, 0.5, -0.25];
    // Like OpenAI: base64 of little-endian float32 when asked (the openai SDK asks by default).
    const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  const tokens = fakePromptTokens(body);
  json(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
