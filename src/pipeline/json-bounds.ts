/**
 * Shape bounds of a parsed request body, checked before anything walks it recursively (a deep
 * nest would overflow the stack in JSON.stringify and answer 500). Iterative, one pass, O(nodes).
 *
 * | limit             | value   | why                                                          |
 * |-------------------|---------|--------------------------------------------------------------|
 * | nesting depth     | 64      | real requests (JSON schemas in tools included) nest < 20     |
 * | array length      | 100,000 | above OpenAI's own limits (2,048 inputs, 128 tools, ...)     |
 */
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
