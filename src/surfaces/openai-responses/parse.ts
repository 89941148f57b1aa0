/**
 * Reads a `POST /v1/responses` body: hand checks naming the offending field (OpenAI's own
 * messages where it has one), the facts the pipeline needs, and the text segments policy scans.
 * Built-in tools and non-function items are accepted here (they go upstream natively);
 * translation to a chat provider refuses them (to-chat.ts).
 */
import { createHash } from 'node:crypto';
import { GatewayError } from '../../errors.js';
import type { RequestFacts } from '../../pipeline/context.js';
import { keyPath, schemaText } from '../../policy/redact-request.js';
import type { TextSegment } from '../../policy/types.js';
import type { ParsedRequest } from '../surface.js';
import type { ResponsesWire } from './types.js';

type Json = Record<string, unknown>;

const ROLES = new Set(['user', 'assistant', 'system', 'developer']);
const PART_TYPES = new Set(['input_text', 'input_image', 'input_file', 'output_text', 'refusal']);
const OUTPUT_PART_TYPES = new Set(['input_text', 'input_image', 'input_file']);
const TOOL_CHOICE_STRINGS = new Set(['none', 'auto', 'required']);
const FORMAT_TYPES = new Set(['text', 'json_object', 'json_schema']);
const EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);
const SUMMARIES = new Set(['auto', 'concise', 'detailed']);
/** Top-level fields of the Responses API (openai 6.49's ResponseCreateParams, plus max_tool_calls); anything else is refused as OpenAI does. */
const KNOWN_FIELDS = new Set([
  'model', 'input', 'instructions', 'tools', 'tool_choice', 'text', 'max_output_tokens', 'reasoning', 'temperature', 'top_p',
  'stream', 'stream_options', 'store', 'previous_response_id', 'include', 'metadata', 'user', 'parallel_tool_calls',
  'truncation', 'service_tier', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention', 'background', 'top_logprobs',
  'max_tool_calls', 'conversation', 'prompt', 'context_management', 'moderation', 'prompt_cache_options',
]);
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

export function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function parseResponsesRequest(raw: unknown): ParsedRequest<ResponsesWire> {
  if (!isObject(raw)) throw invalid('The request body must be a JSON object.', 'body');
  const body = raw;
  for (const key of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(key)) throw invalid(`Unrecognized request argument supplied: ${key}`, key);
  }
  if (typeof body.model !== 'string' || body.model.length === 0) throw invalid('Missing required parameter: model.', 'model');

  const input = body.input;
  let hasImages = false;
  let systemPromptPresent = body.instructions !== undefined && body.instructions !== null;
  if (input === undefined) {
    if (typeof body.previous_response_id !== 'string' && body.conversation === undefined && body.prompt === undefined) {
      throw invalid('Missing required parameter: input.', 'input');
    }
  } else if (Array.isArray(input)) {
    input.forEach((item, i) => {
      const seen = checkItem(item, `input[${i}]`);
      hasImages ||= seen.image;
      systemPromptPresent ||= seen.system;
    });
  } else if (typeof input !== 'string') {
    throw invalid('input must be a string or an array of input items.', 'input');
  }

  optionalType(body, 'instructions', 'string', true);
  optionalType(body, 'stream', 'boolean');
  optionalType(body, 'store', 'boolean', true);
  optionalType(body, 'previous_response_id', 'string', true);
  optionalType(body, 'user', 'string');
  optionalType(body, 'safety_identifier', 'string');
  optionalType(body, 'parallel_tool_calls', 'boolean', true);
  optionalType(body, 'background', 'boolean', true);
  optionalType(body, 'stream_options', 'object', true);
  range(body, 'temperature', 0, 2);
  range(body, 'top_p', 0, 1);
  const maxTokens = body.max_output_tokens ?? null;
  if (maxTokens !== null && (!Number.isInteger(maxTokens) || (maxTokens as number) < 1)) {
    throw invalid('max_output_tokens must be a positive integer.', 'max_output_tokens');
  }
  if (body.include !== undefined && body.include !== null && (!Array.isArray(body.include) || !body.include.every((v) => typeof v === 'string'))) {
    throw invalid('include must be an array of strings.', 'include');
  }
  checkMetadata(body.metadata);
  checkTools(body.tools);
  checkToolChoice(body.tool_choice);
  checkText(body.text);
  checkReasoning(body.reasoning);

  const wire = body as unknown as ResponsesWire;
  const canonical = JSON.stringify(input ?? null);
  const instructionsChars = typeof body.instructions === 'string' ? body.instructions.length : 0;
  const choice = body.tool_choice;
  const facts: RequestFacts = {
    messageCount: Array.isArray(input) ? input.length : input === undefined ? 0 : 1,
    systemPromptPresent,
    inputHash: createHash('sha256').update(canonical).digest('hex'),
    inputChars: canonical.length + instructionsChars,
    maxTokens: maxTokens as number | null,
    temperature: (body.temperature as number | null | undefined) ?? null,
    topP: (body.top_p as number | null | undefined) ?? null,
    toolsCount: Array.isArray(body.tools) ? body.tools.length : 0,
    toolChoice: choice === undefined || choice === null ? null : typeof choice === 'string' ? choice : String((choice as Json).type),
    responseFormat: isObject(body.text) && isObject(body.text.format) ? String(body.text.format.type) : null,
    hasImages,
    n: 1,
    endUser: (body.user as string | undefined) ?? (body.safety_identifier as string | undefined) ?? null,
  };
  return { wire, model: body.model, stream: body.stream === true, clientWantsUsage: true, facts };
}

