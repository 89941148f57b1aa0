/**
 * A fake Gemini API (generativelanguage v1beta) for integration tests: `:generateContent`,
 * `:streamGenerateContent` (SSE with `?alt=sse`, a JSON array without) and `:batchEmbedContents`,
 * in the real wire format, with token counts derived from the request text (ceil(chars / 4)),
 * so they are deterministic.
 *
 * Behaviour, from the text of the last user turn:
 * - `[error:429]`, `[error:500]`, `[error:503]`: that HTTP error, in Gemini's error shape;
 * - `[error:midstream]`: a stream that sends one text event, then an in-stream error event;
 * - `[tool]`: a functionCall to the first declared function, args built from its schema;
 * - `[think]`: a thought part and thoughtsTokenCount before the answer;
 * - otherwise the text `Echo: <last user text>`, streamed one word per event.
 * A last turn holding functionResponse parts gets `Tool result: <response JSON>`, so a tool
 * loop ends. A missing `x-goog-api-key` gets Gemini's 403; a key starting with `invalid` its 400
 * API_KEY_INVALID; a model whose name contains `not-found` its 404.
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

export interface FakeGemini {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeGemini(): Promise<FakeGemini> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    handle(req, res, requests).catch((err) => sendError(res, 500, 'INTERNAL', String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

const ROUTE = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents)$/;

const ERRORS: Record<number, { status: string; message: string }> = {
  429: { status: 'RESOURCE_EXHAUSTED', message: 'Resource has been exhausted (e.g. check quota).' },
  500: { status: 'INTERNAL', message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting' },
  503: { status: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' },
};

async function handle(req: IncomingMessage, res: ServerResponse, requests: RecordedRequest[]): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  let body: any = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    /* recorded as the raw string */
  }
  requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });

  const url = new URL(req.url ?? '/', 'http://fake');
  const route = ROUTE.exec(url.pathname);
  if (req.method !== 'POST' || !route) return sendError(res, 404, 'NOT_FOUND', 'Method not found.');
  const key = req.headers['x-goog-api-key'];
  if (!key) {
    return sendError(res, 403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API key or other form of API consumer identity to call this API.");
  }
  if (String(key).startsWith('invalid')) {
    return sendError(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
    ]);
  }
  const [, model, method] = route as unknown as [string, string, string];
  if (model.includes('not-found')) {
    return sendError(res, 404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return sendError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.');
  }
  if (method === 'batchEmbedContents') return embed(res, model, body);
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    return sendError(res, 400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified\n');
  }

  const turn = lastTurn(body.contents);
  const forced = /\[error:(\d{3})\]/.exec(turn.text)?.[1];
  if (forced && ERRORS[Number(forced)]) return sendError(res, Number(forced), ERRORS[Number(forced)]!.status, ERRORS[Number(forced)]!.message);

  const answer = answerFor(body, turn, model, raw);
  if (method === 'generateContent') return sendJson(res, 200, answer.full);
  if (url.searchParams.get('alt') !== 'sse') return sendJson(res, 200, answer.events); // REST streaming: one JSON array
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const event of answer.events) res.write(`data: ${JSON.stringify(event)}\r\n\r\n`); // Gemini's SSE uses CRLF
  if (turn.text.includes('[error:midstream]')) {
    res.write(`data: ${JSON.stringify({ error: { code: 500, message: ERRORS[500]!.message, status: 'INTERNAL' } })}\r\n\r\n`);
  }
  res.end();
}

interface Turn {
  text: string;
  functionResponse?: { name: string; response: unknown };
}

/** The last user turn: its text, or its first function response when it carries tool results. */
function lastTurn(contents: any[]): Turn {
  const user = [...contents].reverse().find((c) => c?.role === 'user' || c?.role === undefined);
  const parts: any[] = Array.isArray(user?.parts) ? user.parts : [];
  const fr = parts.find((p) => p?.functionResponse)?.functionResponse;
  const text = parts.filter((p) => typeof p?.text === 'string').map((p) => p.text).join(' ');
  return fr ? { text, functionResponse: fr } : { text };
}

interface Answer {
  full: object;
  events: object[];
}

