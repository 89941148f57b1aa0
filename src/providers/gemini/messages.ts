/**
 * OpenAI `messages` → Gemini `contents` + `systemInstruction`. Gemini has two roles (user,
 * model), wants them alternating, carries tool results as `functionResponse` parts of a user
 * turn, and keys those results by function name rather than by call id.
 */
import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { GatewayError } from '../../errors.js';
import type { GeminiContent, GeminiPart, SignatureCarrier } from './wire.js';

export interface GeminiConversation {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
}

/**
 * Gemini 3 rejects a replayed function call without its thought signature. When the client did
 * not hand the real one back, Google documents this value as the way to skip the check (e.g. for
 * history produced by another model).
 */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

export function toGeminiConversation(messages: ChatCompletionMessageParam[]): GeminiConversation {
  if (!Array.isArray(messages)) throw invalid('`messages` must be an array', 'messages');
  const system: Array<{ text: string }> = [];
  const contents: GeminiContent[] = [];
  // tool_call_id → function name, overwritten turn by turn so a tool message finds the latest call.
  const callNames = new Map<string, string>();
  const push = (role: 'user' | 'model', parts: GeminiPart[]) => {
    if (parts.length === 0) return; // Gemini rejects a turn without parts.
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
      case 'developer':
        // Gemini has one system instruction; mid-conversation system messages join it.
        for (const text of texts(m.content, i)) if (text) system.push({ text });
        break;
      case 'user':
        push('user', userParts(m.content, i));
        break;
      case 'assistant':
        push('model', assistantParts(m, i, callNames));
        break;
      case 'tool': {
        const name = callNames.get(m.tool_call_id);
        if (!name) throw invalid(`messages[${i}].tool_call_id "${m.tool_call_id}" matches no earlier assistant tool call`, `messages[${i}].tool_call_id`);
        push('user', [functionResponse(name, texts(m.content, i).join(''))]);
        break;
      }
      case 'function':
        push('user', [functionResponse(m.name, m.content ?? '')]);
        break;
      default:
        throw invalid(`messages[${i}].role "${(m as { role: string }).role}" is not supported`, `messages[${i}].role`);
    }
  });

  if (contents.length === 0) throw invalid('Gemini needs at least one user or assistant message', 'messages');
  return system.length > 0 ? { contents, systemInstruction: { parts: system } } : { contents };
}

function texts(content: string | Array<{ type: string; text?: string }> | null | undefined, i: number): string[] {
  if (content == null) return [];
  if (typeof content === 'string') return [content];
  return content.map((p, j) => {
    if (p.type === 'text' && typeof p.text === 'string') return p.text;
    throw invalid(`messages[${i}].content[${j}] must be a text part`, `messages[${i}].content`);
  });
}

function userParts(content: string | ChatCompletionContentPart[], i: number): GeminiPart[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  if (!Array.isArray(content)) throw invalid(`messages[${i}].content must be a string or an array`, `messages[${i}].content`);
  return content.map((part, j): GeminiPart => {
    const param = `messages[${i}].content[${j}]`;
    switch (part.type) {
      case 'text':
        return { text: part.text };
      case 'image_url':
        return mediaPart(part.image_url.url, 'image/jpeg', param);
      case 'input_audio':
        return { inlineData: { mimeType: `audio/${part.input_audio.format}`, data: part.input_audio.data } };
      case 'file': {
        const data = part.file.file_data;
        // OpenAI file ids name files in OpenAI's store; Gemini cannot read them.
        if (!data) throw invalid(`${param}: only inline file_data can be sent to Gemini, not file_id`, param);
        if (data.startsWith('data:')) return mediaPart(data, 'application/pdf', param);
        return { inlineData: { mimeType: guessMime(part.file.filename ?? '', 'application/pdf'), data } };
      }
      default:
        throw invalid(`${param}: part type "${(part as { type: string }).type}" is not supported by Gemini`, param);
    }
  });
}

/** data: URLs travel inline; http(s) URLs as fileData, which Gemini fetches itself. */
function mediaPart(url: string, fallbackMime: string, param: string): GeminiPart {
  const m = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (m) {
    const mimeType = m[1] || fallbackMime;
    const isBase64 = /;base64$/i.test(m[2] ?? '');
    const data = isBase64 ? m[3]! : Buffer.from(decodeURIComponent(m[3]!), 'utf8').toString('base64');
    return { inlineData: { mimeType, data } };
  }
  if (/^https?:\/\//i.test(url)) return { fileData: { mimeType: guessMime(url, fallbackMime), fileUri: url } };
  throw invalid(`${param}: expected a data: or http(s) URL`, param);
}

const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  mp4: 'video/mp4',
};

function guessMime(pathOrUrl: string, fallback: string): string {
  const path = pathOrUrl.split(/[?#]/)[0] ?? '';
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (ext && MIME_BY_EXT[ext]) || fallback;
}

function assistantParts(m: ChatCompletionAssistantMessageParam, i: number, callNames: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  if (typeof m.content === 'string') {
    if (m.content) parts.push({ text: m.content });
  } else if (Array.isArray(m.content)) {
    // Refusal parts were the model's own words; they go back as text.
    for (const p of m.content) parts.push({ text: p.type === 'text' ? p.text : p.refusal });
  }
  const calls: GeminiPart[] = [];
  (m.tool_calls ?? []).forEach((call, j) => {
    if (call.type !== 'function') throw invalid(`messages[${i}].tool_calls[${j}]: only function tool calls are supported by Gemini`, `messages[${i}].tool_calls`);
    callNames.set(call.id, call.function.name);
    const part: GeminiPart = { functionCall: { name: call.function.name, args: parseArgs(call.function.arguments, `messages[${i}].tool_calls[${j}]`) } };
    const signature = (call as SignatureCarrier).extra_content?.google?.thought_signature;
    if (signature) part.thoughtSignature = signature;
    calls.push(part);
  });
  if (m.function_call) calls.push({ functionCall: { name: m.function_call.name, args: parseArgs(m.function_call.arguments, `messages[${i}].function_call`) } });
  // Parallel calls carry one signature, on the first call of the turn.
  if (calls.length > 0 && !calls.some((p) => p.thoughtSignature)) calls[0]!.thoughtSignature = SKIP_SIGNATURE;
  return [...parts, ...calls];
}

/** Gemini's `args` is a JSON object; OpenAI's `arguments` is that object serialized. */
function parseArgs(raw: string, param: string): Record<string, unknown> {
  if (!raw || !raw.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw invalid(`${param}.function.arguments is not valid JSON`, param);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${param}.function.arguments must be a JSON object`, param);
  return value as Record<string, unknown>;
}

/** `response` must be a JSON object: a JSON result is kept as parsed, plain text is wrapped. */
function functionResponse(name: string, text: string): GeminiPart {
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch {
    content = { result: text };
  }
  return { functionResponse: { name, response: { content } } };
}

function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}
