/**
 * `POST /v1/messages` (and `/v1/messages/count_tokens`) bodies: hand checks of the shape the
 * gateway relies on, each refusal naming the field in the segment-path syntax
 * (`messages[0].content[1].source`). Fields the gateway does not read are left for the upstream
 * to judge, and pass through to an Anthropic provider unchanged. Block types the gateway does not
 * know are refused: their text would escape policy.
 */
import { createHash } from 'node:crypto';
import { GatewayError } from '../../errors.js';
import type { RequestFacts } from '../../pipeline/context.js';
import type { ParsedRequest } from '../surface.js';
import type { Block, MessagesWire } from './types.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Server-side tool blocks (results of web search, code execution, …) seen in history; passed through natively. */
export function isServerToolBlock(type: string): boolean {
  return type === 'server_tool_use' || type === 'mcp_tool_use' || type === 'container_upload' || (type !== 'tool_result' && type.endsWith('_tool_result'));
}

/**
 * Validates a Messages create body.
 * @example parseMessagesRequest({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }).facts.messageCount // 1
 */
export function parseMessagesRequest(raw: unknown): ParsedRequest<MessagesWire> {
  return parse(raw, true);
}

/** Validates a count_tokens body: the create body without `max_tokens` (and never streamed). */
export function parseCountTokensRequest(raw: unknown): ParsedRequest<MessagesWire> {
  return parse(raw, false);
}

