/**
 * Translation of a Responses request to the pivot (an OpenAI chat request) for providers that
 * do not speak Responses. What chat cannot express is a 400 naming the field, except reasoning
 * items from earlier turns: they are dropped (their encrypted content is only meaningful to
 * OpenAI). `previous_response_id` must already be expanded (conversation.ts).
 */
import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionContentPartText,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import type { ChatRequest } from '../../providers/adapter.js';
import { invalid, isObject } from './parse.js';
import type { ResponsesWire } from './types.js';

type Json = Record<string, any>;

export function responsesToChat(wire: ResponsesWire): ChatRequest {
  const b = wire as unknown as Json;
  if (typeof b.previous_response_id === 'string') {
    throw invalid('previous_response_id could not be resolved for this provider.', 'previous_response_id');
  }
  for (const key of ['conversation', 'prompt', 'max_tool_calls', 'context_management', 'moderation'] as const) {
    if (b[key] !== undefined && b[key] !== null) throw invalid(`${key} is only supported when the model is served by OpenAI natively.`, key);
  }
  if (b.background === true) throw invalid('background is only supported when the model is served by OpenAI natively.', 'background');

  const messages: ChatCompletionMessageParam[] = [];
  if (typeof b.instructions === 'string') messages.push({ role: 'system', content: b.instructions });
  if (typeof b.input === 'string') messages.push({ role: 'user', content: b.input });
  else if (Array.isArray(b.input)) b.input.forEach((item: Json, i: number) => addItem(messages, item, `input[${i}]`));

  const chat: Json = { model: b.model, messages };
  if (Array.isArray(b.tools) && b.tools.length > 0) chat.tools = b.tools.map(chatTool);
  if (b.tool_choice !== undefined && b.tool_choice !== null) chat.tool_choice = chatToolChoice(b.tool_choice);
  if (b.parallel_tool_calls !== undefined && b.parallel_tool_calls !== null) chat.parallel_tool_calls = b.parallel_tool_calls;
  const format = isObject(b.text) ? b.text.format : undefined;
  if (isObject(format) && format.type !== 'text') {
    chat.response_format =
      format.type === 'json_object'
        ? { type: 'json_object' }
        : { type: 'json_schema', json_schema: defined({ name: format.name, schema: format.schema, strict: format.strict, description: format.description }) };
  }
  if (isObject(b.text) && typeof b.text.verbosity === 'string') chat.verbosity = b.text.verbosity;
  if (typeof b.max_output_tokens === 'number') chat.max_completion_tokens = b.max_output_tokens;
  if (isObject(b.reasoning) && typeof b.reasoning.effort === 'string') chat.reasoning_effort = b.reasoning.effort;
  for (const key of ['temperature', 'top_p', 'user', 'safety_identifier', 'service_tier', 'prompt_cache_key'] as const) {
    if (b[key] !== undefined && b[key] !== null) chat[key] = b[key];
  }
  if (typeof b.top_logprobs === 'number') Object.assign(chat, { logprobs: true, top_logprobs: b.top_logprobs });
  if (b.stream === true) Object.assign(chat, { stream: true, stream_options: { include_usage: true } });
  return chat as ChatRequest;
}

function addItem(messages: ChatCompletionMessageParam[], item: Json, at: string): void {
  const type = item.type ?? 'message';
  switch (type) {
    case 'message':
      messages.push(chatMessage(item, at));
      return;
    case 'function_call': {
      // Consecutive calls (after an assistant text or not) form one assistant turn, as in chat.
      const last = messages[messages.length - 1];
      const call = { id: item.call_id, type: 'function' as const, function: { name: item.name, arguments: item.arguments } };
      if (last?.role === 'assistant') (last.tool_calls ??= []).push(call);
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      return;
    }
    case 'function_call_output':
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: typeof item.output === 'string' ? item.output : textParts(item.output, `${at}.output`) });
      return;
    case 'reasoning':
      return; // dropped: only OpenAI can use its reasoning items
    case 'item_reference':
      throw invalid(`${at} refers to item "${item.id}", which is not part of a stored conversation of this gateway.`, `${at}.id`);
    default:
      throw invalid(`Input items of type "${type}" are only supported when the model is served by OpenAI natively.`, `${at}.type`);
  }
}