function checkItem(item: unknown, at: string): { image: boolean; system: boolean } {
  if (!isObject(item)) throw invalid(`${at} must be an object.`, at);
  const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
  if (typeof type !== 'string') throw invalid(`${at}.type is required.`, `${at}.type`);
  let image = false;
  switch (type) {
    case 'message': {
      if (typeof item.role !== 'string' || !ROLES.has(item.role)) throw invalid(`${at}.role must be one of user, assistant, system, developer.`, `${at}.role`);
      if (typeof item.content === 'string') break;
      if (!Array.isArray(item.content)) throw invalid(`${at}.content must be a string or an array of content parts.`, `${at}.content`);
      item.content.forEach((part, j) => (image = checkPart(part, `${at}.content[${j}]`, PART_TYPES) || image));
      break;
    }
    case 'function_call':
      for (const key of ['call_id', 'name', 'arguments']) {
        if (typeof item[key] !== 'string') throw invalid(`${at}.${key} must be a string.`, `${at}.${key}`);
      }
      break;
    case 'function_call_output':
      if (typeof item.call_id !== 'string') throw invalid(`${at}.call_id must be a string.`, `${at}.call_id`);
      if (Array.isArray(item.output)) item.output.forEach((part, j) => (image = checkPart(part, `${at}.output[${j}]`, OUTPUT_PART_TYPES) || image));
      else if (typeof item.output !== 'string') throw invalid(`${at}.output must be a string or an array of content parts.`, `${at}.output`);
      break;
    case 'reasoning':
      if (item.summary !== undefined && !Array.isArray(item.summary)) throw invalid(`${at}.summary must be an array.`, `${at}.summary`);
      if (item.encrypted_content !== undefined && item.encrypted_content !== null && typeof item.encrypted_content !== 'string') {
        throw invalid(`${at}.encrypted_content must be a string.`, `${at}.encrypted_content`);
      }
      break;
    case 'item_reference':
      if (typeof item.id !== 'string') throw invalid(`${at}.id must be a string.`, `${at}.id`);
      break;
    default:
      // Built-in tool calls and their outputs (web_search_call, computer_call_output, …): native only.
      break;
  }
  return { image, system: type === 'message' && (item.role === 'system' || item.role === 'developer') };
}

/** Returns true for an image part. */
function checkPart(part: unknown, at: string, allowed: Set<string>): boolean {
  if (!isObject(part) || typeof part.type !== 'string') throw invalid(`${at} must be a content part with a type.`, at);
  if (!allowed.has(part.type)) throw invalid(`${at}.type must be one of ${[...allowed].join(', ')}.`, `${at}.type`);
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      if (typeof part.text !== 'string') throw invalid(`${at}.text must be a string.`, `${at}.text`);
      return false;
    case 'refusal':
      if (typeof part.refusal !== 'string') throw invalid(`${at}.refusal must be a string.`, `${at}.refusal`);
      return false;
    case 'input_image':
      if (typeof part.image_url !== 'string' && typeof part.file_id !== 'string') throw invalid(`${at} needs image_url or file_id.`, `${at}.image_url`);
      return true;
    default:
      if (typeof part.file_data !== 'string' && typeof part.file_id !== 'string' && typeof part.file_url !== 'string') {
        throw invalid(`${at} needs file_data, file_id or file_url.`, `${at}.file_data`);
      }
      return false;
  }
}

function checkTools(tools: unknown): void {
  if (tools === undefined || tools === null) return;
  if (!Array.isArray(tools)) throw invalid('tools must be an array.', 'tools');
  tools.forEach((tool, i) => {
    const at = `tools[${i}]`;
    if (!isObject(tool) || typeof tool.type !== 'string') throw invalid(`${at} must be an object with a type.`, `${at}.type`);
    if (tool.type !== 'function') return;
    if (typeof tool.name !== 'string' || !FUNCTION_NAME.test(tool.name)) throw invalid(`${at}.name must be 1-64 letters, digits, _ or -.`, `${at}.name`);
    if (tool.description !== undefined && tool.description !== null && typeof tool.description !== 'string') throw invalid(`${at}.description must be a string.`, `${at}.description`);
    if (tool.parameters !== undefined && tool.parameters !== null && !isObject(tool.parameters)) throw invalid(`${at}.parameters must be a JSON Schema object.`, `${at}.parameters`);
    if (tool.strict !== undefined && tool.strict !== null && typeof tool.strict !== 'boolean') throw invalid(`${at}.strict must be a boolean.`, `${at}.strict`);
  });
}

