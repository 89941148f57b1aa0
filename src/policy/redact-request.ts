/**
 * Between the wire body and the policy engine: `segmentsOf` lists the text a policy reads, with
 * the path of each piece; `applyRedactions` masks spans at those paths in a copy of the body.
 */
import { redact } from './detectors/redact.js';
import type { Finding } from './detectors/types.js';
import type { Redaction, TextSegment } from './types.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Text segments of an OpenAI chat body (string contents, text parts, tool-call and legacy
 * function-call arguments, tool results) or an embeddings body (a string or a list of strings;
 * token-id inputs carry no text). Empty strings are skipped.
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
    return out;
  }
  if (!Array.isArray(b.messages)) return out;
  b.messages.forEach((m: unknown, i) => {
    if (!isObject(m)) return;
    const base = `messages[${i}]`;
    if (Array.isArray(m.content)) {
      m.content.forEach((part: unknown, j) => {
        if (isObject(part) && part.type === 'text') add(`${base}.content[${j}].text`, part.text);
      });
    } else add(`${base}.content`, m.content);
    if (Array.isArray(m.tool_calls)) {
      m.tool_calls.forEach((c: unknown, k) => {
        if (isObject(c) && isObject(c.function)) add(`${base}.tool_calls[${k}].function.arguments`, c.function.arguments);
      });
    }
    if (isObject(m.function_call)) add(`${base}.function_call.arguments`, m.function_call.arguments);
  });
  return out;
}

/**
 * `messages[0].content[1].text` → ['messages', 0, 'content', 1, 'text']. A key that is not an
 * identifier (a tool argument named `user-id`, say) is written as a JSON string in brackets:
 * `input["user-id"]` → ['input', 'user-id'].
 */
export function parsePath(path: string): (string | number)[] {
  const keys: (string | number)[] = [];
  const re = /\[("(?:[^"\\]|\\.)*")\]|([A-Za-z_$][\w$]*)|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) {
    if (m[1] !== undefined) keys.push(quotedKey(m[1]));
    else keys.push(m[2] !== undefined ? m[2] : Number(m[3]));
  }
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
