/** Provider type → adapter, and the default API root of each type. */
import type { ProviderConfig, ProviderType } from '../config/schema.js';
import type { ProviderAdapter } from './adapter.js';
import { anthropicAdapter } from './anthropic/index.js';
import { azureOpenAIAdapter } from './azure-openai/index.js';
import { cohereAdapter } from './cohere/index.js';
import { geminiAdapter } from './gemini/index.js';
import { openAIAdapter } from './openai/index.js';

const ADAPTERS: Partial<Record<ProviderType, ProviderAdapter>> = {
  openai: openAIAdapter,
  'openai-compatible': openAIAdapter,
  demo: openAIAdapter,
  anthropic: anthropicAdapter,
  cohere: cohereAdapter,
  gemini: geminiAdapter,
  'azure-openai': azureOpenAIAdapter,
};

const DEFAULT_BASE_URLS: Partial<Record<ProviderType, string>> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
  cohere: 'https://api.cohere.com',
};

export function adapterFor(type: ProviderType): ProviderAdapter | undefined {
  return ADAPTERS[type];
}

/** The provider's API root without a trailing slash, or undefined when the type has no default. */
export function baseUrlFor(provider: ProviderConfig): string | undefined {
  const url = provider.base_url ?? DEFAULT_BASE_URLS[provider.type];
  return url?.replace(/\/+$/, '');
}
