/**
 * Input-token estimates for a Messages body, with the gateway's tokenizers (budget/tokens.ts):
 * the count_tokens answer for models that are not Anthropic's, and the estimate the runner needs
 * before forwarding (budget holds, token quotas) for any model.
 */
import { estimateInputTokens } from '../../budget/tokens.js';
import { toChat } from './to-chat.js';
import type { Block, MessagesWire } from './types.js';

type Part = { type: 'text'; text: string } | { type: 'image' };

/**
 * count_tokens for a model that is not Anthropic's: the estimate of the translated request. A
 * request the model could not be sent (a server tool, say) is refused the same way here.
 * @example countTokensResponse({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] }) // { input_tokens: 9 }
 */
export function countTokensResponse(wire: MessagesWire, upstreamModel: string = wire.model): { input_tokens: number } {
  return { input_tokens: estimateInputTokens(toChat(wire) as { messages: unknown[]; tools?: unknown[] }, upstreamModel) };
}

/**
 * The input-token estimate of a body as sent natively (nothing refused): system, text, thinking,
 * tool calls (name and input JSON), tool results, text documents, server-tool results (as JSON)
 * and tool definitions; images at the flat per-image rate. Base64 PDFs are not counted, as
 * files are not for chat (see budget/tokens.ts).
 */
export function estimateMessagesInputTokens(wire: MessagesWire, upstreamModel: string): number {
  const messages: unknown[] = [];
  const system = typeof wire.system === 'string' ? wire.system : (wire.system ?? []).map((b) => b.text as string).join('\n');
  if (system) messages.push({ role: 'system', content: system });
  for (const m of wire.messages) messages.push({ role: m.role, content: typeof m.content === 'string' ? m.content : m.content.flatMap(parts) });
  return estimateInputTokens({ messages, tools: wire.tools }, upstreamModel);
}

function parts(b: Block): Part[] {
  const text = (t: unknown): Part[] => (typeof t === 'string' && t ? [{ type: 'text', text: t }] : []);
  switch (b.type) {
    case 'text':
      return text(b.text);
    case 'image':
      return [{ type: 'image' }];
    case 'thinking':
      return text(b.thinking);
    case 'redacted_thinking':
      return text(b.data);
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use':
      return text(`${b.name as string}${JSON.stringify(b.input)}`);
    case 'tool_result':
    case 'search_result':
      return typeof b.content === 'string' ? text(b.content) : Array.isArray(b.content) ? (b.content as Block[]).flatMap(parts) : [];
    case 'document': {
      const source = b.source as { type?: string; data?: unknown; content?: unknown };
      if (source.type === 'text') return text(source.data);
      if (source.type === 'content') return typeof source.content === 'string' ? text(source.content) : ((source.content ?? []) as Block[]).flatMap(parts);
      return [];
    }
    default:
      return b.content === undefined ? [] : text(JSON.stringify(b.content));
  }
}
