/**
 * The OpenAI Responses surface (`POST /v1/responses`, `GET`/`DELETE /v1/responses/{id}`):
 * native for provider type `openai`, translated through the chat pivot for every other.
 */
import { expandPrevious, inputItems, nativeWire, renderStored, responseNotFound, shouldStore, toStored, withExpandedInput } from './conversation.js';
import { ResponsesStreamEncoder } from './encode-stream.js';
import { nativeRequest } from './native.js';
import { observeNative, ResponsesStreamObserver } from './observe.js';
import { parseResponsesRequest, responsesSegments } from './parse.js';
import { renderCompletion, renderError } from './render.js';
import { responsesToChat } from './to-chat.js';
import type { ResponsesSurface } from './types.js';

export const openaiResponsesSurface: ResponsesSurface = {
  name: 'openai-responses',
  nativeProviderTypes: ['openai'],
  parse: parseResponsesRequest,
  toChat: responsesToChat,
  nativeRequest,
  observeNative,
  observeNativeStream: (target) => new ResponsesStreamObserver(target),
  renderCompletion: (completion, wire, options) => renderCompletion(completion, wire, options),
  streamEncoder: (wire, options) => new ResponsesStreamEncoder(wire, options),
  renderError,
};

export { expandPrevious, inputItems, nativeWire, renderStored, responseNotFound, responsesSegments, shouldStore, toStored, withExpandedInput, ResponsesStreamEncoder };
export type { ParsedSurfaceRequest, ResponsesWire, StreamEncoder } from './types.js';
