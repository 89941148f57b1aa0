/**
 * The Anthropic Messages surface: `POST /v1/messages`, `POST /v1/messages/count_tokens`, and
 * `GET /v1/models` in Anthropic's shape. Native for provider type `anthropic` (the body goes
 * upstream as sent, model replaced); translated through the OpenAI chat pivot for every other.
 */
import { renderError } from './errors.js';
import { nativeCountTokensRequest, nativeRequest, observeNative, observeNativeStream } from './native.js';
import { parseCountTokensRequest, parseMessagesRequest } from './parse.js';
import { countTokensResponse, estimateMessagesInputTokens } from './count.js';
import { renderCompletion, renderModelList } from './render.js';
import { MessagesStreamEncoder, type StreamEncoderOptions } from './stream-encoder.js';
import { toChat } from './to-chat.js';
import type { MessagesWire, StreamEncoder } from './types.js';

export type { MessagesWire, ParsedSurfaceRequest, StreamEncoder } from './types.js';

export const anthropicMessagesSurface = {
  name: 'anthropic-messages',
  /** Provider types that receive the client's body natively. */
  nativeProviderTypes: ['anthropic'] as readonly string[],
  parse: parseMessagesRequest,
  parseCountTokens: parseCountTokensRequest,
  toChat,
  nativeRequest,
  nativeCountTokensRequest,
  observeNative,
  observeNativeStream,
  renderCompletion,
  streamEncoder: (wire: MessagesWire, options?: StreamEncoderOptions): StreamEncoder => new MessagesStreamEncoder(wire, options),
  renderError,
  countTokensResponse,
  estimateInputTokens: estimateMessagesInputTokens,
  renderModelList,
} as const;
