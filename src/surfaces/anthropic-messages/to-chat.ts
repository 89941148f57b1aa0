/**
 * Messages body → the neutral OpenAI chat request, for models not served by Anthropic. The
 * reverse of providers/anthropic/chat.ts + messages.ts. What the chat format can express is kept;
 * what it cannot is refused with `invalid_request` naming the field, with these documented
 * exceptions (hints that do not change what the client gets back):
 * - thinking and redacted_thinking blocks of earlier assistant turns are dropped (only Anthropic
 *   can verify their signatures);
 * - `cache_control` anywhere, `service_tier`, and the tool fields `defer_loading`,
 *   `eager_input_streaming`, `allowed_callers` and `input_examples` are ignored;
 * - `tool_result.is_error` becomes an `Error: ` prefix of the tool message text.
 * `thinking: enabled` becomes `reasoning_effort` from its budget (see EFFORT_BUDGETS);
 * `output_config.effort` wins over it.
 */
import type {
  ChatCompletionContentPart,
  ChatCompletionContentPartText,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { ChatRequest } from '../../providers/adapter.js';
import { isServerToolBlock, invalid } from './parse.js';
import type { Block, MessageParam, MessagesWire, ToolParam } from './types.js';

type Json = Record<string, unknown>;
type Effort = NonNullable<ChatRequest['reasoning_effort']>;

/** Top-level fields translated below, or ignored as hints. Any other field is refused. */
const TRANSLATED = new Set(['model', 'max_tokens', 'messages', 'system', 'tools', 'tool_choice', 'temperature', 'top_p', 'stop_sequences', 'stream', 'metadata', 'thinking', 'output_config']);
const IGNORED = new Set(['cache_control', 'service_tier']);

/** Thinking budgets below these bounds map to low and medium reasoning effort; above, high. */
const EFFORT_BUDGETS = { low: 4096, medium: 16384 };

/**
 * @example toChat({ model: 'gpt-4o', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] })
 * // { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 64 }
 */
export function toChat(wire: MessagesWire): ChatRequest {
  for (const key of Object.keys(wire)) {
    if (TRANSLATED.has(key) || IGNORED.has(key) || wire[key] === undefined) continue;
    throw invalid(`\`${key}\` is only supported for Anthropic models.`, key);
  }
  const messages: ChatCompletionMessageParam[] = [];
  const system = systemMessage(wire.system);
  if (system) messages.push(system);
  wire.messages.forEach((m, i) => messages.push(...convertMessage(m, `messages[${i}]`)));

  // The base type: `stream` is set below, which the streaming/non-streaming union cannot follow.
  const out: ChatCompletionCreateParamsBase = { model: wire.model, messages };
  if (wire.max_tokens !== undefined) out.max_completion_tokens = wire.max_tokens;
  if (wire.temperature !== undefined) out.temperature = wire.temperature;
  if (wire.top_p !== undefined) out.top_p = wire.top_p;
  if (wire.stop_sequences && wire.stop_sequences.length > 0) out.stop = [...wire.stop_sequences];
  if (wire.stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  const user = wire.metadata?.user_id;
  if (typeof user === 'string' && user) out.user = user;
  addTools(wire, out);
  addOutputConfig(wire, out);
  return out as ChatRequest;
}

function systemMessage(system: MessagesWire['system']): ChatCompletionMessageParam | undefined {
  if (typeof system === 'string') return system ? { role: 'system', content: system } : undefined;
  const parts = (system ?? []).filter((b) => b.text !== '').map((b) => textPart(b.text as string));
  if (parts.length === 0) return undefined;
  return { role: 'system', content: parts.length === 1 ? parts[0]!.text : parts };
}

function convertMessage(m: MessageParam, at: string): ChatCompletionMessageParam[] {
  if (typeof m.content === 'string') return [{ role: m.role, content: m.content }];
  return m.role === 'assistant' ? assistantMessage(m.content, at) : userMessages(m.content, at);
}

function assistantMessage(blocks: Block[], at: string): ChatCompletionMessageParam[] {
  const texts: ChatCompletionContentPartText[] = [];
  const calls: ChatCompletionMessageFunctionToolCall[] = [];
  blocks.forEach((b, j) => {
    const where = `${at}.content[${j}]`;
    if (b.type === 'text') texts.push(textPart(b.text as string));
    else if (b.type === 'tool_use') {
      calls.push({ id: b.id as string, type: 'function', function: { name: b.name as string, arguments: JSON.stringify(b.input) } });
    } else if (b.type !== 'thinking' && b.type !== 'redacted_thinking') refuseBlock(b, where, 'assistant');
  });
  // A turn that held only thinking has nothing left to say to another model.
  if (texts.length === 0 && calls.length === 0) return [];
  const content = texts.length === 0 ? null : texts.length === 1 ? texts[0]!.text : texts;
  return [{ role: 'assistant', content, ...(calls.length > 0 ? { tool_calls: calls } : {}) }];
}

/** Tool results become `tool` messages (first, as chat requires them right after the calls), the rest one user message. */
function userMessages(blocks: Block[], at: string): ChatCompletionMessageParam[] {
  const tools: ChatCompletionMessageParam[] = [];
  const parts: ChatCompletionContentPart[] = [];
  blocks.forEach((b, j) => {
    const where = `${at}.content[${j}]`;
    switch (b.type) {
      case 'tool_result':
        tools.push({ role: 'tool', tool_call_id: b.tool_use_id as string, content: toolResultContent(b, where) });
        return;
      case 'thinking':
      case 'redacted_thinking':
        return;
      default:
        parts.push(...contentParts(b, where));
    }
  });
  if (parts.length === 0) return tools;
  const only = parts[0]!;
  const content = parts.length === 1 && only.type === 'text' ? only.text : parts;
  return [...tools, { role: 'user', content }];
}

function contentParts(b: Block, where: string): ChatCompletionContentPart[] {
  switch (b.type) {
    case 'text':
      return [textPart(b.text as string)];
    case 'image': {
      const source = b.source as Json;
      if (source.type === 'base64') return [{ type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } }];
      if (source.type === 'url') return [{ type: 'image_url', image_url: { url: source.url as string } }];
      throw invalid('Images by file id are only supported for Anthropic models; send base64 data or a URL.', `${where}.source`);
    }
    case 'document':
      return documentParts(b, where);
    default:
      return refuseBlock(b, where, 'user');
  }
}

function documentParts(b: Block, where: string): ChatCompletionContentPart[] {
  if ((b.citations as Json | undefined)?.enabled === true) throw invalid('Citations are only supported for Anthropic models.', `${where}.citations`);
  const source = b.source as Json;
  const title = typeof b.title === 'string' && b.title ? b.title : undefined;
  switch (source.type) {
    case 'base64':
      return [{ type: 'file', file: { file_data: `data:${source.media_type};base64,${source.data}`, filename: title ?? 'document.pdf' } }];
    case 'text': {
      // Plain text has no file form in chat: the model reads title, context and text as one part.
      const text = [title, b.context, source.data].filter((s) => typeof s === 'string' && s).join('\n\n');
      return [textPart(text)];
    }
    case 'content': {
      const content = source.content;
      if (typeof content === 'string') return [textPart(content)];
      return (content as Block[]).flatMap((c, k) => contentParts(c, `${where}.source.content[${k}]`));
    }
    default:
      throw invalid(`Documents by ${source.type} are only supported for Anthropic models; send base64 or text data.`, `${where}.source`);
  }
}

function toolResultContent(b: Block, where: string): string | ChatCompletionContentPartText[] {
  const failed = b.is_error === true;
  if (b.content === undefined || typeof b.content === 'string') {
    const text = (b.content as string | undefined) ?? '';
    return failed ? (text ? `Error: ${text}` : 'Error') : text;
  }
  const parts = (b.content as Block[]).map((c, k): ChatCompletionContentPartText => {
    if (c.type !== 'text') throw invalid(`A tool result holding ${c.type} blocks is only supported for Anthropic models.`, `${where}.content[${k}]`);
    return textPart(c.text as string);
  });
  if (failed) parts.unshift(textPart('Error:'));
  return parts;
}

function refuseBlock(b: Block, where: string, role: string): never {
  if (isServerToolBlock(b.type) || b.type === 'tool_reference' || b.type === 'search_result') {
    throw invalid(`\`${b.type}\` blocks are only supported for Anthropic models.`, `${where}.type`);
  }
  throw invalid(`A ${role} message cannot hold a \`${b.type}\` block.`, `${where}.type`);
}

function addTools(wire: MessagesWire, out: ChatCompletionCreateParamsBase): void {
  const tools = wire.tools ?? [];
  if (tools.length === 0) return; // a tool_choice without tools means nothing (chat rejects it)
  out.tools = tools.map(functionTool);
  const choice = wire.tool_choice;
  if (choice?.type === 'auto') out.tool_choice = 'auto';
  else if (choice?.type === 'any') out.tool_choice = 'required';
  else if (choice?.type === 'none') out.tool_choice = 'none';
  else if (choice?.type === 'tool') out.tool_choice = { type: 'function', function: { name: choice.name as string } };
  if (choice?.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
}

function functionTool(t: ToolParam, i: number): ChatCompletionTool {
  if (t.type != null && t.type !== 'custom') {
    throw invalid(`The server tool "${t.type}" is only supported for Anthropic models.`, `tools[${i}].type`);
  }
  return {
    type: 'function',
    function: {
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      parameters: t.input_schema as Json,
      ...(typeof t.strict === 'boolean' ? { strict: t.strict } : {}),
    },
  };
}

function addOutputConfig(wire: MessagesWire, out: ChatCompletionCreateParamsBase): void {
  if (wire.thinking?.type === 'enabled') {
    const budget = wire.thinking.budget_tokens ?? 0;
    out.reasoning_effort = budget < EFFORT_BUDGETS.low ? 'low' : budget < EFFORT_BUDGETS.medium ? 'medium' : 'high';
  }
  const config = wire.output_config;
  if (!config) return;
  for (const key of Object.keys(config)) {
    if (key !== 'effort' && key !== 'format') throw invalid(`\`output_config.${key}\` is only supported for Anthropic models.`, `output_config.${key}`);
  }
  if (config.effort != null) out.reasoning_effort = config.effort as Effort;
  const format = config.format;
  if (format == null) return;
  if (format.type !== 'json_schema' || !format.schema || typeof format.schema !== 'object') {
    throw invalid('output_config.format must be a json_schema format with a schema.', 'output_config.format');
  }
  // Anthropic's structured outputs are guaranteed; strict mode is the chat equivalent.
  out.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: format.schema, strict: true } };
}

function textPart(text: string): ChatCompletionContentPartText {
  return { type: 'text', text };
}
