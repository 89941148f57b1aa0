/** The text inside a JSON value (tool arguments, tool results), as segments detectors can scan. */
import { keyPath } from './redact-request.js';
import type { TextSegment } from './types.js';

/** Every string leaf of a JSON value, with its path (the paths applyRedactions reads). */
export function jsonSegments(value: unknown, path: string, out: TextSegment[] = [], depth = 0): TextSegment[] {
  if (depth > 32) return out;
  if (typeof value === 'string') {
    if (value.length > 0) out.push({ path, text: value });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => jsonSegments(v, `${path}[${i}]`, out, depth + 1));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) jsonSegments(v, keyPath(path, k), out, depth + 1);
  }
  return out;
}