function chatMessage(item: Json, at: string): ChatCompletionMessageParam {
  const role = item.role as 'user' | 'assistant' | 'system' | 'developer';
  if (role === 'assistant') {
    const message: ChatCompletionAssistantMessageParam = { role: 'assistant' };
    if (typeof item.content === 'string') message.content = item.content;
    else {
      const texts: string[] = [];
      const refusals: string[] = [];
      item.content.forEach((p: Json, j: number) => {
        if (p.type === 'output_text' || p.type === 'input_text') texts.push(p.text);
        else if (p.type === 'refusal') refusals.push(p.refusal);
        else throw invalid(`An assistant message cannot carry ${p.type} for this provider.`, `${at}.content[${j}].type`);
      });
      message.content = texts.length > 0 ? texts.join('') : null;
      if (refusals.length > 0) message.refusal = refusals.join('');
    }
    return message;
  }
  if (typeof item.content === 'string') return { role, content: item.content };
  if (role === 'system' || role === 'developer') return { role, content: textParts(item.content, `${at}.content`) };
  return { role: 'user', content: item.content.map((p: Json, j: number) => userPart(p, `${at}.content[${j}]`)) };
}

function userPart(p: Json, at: string): ChatCompletionContentPart {
  switch (p.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: p.text };
    case 'input_image':
      if (typeof p.image_url !== 'string') throw invalid('Images by file_id are only supported when the model is served by OpenAI natively; send image_url.', `${at}.file_id`);
      return { type: 'image_url', image_url: defined({ url: p.image_url, detail: p.detail }) as { url: string } };
    case 'input_file':
      if (typeof p.file_url === 'string' && typeof p.file_data !== 'string') {
        throw invalid('Files by file_url are only supported when the model is served by OpenAI natively; send file_data.', `${at}.file_url`);
      }
      return { type: 'file', file: defined({ file_data: p.file_data, file_id: p.file_id, filename: p.filename }) };
    default:
      throw invalid(`A user message cannot carry ${p.type} for this provider.`, `${at}.type`);
  }
}

function textParts(parts: Json[], at: string): ChatCompletionContentPartText[] {
  return parts.map((p, j) => {
    if (p.type === 'input_text' || p.type === 'output_text') return { type: 'text', text: p.text };
    throw invalid(`Only text can be translated here for this provider, not ${p.type}.`, `${at}[${j}].type`);
  });
}

function chatTool(tool: Json, i: number): ChatCompletionTool {
  if (tool.type !== 'function') {
    throw invalid(`The built-in tool "${tool.type}" is only available when the model is served by OpenAI natively.`, `tools[${i}].type`);
  }
  return { type: 'function', function: defined({ name: tool.name, description: tool.description ?? undefined, parameters: tool.parameters ?? undefined, strict: tool.strict ?? undefined }) as { name: string } };
}

function chatToolChoice(choice: unknown): ChatCompletionToolChoiceOption {
  if (typeof choice === 'string') return choice as 'none' | 'auto' | 'required';
  const c = choice as Json;
  if (c.type === 'function') return { type: 'function', function: { name: c.name } };
  if (c.type === 'allowed_tools' && Array.isArray(c.tools) && c.tools.every((t: Json) => t?.type === 'function')) {
    return { type: 'allowed_tools', allowed_tools: { mode: c.mode, tools: c.tools.map((t: Json) => ({ type: 'function', function: { name: t.name } })) } };
  }
  throw invalid(`tool_choice of type "${c.type}" is only available when the model is served by OpenAI natively.`, 'tool_choice');
}

/** Drops undefined fields so the translated body carries only what the client set. */
function defined<T extends Json>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
