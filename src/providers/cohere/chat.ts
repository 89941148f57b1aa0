/**
 * OpenAI chat completions ⇄ Cohere v2 `/v2/chat`. Cohere v2 is close to OpenAI (roles, JSON-schema
 * tools, `tool_calls` with string arguments), so most of the work is renaming parameters and
 * flattening content parts into the shapes Cohere accepts.
 */
import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { GatewayError } from '../../errors.js';
import type { ChatCompletion, ChatRequest, UpstreamRequest, UpstreamTarget } from '../adapter.js';
import { cohereHeaders, cohereUrl } from './auth.js';

/** Cohere's usage block: `tokens` is what the model saw, `billed_units` what was charged. */
export interface CohereUsage {
  billed_units?: { input_tokens?: number; output_tokens?: number };
  tokens?: { input_tokens?: number; output_tokens?: number };
}

export interface CohereToolCall {
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

export interface CohereChatResponse {
  id?: string;
  finish_reason?: string;
  message?: {
    role?: string;
    content?: Array<{ type?: string; text?: string }>;
    tool_plan?: string;
    tool_calls?: CohereToolCall[];
  };
  usage?: CohereUsage;
}

type FinishReason = ChatCompletion.Choice['finish_reason'];

const FINISH_REASONS: Record<string, FinishReason> = {
  COMPLETE: 'stop',
  STOP_SEQUENCE: 'stop',
  MAX_TOKENS: 'length',
  TOOL_CALL: 'tool_calls',
};

/** Maps Cohere's finish reason; unknown future values read as a normal stop. */
export function mapFinishReason(reason: string | undefined): FinishReason {
  return (reason && FINISH_REASONS[reason]) || 'stop';
}

/** Prefers `tokens` (what the model processed) over `billed_units`, which can omit system tokens. */
export function mapUsage(usage: CohereUsage | undefined): CompletionUsage {
  const counts = usage?.tokens ?? usage?.billed_units ?? {};
  const prompt = counts.input_tokens ?? 0;
  const completion = counts.output_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Builds the `/v2/chat` request.
 *
 * @example cohereChatRequest({ model: 'command-a', messages: [{ role: 'user', content: 'Hi' }] }, target)
 */
export function cohereChatRequest(body: ChatRequest, target: UpstreamTarget): UpstreamRequest {
  if (body.n != null && body.n > 1) {
    throw new GatewayError('invalid_request', 'Cohere models return one choice; `n` must be 1.', { param: 'n' });
  }
  const out: Record<string, unknown> = {
    model: target.upstreamModel,
    messages: body.messages.map(toCohereMessage),
  };
  Object.assign(out, toCohereTools(body.tools, body.tool_choice));
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens != null) out.max_tokens = maxTokens;
  if (body.temperature != null) out.temperature = body.temperature;
  if (body.top_p != null) out.p = body.top_p;
  if (body.stop != null) out.stop_sequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  if (body.seed != null) out.seed = body.seed;
  if (body.frequency_penalty != null) out.frequency_penalty = body.frequency_penalty;
  if (body.presence_penalty != null) out.presence_penalty = body.presence_penalty;
  const format = body.response_format;
  if (format?.type === 'json_object') out.response_format = { type: 'json_object' };
  if (format?.type === 'json_schema') {
    const schema = format.json_schema.schema;
    out.response_format = schema ? { type: 'json_object', json_schema: schema } : { type: 'json_object' };
  }
  out.stream = body.stream === true;
  return { url: cohereUrl(target, 'chat'), method: 'POST', headers: cohereHeaders(target), body: JSON.stringify(out) };
}

function toCohereMessage(msg: ChatCompletionMessageParam, i: number): Record<string, unknown> {
  switch (msg.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: joinText(msg.content) };
    case 'user':
      return { role: 'user', content: typeof msg.content === 'string' ? msg.content : msg.content.map((p) => toCohereUserPart(p, i)) };
    case 'assistant': {
      const text = msg.content == null ? '' : joinText(msg.content);
      const calls = (msg.tool_calls ?? []).map((c) => toCohereToolCall(c, i));
      if (calls.length === 0) return { role: 'assistant', content: text };
      // Cohere calls the text that accompanies tool calls a "tool plan"; it rejects it as content.
      return text ? { role: 'assistant', tool_plan: text, tool_calls: calls } : { role: 'assistant', tool_calls: calls };
    }
    case 'tool':
      return { role: 'tool', tool_call_id: msg.tool_call_id, content: joinText(msg.content) };
    default:
      throw new GatewayError('invalid_request', `messages[${i}]: the "${msg.role}" role is not supported by Cohere; use tool messages.`, {
        param: `messages[${i}].role`,
      });
  }
}

