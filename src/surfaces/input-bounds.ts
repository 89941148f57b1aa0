/**
 * Bounds of a request body, whatever its API. Shape bounds of the parsed body, checked before anything walks it recursively (a deep
 * nest would overflow the stack in JSON.stringify and answer 500). Iterative, one pass, O(nodes).
 *
 * | limit             | value   | why                                                          |
 * |-------------------|---------|--------------------------------------------------------------|
 * | nesting depth     | 64      | real requests (JSON schemas in tools included) nest < 20     |
 * | array length      | 100,000 | above OpenAI's own limits (2,048 inputs, 128 tools, ...)     |
 */
import { GatewayError } from '../errors.js';

export const MAX_JSON_DEPTH = 64;
export const MAX_ARRAY_LENGTH = 100_000;

export interface ShapeViolation {
  message: string;
  /** The top-level field it lies under (OpenAI's `param`), or null for the body itself. */
  param: string | null;
}

/** The first bound `body` breaks, or null. */
export function checkJsonBounds(body: unknown): ShapeViolation | null {
  if (body === null || typeof body !== 'object') return null;
  // [value, depth, top-level key]
  const stack: [unknown, number, string | null][] = [[body, 1, null]];
  while (stack.length > 0) {
    const [v, depth, top] = stack.pop()!;
    if (depth > MAX_JSON_DEPTH) return { message: `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`, param: top };
    if (Array.isArray(v)) {
      if (v.length > MAX_ARRAY_LENGTH) return { message: `${top ?? 'An array'} has more than ${MAX_ARRAY_LENGTH} items.`, param: top };
      for (const x of v) if (x !== null && typeof x === 'object') stack.push([x, depth + 1, top]);
    } else {
      for (const k in v as Record<string, unknown>) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== null && typeof x === 'object') stack.push([x, depth + 1, top ?? k]);
      }
    }
  }
  return null;
}

/**
 * Output-token parameters above this are refused when the model's own limit is unknown (no
 * model writes a million tokens in one answer today; the bound keeps cost estimates finite).
 */
export const MAX_OUTPUT_TOKENS_CAP = 1_000_000;

/** The output-token parameter of each surface: chat, Messages and Responses. */
const OUTPUT_BOUND_KEYS = ['max_completion_tokens', 'max_tokens', 'max_output_tokens'] as const;

/**
 * Refuses an output-token parameter above `limit` (the model's max output when known, else
 * MAX_OUTPUT_TOKENS_CAP), naming it. Surfaces call it while parsing; the route stage again once
 * the model is known.
 */
export function checkMaxTokens(body: object, limit: number | undefined): void {
  const b = body as Record<string, unknown>;
  const cap = limit !== undefined && limit > 0 ? Math.min(limit, MAX_OUTPUT_TOKENS_CAP) : MAX_OUTPUT_TOKENS_CAP;
  for (const key of OUTPUT_BOUND_KEYS) {
    const v = b[key];
    if (typeof v === 'number' && v > cap) {
      throw new GatewayError('invalid_request', `${key} is ${v}, above this model's maximum output of ${cap} tokens.`, { param: key });
    }
  }
}
