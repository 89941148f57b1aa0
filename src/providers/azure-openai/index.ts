/**
 * Azure OpenAI: OpenAI's wire format on Azure's URL layout. Only the URL, the credential header
 * and `api-version` differ, so the OpenAI adapter's translation functions do all the body work.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { GatewayError } from '../../errors.js';
import type { ProviderAdapter, SseEvent, StreamTranslator, UpstreamRequest, UpstreamTarget } from '../adapter.js';
import { openAIChatRequest, openAIChatResponse } from '../openai/chat.js';
import { openAIEmbeddingsRequest, openAIEmbeddingsResponse } from '../openai/embed.js';
import { OpenAIStreamTranslator } from '../openai/stream.js';
import { mapUpstreamError, readErrorBody } from '../upstream-errors.js';
import { azureHeaders, azureUrl } from './auth.js';

export const azureOpenAIAdapter: ProviderAdapter = {
  chatRequest: (body, target) => onAzure(openAIChatRequest(body, withoutModel(target)), target, 'chat/completions'),
  chatResponse: openAIChatResponse,
  chatStream: (target) => new AzureStreamTranslator(target),
  embeddingsRequest: (body, target) => onAzure(openAIEmbeddingsRequest(body, withoutModel(target)), target, 'embeddings'),
  embeddingsResponse: openAIEmbeddingsResponse,
  // Azure errors are OpenAI's `{"error":{"code","message"}}` (codes like DeploymentNotFound, content_filter).
  mapError: (status, body, headers, target) => mapUpstreamError(target.providerName, status, headers, readErrorBody(body)),
  // Azure's API Management gateway stamps `apim-request-id`; some regions also send `x-request-id`.
  requestId: (headers: IncomingHttpHeaders) => first(headers['apim-request-id']) ?? first(headers['x-request-id']),
};

/**
 * Azure routes by the deployment in the URL and ignores `model`, so the body leaves it out:
 * JSON.stringify drops an undefined member, and this avoids re-parsing the OpenAI body.
 */
function withoutModel(target: UpstreamTarget): UpstreamTarget {
  return { ...target, upstreamModel: undefined as unknown as string };
}

function onAzure(req: UpstreamRequest, target: UpstreamTarget, operation: 'chat/completions' | 'embeddings'): UpstreamRequest {
  return { ...req, url: azureUrl(target, operation), headers: azureHeaders(target) };
}

/**
 * OpenAI's stream, less Azure's content-filter preamble: a first chunk with `choices: []`,
 * no usage and an empty id/model, which clients and the gateway would mistake for a usage chunk.
 */
export class AzureStreamTranslator implements StreamTranslator {
  private readonly inner: OpenAIStreamTranslator;

  constructor(target: UpstreamTarget) {
    this.inner = new OpenAIStreamTranslator(target);
  }

  get error(): GatewayError | undefined {
    return this.inner.error;
  }

  push(event: SseEvent): ChatCompletionChunk[] {
    return this.inner.push(event).filter((c) => c.choices.length > 0 || c.usage != null);
  }

  end(): ChatCompletionChunk[] {
    return this.inner.end();
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
