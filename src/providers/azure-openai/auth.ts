/**
 * Azure OpenAI's URL layout and credential. The operator configures the resource endpoint
 * (`https://myres.openai.azure.com`, optionally ending in `/openai`); the model's upstream name is
 * the deployment name. The config schema has no field for the API version, so it is read from an
 * `api-version` query parameter on `base_url` (e.g. `https://myres.openai.azure.com?api-version=2025-01-01-preview`)
 * and defaults to a GA version that supports `stream_options.include_usage`.
 */
import { GatewayError } from '../../errors.js';
import type { UpstreamTarget } from '../adapter.js';

export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

/** Azure takes the key in `api-key`, not `Authorization` (operators using Entra ID put a bearer in `headers`). */
export function azureHeaders(target: UpstreamTarget): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...target.provider.headers };
  if (target.provider.api_key) headers['api-key'] = target.provider.api_key;
  return headers;
}

/**
 * The absolute URL of one deployment operation, with `api-version` (and any other query the
 * operator put on `base_url`) as the query string.
 *
 * @example azureUrl(target, 'chat/completions')
 * // https://myres.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21
 */
export function azureUrl(target: UpstreamTarget, operation: 'chat/completions' | 'embeddings'): string {
  let base: URL;
  try {
    base = new URL(target.baseUrl);
  } catch {
    throw new GatewayError(
      'provider_not_configured',
      `Provider "${target.providerName}" (azure-openai) needs base_url set to the resource endpoint, e.g. https://myres.openai.azure.com`,
    );
  }
  const query = new URLSearchParams(base.search);
  if (!query.get('api-version')) query.set('api-version', DEFAULT_AZURE_API_VERSION);
  const root = base.origin + base.pathname.replace(/\/+$/, '').replace(/\/openai$/, '');
  return `${root}/openai/deployments/${encodeURIComponent(target.upstreamModel)}/${operation}?${query.toString()}`;
}
