import type { UpstreamTarget } from '../adapter.js';

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

/**
 * The key goes in `x-goog-api-key`, never in `?key=`: URLs end up in proxy and access logs.
 * It is set last so that a stray `headers` entry cannot replace the configured credential.
 */
export function geminiHeaders(target: UpstreamTarget): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...target.provider.headers };
  if (target.provider.api_key) headers['x-goog-api-key'] = target.provider.api_key;
  return headers;
}

/**
 * `${root}/v1beta/models/<model>:<method>`. A base URL that already names an API version
 * (`…/v1beta`, `…/v1`) is used as is, and a model given as `models/x` or `tunedModels/x` keeps
 * its collection, so operators can paste names from Google's docs.
 */
export function geminiMethodUrl(target: UpstreamTarget, method: string): string {
  const base = (target.baseUrl || GEMINI_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const root = /\/v1(beta|alpha)?$/.test(base) ? base : `${base}/v1beta`;
  return `${root}/${geminiModelName(target.upstreamModel)}:${method}`;
}

/** The resource name Gemini expects in URLs and in embedding requests: `models/<id>`. */
export function geminiModelName(model: string): string {
  if (model.startsWith('models/') || model.startsWith('tunedModels/')) return model;
  return `models/${encodeURIComponent(model)}`;
}
