/** OpenAI chat request → `generateContent` request, and `generateContent` answer → ChatCompletion. */
import { randomUUID } from 'node:crypto';
import type { ChatCompletionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import { GatewayError } from '../../errors.js';
import type { ChatCompletion, ChatRequest, UpstreamRequest, UpstreamTarget } from '../adapter.js';
import { geminiHeaders, geminiMethodUrl } from './auth.js';
import { toGeminiConversation } from './messages.js';
import { toGeminiSchema } from './schema.js';
import { type GeminiPart, type GeminiResponse, isObject, mapFinishReason, mapUsage, toolCallFromPart, visibleText } from './wire.js';

export function geminiChatRequest(body: ChatRequest, target: UpstreamTarget): UpstreamRequest {
  const { contents, systemInstruction } = toGeminiConversation(body.messages);
  const out: Record<string, unknown> = { contents };
  if (systemInstruction) out.systemInstruction = systemInstruction;

  let declarations = functionDeclarations(body.tools);
  if (declarations.length > 0) {
    const choice = toolConfig(body.tool_choice);
    if (choice.only) declarations = declarations.filter((d) => choice.only!.includes(d.name));
    out.tools = [{ functionDeclarations: declarations }];
    if (choice.config) out.toolConfig = { functionCallingConfig: choice.config };
  }

  const generationConfig = generationConfigOf(body);
  if (Object.keys(generationConfig).length > 0) out.generationConfig = generationConfig;

  return {
    url: body.stream ? `${geminiMethodUrl(target, 'streamGenerateContent')}?alt=sse` : geminiMethodUrl(target, 'generateContent'),
    method: 'POST',
    headers: geminiHeaders(target),
    body: JSON.stringify(out),
  };
}

interface FunctionDeclaration {
  name: string;
  description?: string;
  parameters?: unknown;
}

function functionDeclarations(tools: ChatCompletionTool[] | undefined): FunctionDeclaration[] {
  return (tools ?? []).map((tool, i) => {
    if (tool.type !== 'function') throw new GatewayError('invalid_request', `tools[${i}]: only function tools are supported by Gemini`, { param: `tools[${i}]` });
    const fn = tool.function;
    const decl: FunctionDeclaration = { name: fn.name };
    if (fn.description) decl.description = fn.description;
    const params = toGeminiSchema(fn.parameters);
    if (isObject(params) && !isEmptyObjectSchema(params)) decl.parameters = params;
    return decl;
  });
}

/** Gemini rejects an OBJECT schema without properties; a function without arguments omits it. */
function isEmptyObjectSchema(s: Record<string, unknown>): boolean {
  const objectish = s.type === undefined || String(s.type).toLowerCase() === 'object';
  const noProps = !isObject(s.properties) || Object.keys(s.properties).length === 0;
  return objectish && noProps && s.anyOf === undefined;
}

interface ToolChoice {
  config?: { mode: 'AUTO' | 'NONE' | 'ANY'; allowedFunctionNames?: string[] };
  /** For `allowed_tools` in auto mode: Gemini's allow-list works with ANY only, so we filter. */
  only?: string[];
}

function toolConfig(choice: ChatCompletionToolChoiceOption | undefined): ToolChoice {
  if (choice === undefined) return {};
  if (choice === 'auto') return { config: { mode: 'AUTO' } };
  if (choice === 'none') return { config: { mode: 'NONE' } };
  if (choice === 'required') return { config: { mode: 'ANY' } };
  if (choice.type === 'function') return { config: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
  if (choice.type === 'allowed_tools') {
    const names = choice.allowed_tools.tools.flatMap((t) => {
      const fn = (t as { type?: string; function?: { name?: unknown } }).function;
      return t.type === 'function' && typeof fn?.name === 'string' ? [fn.name] : [];
    });
    if (choice.allowed_tools.mode === 'required') return { config: { mode: 'ANY', allowedFunctionNames: names } };
    return { config: { mode: 'AUTO' }, only: names };
  }
  throw new GatewayError('invalid_request', 'tool_choice: custom tools are not supported by Gemini', { param: 'tool_choice' });
}

function generationConfigOf(body: ChatRequest): Record<string, unknown> {
  const g: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined && value !== null) g[key] = value;
  };
  set('temperature', body.temperature);
  set('topP', body.top_p);
  set('maxOutputTokens', body.max_completion_tokens ?? body.max_tokens);
  if (body.stop != null) set('stopSequences', typeof body.stop === 'string' ? [body.stop] : body.stop);
  set('candidateCount', body.n);
  set('seed', body.seed);
  set('presencePenalty', body.presence_penalty);
  set('frequencyPenalty', body.frequency_penalty);
  const format = body.response_format;
  if (format?.type === 'json_object') g.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    g.responseMimeType = 'application/json';
    if (format.json_schema.schema) g.responseSchema = toGeminiSchema(format.json_schema.schema);
  }
  return g;
}

export function geminiChatResponse(json: unknown, target: UpstreamTarget): ChatCompletion {
  const res = json as GeminiResponse;
  if (!isObject(json)) throw unusable(target, 'is not a JSON object');
  if (isObject(res.error)) {
    throw new GatewayError('upstream_error', `Provider "${target.providerName}" failed: ${res.error.message ?? 'unknown error'}`);
  }
  const candidates = res.candidates ?? [];
  if (!Array.isArray(candidates)) throw unusable(target, 'has a `candidates` field that is not a list');

  const choices: ChatCompletion.Choice[] = candidates.map((c, i) => {
    if (!isObject(c)) throw unusable(target, 'has a candidate that is not an object');
    const index = typeof c.index === 'number' ? c.index : i;
    const parts: GeminiPart[] = Array.isArray(c.content?.parts) ? c.content.parts : [];
    const text = visibleText(parts);
    const toolCalls = parts.filter((p) => isObject(p.functionCall)).map((p, n) => toolCallFromPart(p, index, n));
    const message: ChatCompletion.Choice['message'] = { role: 'assistant', content: text || (toolCalls.length > 0 ? null : ''), refusal: null };
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    const finish = mapFinishReason(c.finishReason ?? 'STOP', toolCalls.length > 0);
    return { index, message, finish_reason: finish, logprobs: null };
  });

  if (choices.length === 0) {
    // A prompt blocked by Gemini's filters comes back as 200 with no candidates.
    if (!res.promptFeedback?.blockReason) throw unusable(target, 'has no candidates');
    choices.push({ index: 0, message: { role: 'assistant', content: '', refusal: null }, finish_reason: 'content_filter', logprobs: null });
  }

  const completion: ChatCompletion = {
    id: `chatcmpl-${res.responseId ?? randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: target.publicModel || res.modelVersion || target.upstreamModel,
    choices,
  };
  if (isObject(res.usageMetadata)) completion.usage = mapUsage(res.usageMetadata);
  return completion;
}

function unusable(target: UpstreamTarget, why: string): GatewayError {
  return new GatewayError('upstream_invalid_response', `Provider "${target.providerName}" returned a body that ${why}`);
}
