import type { ChatCompletionMessageFunctionToolCall } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { GatewayError } from '../../errors.js';
import type { ChatCompletion, ChatRequest, UpstreamRequest, UpstreamTarget } from '../adapter.js';
import { anthropicHeaders } from './auth.js';
import { convertMessages, invalid } from './messages.js';
import { DEFAULT_MAX_TOKENS, type Message, type MessagesRequest, type StopReason, type ToolChoice, type Usage } from './wire.js';

type FinishReason = ChatCompletion.Choice['finish_reason'];

/**
 * OpenAI chat request → `POST /v1/messages`. Ignored because Anthropic has no equivalent and
 * they do not change what a client gets back: frequency/presence penalties, seed, logit_bias,
 * store, service_tier, stream_options (usage is always reported), prompt_cache_key, reasoning_effort.
 */
export function anthropicChatRequest(body: ChatRequest, target: UpstreamTarget): UpstreamRequest {
  // These would change the shape of the answer; refusing beats a silently different response.
  if (body.n != null && body.n > 1) throw invalid('This model returns one choice per request; `n` must be 1.', 'n');
  if (body.logprobs) throw invalid('This model does not return log probabilities.', 'logprobs');

  const { system, messages } = convertMessages(body.messages);
  const out: MessagesRequest = {
    model: target.upstreamModel,
    max_tokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  const instructions = [system, formatInstruction(body.response_format)].filter(Boolean).join('\n\n');
  if (instructions) out.system = instructions;
  // OpenAI's temperature runs 0–2, Anthropic's 0–1: clamp rather than have the upstream reject it.
  if (body.temperature != null) out.temperature = Math.min(body.temperature, 1);
  if (body.top_p != null) out.top_p = body.top_p;
  if (body.stop != null) out.stop_sequences = typeof body.stop === 'string' ? [body.stop] : [...body.stop];
  if (body.stream) out.stream = true;
  const user = body.user ?? body.safety_identifier;
  if (user) out.metadata = { user_id: user };
  addTools(body, out);

  return {
    url: `${target.baseUrl}/v1/messages`,
    method: 'POST',
    headers: anthropicHeaders(target),
    body: JSON.stringify(out),
  };
}

/**
 * Anthropic has no JSON mode in every model, so `json_object` and `json_schema` become a system
 * instruction (with the schema inlined). This is best effort: the output is not validated, and
 * `strict` gives no guarantee here. `output_config.format` was not used because older models
 * reject it and its schema subset is narrower than OpenAI's.
 */
function formatInstruction(format: ChatRequest['response_format']): string | undefined {
  if (!format || format.type === 'text') return undefined;
  const base = 'Respond with a single valid JSON value and nothing else: no prose, no markdown code fences.';
  if (format.type === 'json_object') return base.replace('JSON value', 'JSON object');
  if (format.type === 'json_schema') {
    const schema = JSON.stringify(format.json_schema.schema ?? {});
    return `${base} The JSON must conform to this JSON Schema (named "${format.json_schema.name}"):\n${schema}`;
  }
  throw invalid(`response_format type "${(format as { type: string }).type}" is not supported for this model.`, 'response_format.type');
}

function addTools(body: ChatRequest, out: MessagesRequest): void {
  const tools = body.tools ?? [];
  if (tools.length === 0) return; // a tool_choice without tools means nothing upstream
  let choice: ToolChoice | undefined;
  let allowed: Set<string> | undefined;
  const tc = body.tool_choice;
  if (tc === 'auto') choice = { type: 'auto' };
  else if (tc === 'required') choice = { type: 'any' };
  // `none` keeps the tools: Anthropic rejects tool_use/tool_result history when no tools are declared.
  else if (tc === 'none') choice = { type: 'none' };
  else if (tc?.type === 'function') choice = { type: 'tool', name: tc.function.name };
  else if (tc?.type === 'allowed_tools') {
    // No allow-list upstream: declare only the allowed tools instead.
    allowed = new Set(tc.allowed_tools.tools.map(allowedToolName));
    choice = { type: tc.allowed_tools.mode === 'required' ? 'any' : 'auto' };
  } else if (tc) throw invalid('Only function tools are supported for this model.', 'tool_choice');
  if (body.parallel_tool_calls === false && choice?.type !== 'none') {
    choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  }

  out.tools = tools
    .map((tool, i) => {
      if (tool.type !== 'function') throw invalid('Only function tools are supported for this model.', `tools[${i}].type`);
      const fn = tool.function;
      return {
        name: fn.name,
        ...(fn.description ? { description: fn.description } : {}),
        input_schema: (fn.parameters as Record<string, unknown> | undefined) ?? { type: 'object', properties: {} },
      };
    })
    .filter((tool) => !allowed || allowed.has(tool.name));
  if (choice) out.tool_choice = choice;
}

function allowedToolName(entry: Record<string, unknown>): string {
  const fn = entry.function as { name?: unknown } | undefined;
  return String(fn?.name ?? entry.name ?? '');
}

/** Anthropic `Message` → OpenAI `chat.completion`. The message id is kept for tracing. */
export function anthropicChatResponse(json: unknown, target: UpstreamTarget): ChatCompletion {
  const msg = json as Partial<Message> | null;
  if (!msg || typeof msg !== 'object' || typeof msg.id !== 'string' || !Array.isArray(msg.content)) {
    throw new GatewayError('upstream_invalid_response', `Provider "${target.providerName}" returned a body that is not a message`);
  }
  let text = '';
  let hasText = false;
  const toolCalls: ChatCompletionMessageFunctionToolCall[] = [];
  for (const block of msg.content) {
    // Text blocks are split around citations; they join back without a separator.
    if (block.type === 'text' && typeof block.text === 'string') {
      text += block.text;
      hasText = true;
    } else if (block.type === 'tool_use') {
      const call = block as { id: string; name: string; input: unknown };
      toolCalls.push({ id: call.id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.input ?? {}) } });
    }
    // thinking, redacted_thinking and server-tool blocks have no OpenAI counterpart and are dropped.
  }
  return {
    id: msg.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof msg.model === 'string' ? msg.model : target.upstreamModel,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: hasText || toolCalls.length === 0 ? text : null,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: finishReason(msg.stop_reason),
        logprobs: null,
      },
    ],
    usage: toOpenAIUsage(msg.usage ?? {}),
  };
}

export function finishReason(reason: StopReason | string | null | undefined): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn (a server tool loop paused: the turn ended for now).
      return 'stop';
  }
}

/** OpenAI's prompt_tokens counts every input token; Anthropic splits out cache writes and reads. */
export function toOpenAIUsage(usage: Usage): CompletionUsage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + cacheRead;
  const completion = usage.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
}
