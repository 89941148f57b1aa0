import type { UpstreamTarget } from '../adapter.js';
import { ANTHROPIC_VERSION } from './wire.js';

/**
 * Anthropic takes the credential in `x-api-key` (not a bearer token) and requires a pinned
 * `anthropic-version`. Configured headers may override the version or add `anthropic-beta`;
 * their names are lower-cased so an override replaces the default instead of duplicating it.
 */
export function anthropicHeaders(target: UpstreamTarget): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': ANTHROPIC_VERSION };
  for (const [name, value] of Object.entries(target.provider.headers ?? {})) headers[name.toLowerCase()] = value;
  if (target.provider.api_key) headers['x-api-key'] = target.provider.api_key;
  return headers;
}