function checkToolChoice(choice: unknown): void {
  if (choice === undefined || choice === null) return;
  if (typeof choice === 'string') {
    if (!TOOL_CHOICE_STRINGS.has(choice)) throw invalid('tool_choice must be none, auto, required or an object.', 'tool_choice');
    return;
  }
  if (!isObject(choice) || typeof choice.type !== 'string') throw invalid('tool_choice must be none, auto, required or an object with a type.', 'tool_choice');
  if (choice.type === 'function' && typeof choice.name !== 'string') throw invalid('tool_choice.name must be a string.', 'tool_choice.name');
}

function checkText(text: unknown): void {
  if (text === undefined || text === null) return;
  if (!isObject(text)) throw invalid('text must be an object.', 'text');
  const format = text.format;
  if (format === undefined || format === null) return;
  if (!isObject(format) || typeof format.type !== 'string' || !FORMAT_TYPES.has(format.type)) {
    throw invalid('text.format.type must be one of text, json_object, json_schema.', 'text.format.type');
  }
  if (format.type === 'json_schema') {
    if (typeof format.name !== 'string' || format.name.length === 0) throw invalid('Missing required parameter: text.format.name.', 'text.format.name');
    if (!isObject(format.schema)) throw invalid('Missing required parameter: text.format.schema.', 'text.format.schema');
  }
}

function checkReasoning(reasoning: unknown): void {
  if (reasoning === undefined || reasoning === null) return;
  if (!isObject(reasoning)) throw invalid('reasoning must be an object.', 'reasoning');
  if (reasoning.effort !== undefined && reasoning.effort !== null && !EFFORTS.has(reasoning.effort as string)) {
    throw invalid(`reasoning.effort must be one of ${[...EFFORTS].join(', ')}.`, 'reasoning.effort');
  }
  if (reasoning.summary !== undefined && reasoning.summary !== null && !SUMMARIES.has(reasoning.summary as string)) {
    throw invalid('reasoning.summary must be one of auto, concise, detailed.', 'reasoning.summary');
  }
}

function checkMetadata(metadata: unknown): void {
  if (metadata === undefined || metadata === null) return;
  if (!isObject(metadata)) throw invalid('metadata must be an object.', 'metadata');
  const entries = Object.entries(metadata);
  if (entries.length > 16) throw invalid('metadata may have at most 16 keys.', 'metadata');
  for (const [k, v] of entries) if (typeof v !== 'string') throw invalid(`metadata.${k} must be a string.`, 'metadata');
}

function optionalType(body: Json, key: string, type: 'string' | 'boolean' | 'object', nullable = false): void {
  const v = body[key];
  if (v === undefined || (nullable && v === null)) return;
  const ok = type === 'object' ? isObject(v) : typeof v === type;
  if (!ok) throw invalid(`${key} must be ${type === 'object' ? 'an object' : `a ${type}`}.`, key);
}

function range(body: Json, key: string, min: number, max: number): void {
  const v = body[key];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw invalid(`${key} must be a number from ${min} to ${max}.`, key);
}

/**
 * Every text policy reads, as paths into the wire body: instructions, each input text (message
 * texts, function-call arguments and outputs, reasoning summaries), tool and parameter descriptions.
 */
export function responsesSegments(wire: ResponsesWire): TextSegment[] {
  const out: TextSegment[] = [];
  const add = (path: string, v: unknown): void => {
    if (typeof v === 'string' && v.length > 0) out.push({ path, text: v });
  };
  const b = wire as unknown as Json;
  add('instructions', b.instructions);
  if (typeof b.input === 'string') add('input', b.input);
  else if (Array.isArray(b.input)) {
    b.input.forEach((item: unknown, i) => {
      if (!isObject(item)) return;
      const at = `input[${i}]`;
      const parts = (list: unknown, key: string) => {
        if (!Array.isArray(list)) return;
        list.forEach((p: unknown, j) => {
          if (!isObject(p)) return;
          add(`${at}.${key}[${j}].text`, p.text);
          add(`${at}.${key}[${j}].refusal`, p.refusal);
        });
      };
      if (typeof item.content === 'string') add(`${at}.content`, item.content);
      else parts(item.content, 'content');
      add(`${at}.arguments`, item.arguments);
      if (typeof item.output === 'string') add(`${at}.output`, item.output);
      else parts(item.output, 'output');
      parts(item.summary, 'summary');
    });
  }
  if (Array.isArray(b.tools)) {
    b.tools.forEach((tool: unknown, i) => {
      if (!isObject(tool)) return;
      add(`tools[${i}].name`, tool.name);
      add(`tools[${i}].description`, tool.description);
      schemaText(`tools[${i}].parameters`, tool.parameters, add);
    });
  }
  // What chat scans too: the output schema the model follows, metadata values and the end-user id.
  if (isObject(b.text) && isObject(b.text.format)) {
    add('text.format.description', b.text.format.description);
    schemaText('text.format.schema', b.text.format.schema, add);
  }
  if (isObject(b.metadata)) for (const k of Object.keys(b.metadata)) add(keyPath('metadata', k), b.metadata[k]);
  add('user', b.user);
  add('safety_identifier', b.safety_identifier);
  return out;
}

/** `description` strings anywhere in a JSON Schema (properties, items, anyOf …), bounded in depth. */