function parse(raw: unknown, create: boolean): ParsedRequest<MessagesWire> {
  if (!isObject(raw)) throw invalid('The request body must be a JSON object.', null);
  const body = raw;
  if (body.model === undefined) throw invalid('Missing required parameter: model.', 'model');
  if (typeof body.model !== 'string' || body.model.length === 0) throw invalid('model must be a non-empty string.', 'model');
  if (create && body.max_tokens === undefined) throw invalid('Missing required parameter: max_tokens.', 'max_tokens');
  if (body.max_tokens !== undefined && (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1)) {
    throw invalid('max_tokens must be an integer of at least 1.', 'max_tokens');
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalid(messages === undefined ? 'Missing required parameter: messages.' : 'messages must be a non-empty array.', 'messages');
  }
  let hasImages = false;
  const seeBlock = (b: Block): void => {
    if (b.type === 'image') hasImages = true;
  };
  messages.forEach((m, i) => {
    const at = `messages[${i}]`;
    if (!isObject(m)) throw invalid(`${at} must be an object.`, at);
    if (m.role !== 'user' && m.role !== 'assistant') throw invalid(`${at}.role must be "user" or "assistant".`, `${at}.role`);
    if (typeof m.content === 'string') return;
    if (!Array.isArray(m.content)) throw invalid(`${at}.content must be a string or an array of content blocks.`, `${at}.content`);
    m.content.forEach((b, j) => checkBlock(b, `${at}.content[${j}]`, seeBlock));
  });
  checkSystem(body.system);
  const toolsCount = checkTools(body.tools);
  checkToolChoice(body.tool_choice);
  number(body, 'temperature', 0, 1);
  number(body, 'top_p', 0, 1);
  if (body.top_k !== undefined && (!Number.isInteger(body.top_k) || (body.top_k as number) < 0)) {
    throw invalid('top_k must be a non-negative integer.', 'top_k');
  }
  if (body.stop_sequences !== undefined) {
    if (!Array.isArray(body.stop_sequences)) throw invalid('stop_sequences must be an array of strings.', 'stop_sequences');
    body.stop_sequences.forEach((s, i) => {
      if (typeof s !== 'string') throw invalid('stop_sequences must be an array of strings.', `stop_sequences[${i}]`);
    });
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw invalid('stream must be a boolean.', 'stream');
  if (!create && body.stream === true) throw invalid('count_tokens does not stream.', 'stream');
  const userId = checkMetadata(body.metadata);
  checkThinking(body.thinking);
  if (body.output_config !== undefined && !isObject(body.output_config)) throw invalid('output_config must be an object.', 'output_config');

  const wire = body as MessagesWire;
  // The input part: what the model reads as conversation (tools and parameters excluded, as for chat).
  const canonical = JSON.stringify({ system: wire.system, messages: wire.messages });
  const system = wire.system;
  const facts: RequestFacts = {
    messageCount: messages.length,
    systemPromptPresent: typeof system === 'string' ? system.length > 0 : Array.isArray(system) && system.some((b) => b.text !== ''),
    inputHash: createHash('sha256').update(canonical).digest('hex'),
    inputChars: canonical.length,
    maxTokens: wire.max_tokens ?? null,
    temperature: wire.temperature ?? null,
    topP: wire.top_p ?? null,
    toolsCount,
    toolChoice: wire.tool_choice?.type ?? null,
    responseFormat: wire.output_config?.format?.type ?? null,
    hasImages,
    n: 1,
    endUser: userId,
  };
  return { wire, model: wire.model, stream: wire.stream === true, clientWantsUsage: true, facts };
}

function checkBlock(b: unknown, at: string, see: (b: Block) => void): void {
  if (!isObject(b) || typeof b.type !== 'string') throw invalid(`${at} must be a content block object with a string type.`, at);
  const block = b as Block;
  see(block);
  switch (block.type) {
    case 'text':
      return str(block, 'text', at);
    case 'image':
      checkSource(block.source, `${at}.source`, ['base64', 'url', 'file']);
      return;
    case 'document': {
      const kind = checkSource(block.source, `${at}.source`, ['base64', 'text', 'url', 'content', 'file']);
      if (kind === 'content') {
        const content = (block.source as Json).content;
        if (Array.isArray(content)) content.forEach((c, k) => checkBlock(c, `${at}.source.content[${k}]`, see));
        else if (typeof content !== 'string') throw invalid('A content source needs `content`: a string or blocks.', `${at}.source.content`);
      }
      for (const key of ['title', 'context']) if (block[key] != null) str(block, key, at);
      return;
    }
    case 'search_result':
      str(block, 'source', at);
      str(block, 'title', at);
      if (!Array.isArray(block.content)) throw invalid(`${at}.content must be an array of text blocks.`, `${at}.content`);
      return block.content.forEach((c, k) => {
        if (!isObject(c) || c.type !== 'text' || typeof c.text !== 'string') throw invalid('Search result content must be text blocks.', `${at}.content[${k}]`);
      });
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use':
      str(block, 'id', at);
      str(block, 'name', at);
      if (!isObject(block.input)) throw invalid(`${at}.input must be an object.`, `${at}.input`);
      return;
    case 'tool_result':
      str(block, 'tool_use_id', at);
      if (block.is_error !== undefined && typeof block.is_error !== 'boolean') throw invalid(`${at}.is_error must be a boolean.`, `${at}.is_error`);
      if (block.content === undefined || typeof block.content === 'string') return;
      if (!Array.isArray(block.content)) throw invalid(`${at}.content must be a string or an array of content blocks.`, `${at}.content`);
      return block.content.forEach((c, k) => checkBlock(c, `${at}.content[${k}]`, see));
    case 'thinking':
      str(block, 'thinking', at);
      return str(block, 'signature', at);
    case 'redacted_thinking':
      return str(block, 'data', at);
    case 'tool_reference':
      return str(block, 'tool_name', at);
    default:
      if (isServerToolBlock(block.type)) return;
      throw invalid(`Unknown content block type "${block.type}".`, `${at}.type`);
  }
}

/** Checks a `source` object and returns its type. */
function checkSource(source: unknown, at: string, kinds: string[]): string {
  if (!isObject(source) || typeof source.type !== 'string' || !kinds.includes(source.type)) {
    throw invalid(`${at} must be an object with type ${kinds.join(', ')}.`, at);
  }
  const need: Record<string, string[]> = { base64: ['media_type', 'data'], text: ['data'], url: ['url'], file: ['file_id'], content: [] };
  for (const key of need[source.type] ?? []) str(source, key, at);
  return source.type;
}

function checkSystem(system: unknown): void {
  if (system === undefined || typeof system === 'string') return;
  if (!Array.isArray(system)) throw invalid('system must be a string or an array of text blocks.', 'system');
  system.forEach((b, i) => {
    if (!isObject(b) || b.type !== 'text' || typeof b.text !== 'string') throw invalid('system blocks must be text blocks.', `system[${i}]`);
  });
}

function checkTools(tools: unknown): number {
  if (tools === undefined) return 0;
  if (!Array.isArray(tools)) throw invalid('tools must be an array.', 'tools');
  tools.forEach((t, i) => {
    const at = `tools[${i}]`;
    if (!isObject(t)) throw invalid(`${at} must be an object.`, at);
    str(t, 'name', at);
    if (t.type != null && typeof t.type !== 'string') throw invalid(`${at}.type must be a string.`, `${at}.type`);
    if (t.type != null && t.type !== 'custom') return; // a server tool: its fields are Anthropic's to check
    if (!isObject(t.input_schema)) throw invalid(`${at}.input_schema must be a JSON Schema object.`, `${at}.input_schema`);
    if (t.description !== undefined) str(t, 'description', at);
  });
  return tools.length;
}

function checkToolChoice(choice: unknown): void {
  if (choice === undefined) return;
  if (!isObject(choice) || !['auto', 'any', 'tool', 'none'].includes(choice.type as string)) {
    throw invalid('tool_choice must be an object with type auto, any, tool or none.', 'tool_choice');
  }
  if (choice.type === 'tool') str(choice, 'name', 'tool_choice');
  if (choice.disable_parallel_tool_use !== undefined && typeof choice.disable_parallel_tool_use !== 'boolean') {
    throw invalid('tool_choice.disable_parallel_tool_use must be a boolean.', 'tool_choice.disable_parallel_tool_use');
  }
}

function checkMetadata(metadata: unknown): string | null {
  if (metadata === undefined) return null;
  if (!isObject(metadata)) throw invalid('metadata must be an object.', 'metadata');
  const id = metadata.user_id;
  if (id != null && typeof id !== 'string') throw invalid('metadata.user_id must be a string.', 'metadata.user_id');
  return typeof id === 'string' && id.length > 0 ? id : null;
}

function checkThinking(thinking: unknown): void {
  if (thinking === undefined) return;
  // Other types (adaptive, between_tools, …) carry no field the gateway reads; Anthropic judges them.
  if (!isObject(thinking) || typeof thinking.type !== 'string') throw invalid('thinking must be an object with a string type.', 'thinking');
  if (thinking.type === 'enabled' && (!Number.isInteger(thinking.budget_tokens) || (thinking.budget_tokens as number) < 1)) {
    throw invalid('thinking.budget_tokens must be a positive integer.', 'thinking.budget_tokens');
  }
}

function number(body: Json, key: string, min: number, max: number): void {
  const v = body[key];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw invalid(`${key} must be a number from ${min} to ${max}.`, key);
}

function str(obj: Json, key: string, at: string): void {
  if (typeof obj[key] !== 'string') throw invalid(`${at}.${key} must be a string.`, `${at}.${key}`);
}

export function invalid(message: string, param: string | null): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}
