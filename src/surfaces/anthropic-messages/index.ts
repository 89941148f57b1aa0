/**
 * The Anthropic Messages surface: `POST /v1/messages`, `POST /v1/messages/count_tokens`, and
 * `GET /v1/models` in Anthropic's shape. Native for provider type `anthropic` (the body goes
 * upstream as sent, model replaced); translated through the OpenAI chat pivot for every other.
 */
import type { ChatSurface } from '../surface.js';
import { estimateMessagesInputTokens } from './count.js';
import { renderError } from './errors.js';
import { nativeRequest, observeNative, observeNativeStream } from './native.js';
import { parseMessagesRequest } from './parse.js';
import { renderCompletion } from './render.js';
import { messagesSegments } from './segments.js';
import { MessagesStreamEncoder } from './stream-encoder.js';
import { toChat } from './to-chat.js';
import type { MessagesWire } from './types.js';

export type { MessagesWire } from './types.js';
export { countTokensResponse } from './count.js';
export { nativeCountTokensRequest } from './native.js';
export { parseCountTokensRequest } from './parse.js';
export { renderModelList } from './render.js';

export const anthropicMessagesSurface: ChatSurface<MessagesWire> = {
  kind: 'chat',
  name: 'anthropic-messages',
  parse: (raw) => parseMessagesRequest(raw),
  segments: messagesSegments,
  toChat,
  native: {
    providerTypes: new Set(['anthropic']),
    request: (wire, target, inbound) => nativeRequest(wire, target, inbound.headers, new URLSearchParams(inbound.query)),
    observe: observeNative,
    observeStream: observeNativeStream,
  },
  renderCompletion,
  streamEncoder: (wire, { inputTokens }) => new MessagesStreamEncoder(wire, { inputTokens }),
  estimateInputTokens: estimateMessagesInputTokens,
  renderError: (err) => renderError(err),
};
