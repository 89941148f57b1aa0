/**
 * The text of a Messages body that policy reads, each piece with its path into the body so that
 * a redaction lands on the very string it was found in: the system prompt, text blocks, text
 * documents, tool_use inputs (every string leaf at its own path), tool results, thinking text,
 * the readable parts of server-tool results, and tools (descriptions, schema descriptions and
 * titles, example inputs).
 * Paths follow parsePath() in policy/redact-request.ts; keys that are not identifiers are
 * written `["key"]`.
 */
import type { TextSegment } from '../../policy/types.js';
import type { MessagesWire } from './types.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `base` + `.key`, or `["key"]` when the key is not an identifier. */
export function childPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (IDENTIFIER.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

/** Keys of server-tool results that hold ids, encrypted payloads or binary data, not prose. */
const OPAQUE_KEYS = new Set(['type', 'id', 'tool_use_id', 'encrypted_content', 'encrypted_index', 'encrypted_stdout', 'signature', 'media_type', 'file_id', 'url', 'page_age', 'retrieved_at', 'error_code', 'cache_control']);

/** @example messagesSegments({ model: 'm', system: 'Be brief', messages: [{ role: 'user', content: 'Hi' }] }) // [{path:'system',…},{path:'messages[0].content',…}] */
export function messagesSegments(wire: MessagesWire): TextSegment[] {
  const out: TextSegment[] = [];
  const add = (path: string, v: unknown): void => {
    if (typeof v === 'string' && v.length > 0) out.push({ path, text: v });
  };
  if (typeof wire.system === 'string') add('system', wire.system);
  else if (Array.isArray(wire.system)) wire.system.forEach((b, i) => add(`system[${i}].text`, b.text));

  wire.messages.forEach((m, i) => {
    const base = `messages[${i}].content`;
    if (typeof m.content === 'string') add(base, m.content);
    else m.content.forEach((b, j) => blockSegments(b, `${base}[${j}]`, add));
  });

  (wire.tools ?? []).forEach((t, i) => {
    add(`tools[${i}].name`, t.name);
    add(`tools[${i}].description`, t.description);
    // The model reads a schema's descriptions and titles, and the example inputs, as instructions.
    if (isObject(t.input_schema)) {
      walk(t.input_schema, `tools[${i}].input_schema`, (path, key, v) => {
        if (key === 'description' || key === 'title') add(path, v);
      });
    }
    if (Array.isArray(t.input_examples)) walk(t.input_examples, `tools[${i}].input_examples`, (path, _key, v) => add(path, v));
  });
  // As chat's `user`: the end-user id reaches the provider, so a secret or PII in it is judged too.
  if (isObject(wire.metadata)) add('metadata.user_id', wire.metadata.user_id);
  return out;
}

type Add = (path: string, v: unknown) => void;

function blockSegments(b: unknown, base: string, add: Add): void {
  if (!isObject(b)) return;
  switch (b.type) {
    case 'text':
      return add(`${base}.text`, b.text);
    case 'thinking':
      return add(`${base}.thinking`, b.thinking);
    case 'document': {
      add(`${base}.title`, b.title);
      add(`${base}.context`, b.context);
      const source = b.source as Json | undefined;
      if (source?.type === 'text') add(`${base}.source.data`, source.data);
      if (source?.type === 'content') {
        if (typeof source.content === 'string') add(`${base}.source.content`, source.content);
        else if (Array.isArray(source.content)) source.content.forEach((c, k) => blockSegments(c, `${base}.source.content[${k}]`, add));
      }
      return;
    }
    case 'search_result':
      add(`${base}.title`, b.title);
      if (Array.isArray(b.content)) b.content.forEach((c, k) => blockSegments(c, `${base}.content[${k}]`, add));
      return;
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use':
      return walk(b.input, `${base}.input`, (path, _key, v) => add(path, v));
    case 'tool_result':
      if (typeof b.content === 'string') add(`${base}.content`, b.content);
      else if (Array.isArray(b.content)) b.content.forEach((c, k) => blockSegments(c, `${base}.content[${k}]`, add));
      return;
    case 'image':
    case 'redacted_thinking':
    case 'tool_reference':
      return; // binary, encrypted, or a name
    default:
      // Server-tool results (web search, web fetch, code execution): their readable strings.
      return walk(b.content, `${base}.content`, (path, key, v, parent) => {
        if (OPAQUE_KEYS.has(String(key)) || (key === 'data' && parent?.type === 'base64')) return;
        add(path, v);
      });
  }
}

/**
 * Visits every string leaf under `root` with its path, its key and its parent object.
 * Iterative, so a deeply nested body cannot exhaust the stack (and cannot hide text from policy).
 */
function walk(root: unknown, rootPath: string, visit: (path: string, key: string | number, v: string, parent: Json | undefined) => void): void {
  // Entries: value, path, key, parent. Children are pushed in reverse so they pop in document order.
  const stack: Array<[unknown, string, string | number, Json | undefined]> = [[root, rootPath, '', undefined]];
  while (stack.length > 0) {
    const [node, path, key, parent] = stack.pop()!;
    if (typeof node === 'string') visit(path, key, node, parent);
    else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], childPath(path, i), i, undefined]);
    } else if (isObject(node)) {
      const keys = Object.keys(node);
      for (let i = keys.length - 1; i >= 0; i--) stack.push([node[keys[i]!], childPath(path, keys[i]!), keys[i]!, node]);
    }
  }
}