function toCohereUserPart(part: ChatCompletionContentPart, i: number): Record<string, unknown> {
  if (part.type === 'text') return { type: 'text', text: part.text };
  if (part.type === 'image_url') {
    const { url, detail } = part.image_url;
    return { type: 'image_url', image_url: detail ? { url, detail } : { url } };
  }
  throw new GatewayError('invalid_request', `messages[${i}]: Cohere does not accept "${part.type}" content parts.`, {
    param: `messages[${i}].content`,
  });
}

function toCohereToolCall(call: ChatCompletionMessageToolCall, i: number): CohereToolCall {
  if (call.type !== 'function') {
    throw new GatewayError('invalid_request', `messages[${i}]: Cohere supports function tool calls only.`, { param: `messages[${i}].tool_calls` });
  }
  return { id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } };
}

/** String content as-is; text (and refusal) parts joined, as Cohere's non-user roles take plain text best. */
function joinText(content: string | ReadonlyArray<{ type: string; text?: string; refusal?: string }>): string {
  if (typeof content === 'string') return content;
  return content.map((p) => p.text ?? p.refusal ?? '').join('');
}

type ToolChoice = ChatRequest['tool_choice'];

/**
 * Cohere has `tool_choice` REQUIRED / NONE only. A named or allowed-tools choice is emulated by
 * sending only the chosen tools with REQUIRED (or no choice for mode `auto`).
 */
function toCohereTools(tools: ChatCompletionTool[] | undefined, choice: ToolChoice): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let fns = (tools ?? []).map((t) => {
    if (t.type !== 'function') {
      throw new GatewayError('invalid_request', 'Cohere supports function tools only.', { param: 'tools' });
    }
    return t.function;
  });
  let required = false;
  if (choice === 'none') out.tool_choice = 'NONE';
  else if (choice === 'required') required = true;
  else if (choice && typeof choice === 'object') {
    let names: string[];
    if (choice.type === 'function') {
      names = [choice.function.name];
      required = true;
    } else if (choice.type === 'allowed_tools') {
      names = choice.allowed_tools.tools.map((t) => (t as { function?: { name?: string } }).function?.name ?? '');
      required = choice.allowed_tools.mode === 'required';
    } else {
      throw new GatewayError('invalid_request', 'Cohere supports function tools only.', { param: 'tool_choice' });
    }
    fns = fns.filter((f) => names.includes(f.name));
    if (fns.length === 0) {
      throw new GatewayError('invalid_request', `tool_choice names a tool that is not in \`tools\`: ${names.join(', ')}`, { param: 'tool_choice' });
    }
  }
  if (required) out.tool_choice = 'REQUIRED';
  if (fns.length > 0) {
    out.tools = fns.map((f) => ({
      type: 'function',
      function: { name: f.name, ...(f.description != null && { description: f.description }), parameters: f.parameters ?? { type: 'object', properties: {} } },
    }));
    // OpenAI's per-tool `strict` becomes Cohere's request-wide switch.
    if (fns.some((f) => f.strict === true)) out.strict_tools = true;
  }
  return out;
}

/**
 * Translates a `/v2/chat` answer. `now` stamps `created` (Cohere sends no timestamp); tests pass it.
 */
export function cohereChatResponse(json: unknown, target: UpstreamTarget, now: number = unixNow()): ChatCompletion {
  const res = json as CohereChatResponse | null;
  if (!res || typeof res !== 'object' || !res.message || typeof res.message !== 'object') {
    throw new GatewayError('upstream_invalid_response', `Provider "${target.providerName}" returned a body that is not a Cohere chat response`);
  }
  if (res.finish_reason === 'ERROR') {
    throw new GatewayError('upstream_error', `Provider "${target.providerName}" reported a failed generation (finish_reason ERROR)`);
  }
  const text = (res.message.content ?? [])
    .filter((c) => c.type === 'text')
    .map((c) => c.text ?? '')
    .join('');
  const toolCalls = (res.message.tool_calls ?? []).map(
    (c, i): ChatCompletionMessageToolCall => ({
      id: c.id ?? `call_${i}`,
      type: 'function',
      function: { name: c.function?.name ?? '', arguments: c.function?.arguments ?? '{}' },
    }),
  );
  // The tool plan is the model's own words before its tool calls: OpenAI puts those in `content`.
  const content = text || res.message.tool_plan || null;
  return {
    id: res.id ?? '',
    object: 'chat.completion',
    created: now,
    model: target.upstreamModel,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, ...(toolCalls.length > 0 && { tool_calls: toolCalls }) },
        finish_reason: mapFinishReason(res.finish_reason),
        logprobs: null,
      },
    ],
    usage: mapUsage(res.usage),
  };
}
