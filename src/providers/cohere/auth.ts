import type { UpstreamTarget } from '../adapter.js';

/** Cohere takes the credential as a bearer token; extra provider headers go along. */
export function cohereHeaders(target: UpstreamTarget): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...target.provider.headers };
  if (target.provider.api_key) headers.authorization = `Bearer ${target.provider.api_key}`;
  return headers;
}

/**
 * The absolute URL of a v2 endpoint. An operator may write the base as `https://api.cohere.com/v2`
 * (as Cohere's SDKs print it); the version suffix is dropped so the path is never doubled.
 *
 * @example cohereUrl(target, 'chat') // https://api.cohere.com/v2/chat
 */
export function cohereUrl(target: UpstreamTarget, endpoint: 'chat' | 'embed'): string {
  const root = target.baseUrl.replace(/\/+$/, '').replace(/\/v[12]$/, '');
  return `${root}/v2/${endpoint}`;
}