function answerFor(body: any, turn: Turn, model: string, raw: string): Answer {
  const gen = body.generationConfig ?? {};
  const candidateCount: number = gen.candidateCount ?? 1;
  const declared = body.tools?.[0]?.functionDeclarations?.[0];
  const promptTokens = tokens(textOf(body.systemInstruction) + textOf(body.contents));
  const meta = { modelVersion: model, responseId: createHash('sha256').update(raw).digest('base64url').slice(0, 22) };
  const thoughts = turn.text.includes('[think]') ? [{ text: 'Thinking about the request.', thought: true }] : [];
  const thoughtsTokenCount = thoughts.length > 0 ? tokens(thoughts[0]!.text) * candidateCount : undefined;
  const usage = (candidatesTokenCount: number) => ({
    promptTokenCount: promptTokens,
    candidatesTokenCount,
    totalTokenCount: promptTokens + candidatesTokenCount + (thoughtsTokenCount ?? 0),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
    ...(thoughtsTokenCount ? { thoughtsTokenCount } : {}),
  });
  const candidates = (parts: object[], finishReason?: string) =>
    Array.from({ length: candidateCount }, (_, index) => ({ content: { parts, role: 'model' }, ...(finishReason ? { finishReason } : {}), index }));

  if (!turn.functionResponse && turn.text.includes('[tool]') && declared?.name) {
    const call = { functionCall: { name: declared.name, args: argsFor(declared.parameters) } };
    const out = tokens(JSON.stringify(call.functionCall)) * candidateCount;
    const full = { candidates: candidates([...thoughts, call], 'STOP'), usageMetadata: usage(out), ...meta };
    return { full, events: [full] };
  }

  let text = turn.functionResponse ? `Tool result: ${JSON.stringify(turn.functionResponse.response)}` : `Echo: ${turn.text}`;
  let finishReason = 'STOP';
  if (typeof gen.maxOutputTokens === 'number' && tokens(text) > gen.maxOutputTokens) {
    text = text.slice(0, gen.maxOutputTokens * 4);
    finishReason = 'MAX_TOKENS';
  }
  const out = tokens(text) * candidateCount;
  const full = { candidates: candidates([...thoughts, { text }], finishReason), usageMetadata: usage(out), ...meta };
  // Streamed: one word per event; intermediate events carry the prompt count only, as Gemini's do.
  const words = text.split(/(?<=\s)/);
  const events = words.map((word, i) => {
    const last = i === words.length - 1;
    const parts = i === 0 ? [...thoughts, { text: word }] : [{ text: word }];
    return last
      ? { candidates: candidates(parts, finishReason), usageMetadata: usage(out), ...meta }
      : { candidates: candidates(parts), usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }] }, ...meta };
  });
  return { full, events };
}

/** Deterministic arguments from a function's parameter schema (required properties, or all). */
function argsFor(schema: any): Record<string, unknown> {
  const props: Record<string, any> = schema?.properties ?? {};
  const names: string[] = Array.isArray(schema?.required) && schema.required.length > 0 ? schema.required : Object.keys(props);
  return Object.fromEntries(names.filter((n) => props[n]).map((n) => [n, valueFor(props[n])]));
}

function valueFor(schema: any): unknown {
  if (Array.isArray(schema?.enum) && schema.enum.length > 0) return schema.enum[0];
  switch (String(schema?.type ?? 'string').toLowerCase()) {
    case 'integer':
      return 1;
    case 'number':
      return 1.5;
    case 'boolean':
      return true;
    case 'array':
      return [valueFor(schema.items)];
    case 'object':
      return argsFor(schema);
    default:
      return 'Paris';
  }
}

function embed(res: ServerResponse, model: string, body: any): void {
  if (!Array.isArray(body.requests) || body.requests.length === 0) {
    return sendError(res, 400, 'INVALID_ARGUMENT', '* BatchEmbedContentsRequest.requests: requests is not specified\n');
  }
  const wrong = body.requests.findIndex((r: any) => r?.model !== `models/${model}`);
  if (wrong >= 0) return sendError(res, 400, 'INVALID_ARGUMENT', `Model "${body.requests[wrong]?.model}" in requests[${wrong}] does not match the model in the URL.`);
  // Deterministic unit-range values from the text's hash; 8 dimensions unless asked otherwise.
  const embeddings = body.requests.map((r: any) => {
    const digest = createHash('sha256').update(textOf(r.content)).digest();
    const dims: number = r.outputDimensionality ?? 8;
    return { values: Array.from({ length: dims }, (_, d) => Math.round(((digest[d % 32]! / 255) * 2 - 1) * 1e6) / 1e6) };
  });
  sendJson(res, 200, { embeddings });
}

/** All text a request carries, function calls and responses included, for token counts. */
function textOf(node: unknown): string {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node.map(textOf).join('');
  if (typeof node !== 'object' || node === null) return '';
  const o = node as Record<string, unknown>;
  if (typeof o.text === 'string') return o.text;
  if (o.functionCall || o.functionResponse) return JSON.stringify(o.functionCall ?? o.functionResponse);
  return textOf(o.parts ?? o.contents ?? []);
}

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

function sendError(res: ServerResponse, code: number, status: string, message: string, details?: object[]): void {
  if (res.headersSent) return void res.end();
  sendJson(res, code, { error: { code, message, status, ...(details ? { details } : {}) } });
}
