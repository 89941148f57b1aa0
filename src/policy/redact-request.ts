/**
 * Between the wire body and the policy engine: `segmentsOf` lists the text a policy reads, with
 * the path of each piece; `applyRedactions` masks spans at those paths in a copy of the body.
 */
import { redact } from './detectors/redact.js';
import type { Finding } from './detectors/types.js';
import type { Redaction, TextSegment } from './types.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Deepest JSON schema level whose descriptions are read (a schema is bounded anyway, see surfaces/input-bounds.ts). */
const MAX_SCHEMA_DEPTH = 16;

/** `.key` when the key is an identifier, else `["key"]`: parsePath reads both. */
export function keyPath(base: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/**
 * Text segments of a body: everything the model reads as text, with its path. Chat: string
 * contents; text parts (`text`, `input_text`), refusal parts and file names of `file` parts (not
 * image URLs, file data or audio); message `name`s; tool-call and legacy function-call
 * arguments; tool results; tool names and descriptions and every `description` / `title` inside
 * their parameter schemas (to MAX_SCHEMA_DEPTH); `response_format.json_schema` description and
 * schema descriptions; `prediction` content; `stop` sequences; `metadata` values; `user`.
 * Embeddings: a string or a list of strings (token-id inputs carry no text). Empty strings are
 * skipped.
 */
export function segmentsOf(body: object, endpoint: 'chat' | 'embeddings'): TextSegment[] {
  const out: TextSegment[] = [];
  const add = (path: string, v: unknown): void => {
    if (typeof v === 'string' && v.length > 0) out.push({ path, text: v });
  };
  const b = body as Json;
  if (endpoint === 'embeddings') {
    if (Array.isArray(b.input)) b.input.forEach((v, i) => add(`input[${i}]`, v));
    else add('input', b.input);
    add('user', b.user);
    return out;
  }
  const parts = (base: string, content: unknown): void => {
    if (!Array.isArray(content)) return add(base, content);
    content.forEach((part: unknown, j) => {
      const at = `${base}[${j}]`;
      if (typeof part === 'string') return add(at, part);
      if (!isObject(part)) return;
      if (part.type === 'text' || part.type === 'input_text' || part.type === 'output_text') add(`${at}.text`, part.text);
      else if (part.type === 'refusal') add(`${at}.refusal`, part.refusal);
      else if (part.type === 'file' && isObject(part.file)) add(`${at}.file.filename`, part.file.filename);
    });
  };
  if (Array.isArray(b.messages)) {
    b.messages.forEach((m: unknown, i) => {
      if (!isObject(m)) return;
      const base = `messages[${i}]`;
      add(`${base}.name`, m.name);
      parts(`${base}.content`, m.content);
      add(`${base}.refusal`, m.refusal);
      if (Array.isArray(m.tool_calls)) {
        m.tool_calls.forEach((c: unknown, k) => {
          if (isObject(c) && isObject(c.function)) add(`${base}.tool_calls[${k}].function.arguments`, c.function.arguments);
        });
      }
      if (isObject(m.function_call)) add(`${base}.function_call.arguments`, m.function_call.arguments);
    });
  }
  if (Array.isArray(b.tools)) {
    b.tools.forEach((t: unknown, i) => {
      if (!isObject(t) || !isObject(t.function)) return;
      const base = `tools[${i}].function`;
      add(`${base}.name`, t.function.name);
      add(`${base}.description`, t.function.description);
      schemaText(`${base}.parameters`, t.function.parameters, add);
    });
  }
  if (isObject(b.response_format) && isObject(b.response_format.json_schema)) {
    const js = b.response_format.json_schema;
    add('response_format.json_schema.description', js.description);
    schemaText('response_format.json_schema.schema', js.schema, add);
  }
  if (isObject(b.prediction)) parts('prediction.content', b.prediction.content);
  if (Array.isArray(b.stop)) b.stop.forEach((s, i) => add(`stop[${i}]`, s));
  else add('stop', b.stop);
  if (isObject(b.metadata)) for (const k of Object.keys(b.metadata)) add(keyPath('metadata', k), b.metadata[k]);
  add('user', b.user);
  return out;
}

/** `description` and `title` strings anywhere in a JSON schema, iteratively, to MAX_SCHEMA_DEPTH. */
export function schemaText(path: string, schema: unknown, add: (path: string, v: unknown) => void): void {
  const stack: [string, unknown, number][] = [[path, schema, 0]];
  while (stack.length > 0) {
    const [p, node, depth] = stack.pop()!;
    if (depth > MAX_SCHEMA_DEPTH) continue;
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([`${p}[${i}]`, node[i], depth + 1]);
      continue;
    }
    if (!isObject(node)) continue;
    const keys = Object.keys(node);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i];
      const v = node[k];
      if ((k === 'description' || k === 'title') && typeof v === 'string') add(keyPath(p, k), v);
      else if (v !== null && typeof v === 'object') stack.push([keyPath(p, k), v, depth + 1]);
    }
  }
}

/** `messages[0].content[1].text` → ['messages', 0, 'content', 1, 'text']; `metadata["a-b"]` → ['metadata', 'a-b']. */
export function parsePath(path: string): (string | number)[] {
  const keys: (string | number)[] = [];
  const re = /([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) keys.push(m[1] !== undefined ? m[1] : m[2] !== undefined ? Number(m[2]) : quotedKey(m[3]!));
  return keys;
}

function quotedKey(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1); // not valid JSON escapes: the text between the quotes
  }
}

/**
 * A copy of `body` with every span replaced by `[REDACTED:<type>]` (overlapping spans merged).
 * Only the containers on a redacted path are copied; the original is never modified. Paths
 * that do not lead to a string are ignored. With no redactions the body itself is returned.
 */
export function applyRedactions<T extends object>(body: T, redactions: readonly Redaction[]): T {
  if (redactions.length === 0) return body;
  const byPath = new Map<string, Finding[]>();
  for (const r of redactions) {
    const list = byPath.get(r.path) ?? [];
    list.push({ detector: 'terms', type: r.type, start: r.start, end: r.end, confidence: 1 });
    byPath.set(r.path, list);
  }
  const copied = new WeakSet<object>();
  const copy = <V extends object>(v: V): V => {
    const c = (Array.isArray(v) ? v.slice() : { ...v }) as V;
    copied.add(c);
    return c;
  };
  const root = copy(body) as unknown as Record<string | number, unknown>;
  for (const [path, findings] of byPath) {
    const keys = parsePath(path);
    if (keys.length === 0) continue;
    let node = root;
    let ok = true;
    for (let i = 0; i < keys.length - 1; i++) {
      let child = node[keys[i]];
      if (child === null || typeof child !== 'object') {
        ok = false;
        break;
      }
      if (!copied.has(child)) node[keys[i]] = child = copy(child);
      node = child as Record<string | number, unknown>;
    }
    const leaf = keys[keys.length - 1];
    if (ok && typeof node[leaf] === 'string') node[leaf] = redact(node[leaf] as string, findings);
  }
  return root as unknown as T;
}
