import type { UpstreamTarget } from '../adapter.js';

/** OpenAI and compatible hosts take the credential as a bearer token; keyless local hosts take none. */
export function openAIHeaders(target: UpstreamTarget): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...target.provider.headers };
  if (target.provider.api_key) headers.authorization = `Bearer ${target.provider.api_key}`;
  return headers;
}
