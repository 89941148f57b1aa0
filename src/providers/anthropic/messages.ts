/**
 * OpenAI's message list → Anthropic's `system` string and alternating user/assistant turns.
 * Anything Anthropic cannot represent is refused with `invalid_request` naming the field,
 * rather than dropped silently.
 */
import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import { GatewayError } from '../../errors.js';
import type { ContentBlock, ImageSource, MessageParam, TextBlock, ToolUseBlock } from './wire.js';

export interface ConvertedMessages {
  system: string | undefined;
  messages: MessageParam[];
}

interface Turn {
  role: 'user' | 'assistant';
  blocks: ContentBlock[];
}

export function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

export function convertMessages(input: readonly ChatCompletionMessageParam[]): ConvertedMessages {
  const system: string[] = [];
  const turns: Turn[] = [];
  input.forEach((msg, i) => {
    const at = `messages[${i}]`;
    switch (msg.role) {
      case 'system':
      case 'developer': {
        // Anthropic has one top-level system prompt; instructions anywhere in the list are hoisted.
        const text = typeof msg.content === 'string' ? msg.content : msg.content.map((p) => p.text).join('\n');
        if (text) system.push(text);
        return;
      }
      case 'user':
        turns.push({ role: 'user', blocks: userBlocks(msg.content, at) });
        return;
      case 'assistant': {
        const blocks: ContentBlock[] = [];
        if (typeof msg.content === 'string') blocks.push(text(msg.content));
        else for (const part of msg.content ?? []) blocks.push(text(part.type === 'text' ? part.text : part.refusal));
        if (!msg.content && msg.refusal) blocks.push(text(msg.refusal));
        (msg.tool_calls ?? []).forEach((call, j) => blocks.push(toolUse(call, `${at}.tool_calls[${j}]`)));
        turns.push({ role: 'assistant', blocks });
        return;
      }
      case 'tool': {
        // A tool's answer is a user turn holding a tool_result that points at the assistant's tool_use id.
        const content = typeof msg.content === 'string' ? msg.content : msg.content.filter((p) => p.text).map((p) => text(p.text));
        turns.push({ role: 'user', blocks: [{ type: 'tool_result', tool_use_id: msg.tool_call_id, content }] });
        return;
      }
      case 'function':
        throw invalid('Legacy `function` messages are not supported for this model; use `tool` messages.', `${at}.role`);
      default:
        throw invalid(`Unknown message role "${(msg as { role: unknown }).role}".`, `${at}.role`);
    }
  });

  const messages = mergeTurns(turns).map(finishTurn);
  if (messages.length === 0) throw invalid('At least one user or assistant message is required.', 'messages');
  return { system: system.length > 0 ? system.join('\n\n') : undefined, messages };
}

function text(s: string): TextBlock {
  return { type: 'text', text: s };
}

function userBlocks(content: string | ChatCompletionContentPart[], at: string): ContentBlock[] {
  if (typeof content === 'string') return [text(content)];
  return content.map((part, j): ContentBlock => {
    const where = `${at}.content[${j}]`;
    switch (part.type) {
      case 'text':
        return text(part.text);
      case 'image_url':
        return { type: 'image', source: imageSource(part.image_url.url, `${where}.image_url.url`) };
      case 'file': {
        if (!part.file.file_data) throw invalid('Only inline `file_data` is supported for this model, not `file_id`.', `${where}.file`);
        const data = parseDataUrl(part.file.file_data) ?? { mediaType: 'application/pdf', data: part.file.file_data };
        const doc: ContentBlock = { type: 'document', source: { type: 'base64', media_type: data.mediaType, data: data.data } };
        return part.file.filename ? { ...doc, title: part.file.filename } : doc;
      }
      case 'input_audio':
        throw invalid('Audio input is not supported for this model.', where);
      default:
        throw invalid(`Unknown content part type "${(part as { type: unknown }).type}".`, `${where}.type`);
    }
  });
}

/** `data:` URLs are inlined as base64; http(s) URLs are fetched by Anthropic itself. */
function imageSource(url: string, param: string): ImageSource {
  const inline = parseDataUrl(url);
  if (inline) return { type: 'base64', media_type: inline.mediaType, data: inline.data };
  if (url.startsWith('data:')) throw invalid('Image data URLs must be base64-encoded.', param);
  if (/^https?:\/\//i.test(url)) return { type: 'url', url };
  throw invalid('Image URLs must be http(s) or base64 data URLs.', param);
}

function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const m = /^data:([^,]*),(.*)$/s.exec(url);
  if (!m) return undefined;
  const meta = m[1]!.split(';');
  if (!meta.slice(1).some((p) => p.trim().toLowerCase() === 'base64')) return undefined;
  return { mediaType: meta[0]!.trim().toLowerCase() || 'application/octet-stream', data: m[2]! };
}

function toolUse(call: ChatCompletionMessageToolCall, param: string): ToolUseBlock {
  if (call.type !== 'function') throw invalid('Only function tool calls are supported for this model.', `${param}.type`);
  const raw = call.function.arguments.trim();
  let input: unknown = {};
  // A tool without parameters may come back with empty arguments; Anthropic needs an object.
  if (raw) {
    try {
      input = JSON.parse(raw);
    } catch {
      throw invalid('Tool call arguments must be a JSON object.', `${param}.function.arguments`);
    }
  }
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw invalid('Tool call arguments must be a JSON object.', `${param}.function.arguments`);
  }
  return { type: 'tool_use', id: call.id, name: call.function.name, input };
}

/** Anthropic requires strict user/assistant alternation: consecutive same-role turns become one. */
function mergeTurns(turns: Turn[]): Turn[] {
  const out: Turn[] = [];
  for (const turn of turns) {
    // Anthropic rejects empty text blocks; an empty assistant turn (say, content '' with no calls) vanishes.
    const blocks = turn.blocks.filter((b) => b.type !== 'text' || b.text !== '');
    if (blocks.length === 0) continue;
    const last = out[out.length - 1];
    if (last && last.role === turn.role) last.blocks.push(...blocks);
    else out.push({ role: turn.role, blocks });
  }
  return out;
}

function finishTurn(turn: Turn): MessageParam {
  // tool_result blocks must lead their user message, so text merged in before them moves after.
  const blocks =
    turn.role === 'user'
      ? [...turn.blocks.filter((b) => b.type === 'tool_result'), ...turn.blocks.filter((b) => b.type !== 'tool_result')]
      : turn.blocks;
  const only = blocks[0];
  if (blocks.length === 1 && only?.type === 'text') return { role: turn.role, content: only.text };
  return { role: turn.role, content: blocks };
}
