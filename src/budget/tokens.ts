/**
 * Token estimates before forwarding, for budget reservations and tpm quotas. Provider-reported
 * usage stays the truth; these only have to be close (OpenAI family) or conservative-ish.
 *
 * | family                                   | method                                             |
 * |------------------------------------------|----------------------------------------------------|
 * | gpt-4o*, gpt-4.1*, gpt-4.5*, gpt-5*, o1/o3/o4*, gpt-oss, other gpt-* | gpt-tokenizer o200k_base |
 * | gpt-3.5*, gpt-4, gpt-4-*, text-embedding-*, davinci/babbage | gpt-tokenizer cl100k_base      |
 * | Anthropic (claude*)                      | ceil(chars / 3.5): Claude's tokenizer is denser than OpenAI's for English |
 * | everything else (Gemini, Llama, Mistral, Cohere, …) | ceil(chars / 4): the usual ~4 chars/token rule for English |
 *
 * Chat overhead for every family follows OpenAI's cookbook: 3 tokens per message (+1 when the
 * message has a `name`) and 3 for priming the reply. Images: a flat 765 tokens per image part
 * (OpenAI's cost of a 1024x1024 high-detail image) — an approximation; the real cost depends on
 * size, detail and provider. Other non-text parts (audio, files) are not counted.
 *
 * Bounded work (OpenAI family): BPE time grows with the square of a pre-token's length, so a
 * long run without spaces (CJK, "aaaa…") could hold the event loop for minutes. Texts are
 * therefore counted in pieces of at most `PIECE_CHARS` (512) characters, cut before a space when
 * one lies in the piece's second half (where the tokenizer splits anyway, so prose counts the
 * same), else cut hard (a long run may then count a token or two more per cut). And a request
 * gets an exact-counting budget of `EXACT_WORK_PER_REQUEST` (262,144) units, where an ASCII
 * character costs 1 and any other UTF-16 unit `NON_ASCII_WORK` (32), since the tokenizer is
 * ~100x slower on rare non-Latin text: 256k chars of English or 8k of CJK are counted exactly
 * (tens of ms at worst). Texts past the budget are estimated as ceil(ASCII chars / 4) + 1 token
 * per non-ASCII UTF-16 unit — close for English, generous for most other scripts, and up to ~2x
 * low for rare CJK ideographs (which may take 2 tokens each).
 */
import { createRequire } from 'node:module';

/** Tokens per image part: 85 base + 4 tiles x 170 (1024x1024, detail high). An approximation. */
export const IMAGE_TOKENS = 765;
/** Output bound when neither `max_tokens` nor the model's max output is known. */
export const DEFAULT_OUTPUT_TOKENS_BOUND = 4096;
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING = 3;
const CHARS_PER_TOKEN_ANTHROPIC = 3.5;
const CHARS_PER_TOKEN_DEFAULT = 4;

type EncodingName = 'o200k_base' | 'cl100k_base';
interface Encoder {
  countTokens(text: string, options?: { disallowedSpecial?: Set<string> }): number;
}

// Loaded lazily and synchronously: each encoding costs 200-300 ms and 20-70 MB on first load,
// so only the encodings of models actually used are ever loaded (see `preloadTokenizerFor`).
const require = createRequire(import.meta.url);
const encoders: Partial<Record<EncodingName, Encoder>> = {};
// User text may contain "<|endoftext|>" etc.; count it as plain text instead of throwing.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

function encoder(name: EncodingName): Encoder {
  let e = encoders[name];
  if (!e) {
    e = require(`gpt-tokenizer/encoding/${name}`) as Encoder;
    encoders[name] = e;
  }
  return e;
}

/** The OpenAI encoding for `upstreamModel`, or undefined when it is not an OpenAI-family model. */
export function encodingFor(upstreamModel: string): EncodingName | undefined {
  let m = upstreamModel.toLowerCase();
  const slash = m.lastIndexOf('/');
  if (slash >= 0) m = m.slice(slash + 1); // "openai/gpt-4o" on routers and compatible hosts
  if (m.startsWith('ft:')) m = m.slice(3); // fine-tunes: "ft:gpt-4o-mini:org::id"
  if (m.startsWith('gpt-3.5') || m === 'gpt-4' || m.startsWith('gpt-4-') || m.startsWith('text-embedding-')) return 'cl100k_base';
  if (m.startsWith('davinci') || m.startsWith('babbage')) return 'cl100k_base';
  if (m.startsWith('gpt-') || m.startsWith('chatgpt-') || /^o\d/.test(m)) return 'o200k_base';
  return undefined;
}

/**
 * Loads the tokenizer `upstreamModel` needs, if any. Call at startup (or config reload) for the
 * configured models so the first request does not pay the load.
 */
export function preloadTokenizerFor(upstreamModel: string): void {
  const name = encodingFor(upstreamModel);
  if (name) encoder(name);
}

/** Longest piece handed to the tokenizer at once (its cost grows with the square of a pre-token's length). */
export const PIECE_CHARS = 512;
/** Exact-counting work per request (see the header); beyond it, `roughTokens` estimates. */
export const EXACT_WORK_PER_REQUEST = 262_144;
/** Work units of one non-ASCII UTF-16 unit (an ASCII char is 1). */
export const NON_ASCII_WORK = 32;

/** Accumulates text tokens (OpenAI) or characters (approximated families) without building one big string. */
class Counter {
  tokens = 0;
  chars = 0;
  private exactLeft = EXACT_WORK_PER_REQUEST;
  constructor(private readonly enc: Encoder | undefined) {}
  text(s: string): void {
    if (s.length === 0) return;
    if (!this.enc) {
      this.chars += s.length;
      return;
    }
    const known = s.length < CACHE_MIN_CHARS ? undefined : cachedCount(this.enc, s, false);
    if (known !== undefined) {
      this.tokens += known;
      return;
    }
    const ascii = asciiCount(s);
    const work = ascii + (s.length - ascii) * NON_ASCII_WORK;
    if (work <= this.exactLeft) {
      this.exactLeft -= work;
      this.tokens += s.length < CACHE_MIN_CHARS ? countPieces(this.enc, s) : cachedCount(this.enc, s, true)!;
    } else {
      this.exactLeft = 0; // later short texts are estimated too, so the budget is a hard bound
      this.tokens += Math.ceil(ascii / 4) + (s.length - ascii);
    }
  }
}

/** Exact-ish count in pieces of at most PIECE_CHARS, cut before a space where possible (see the header). */
function countPieces(enc: Encoder, s: string): number {
  if (s.length <= PIECE_CHARS) return enc.countTokens(s, PLAIN_TEXT);
  let n = 0;
  let i = 0;
  while (i < s.length) {
    let end = Math.min(s.length, i + PIECE_CHARS);
    if (end < s.length) {
      let cut = end;
      while (cut > i + PIECE_CHARS / 2 && !(s.charCodeAt(cut) === 32 && s.charCodeAt(cut - 1) !== 32)) cut--;
      if (cut > i + PIECE_CHARS / 2) end = cut;
      else if (isLowSurrogate(s.charCodeAt(end))) end--; // never split a surrogate pair
    }
    n += enc.countTokens(s.slice(i, end), PLAIN_TEXT);
    i = end;
  }
  return n;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** The documented estimate beyond the exact budget: ceil(ASCII / 4) + one token per non-ASCII UTF-16 unit. */
export function roughTokens(s: string): number {
  const ascii = asciiCount(s);
  return Math.ceil(ascii / 4) + (s.length - ascii);
}

function asciiCount(s: string): number {
  let ascii = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 128) ascii++;
  return ascii;
}

/**
 * Agents resend the same system prompt and history on every turn: counts of long texts are
 * remembered (bounded by total characters held, then dropped wholesale), so a conversation
 * pays the tokenizer only for its new messages.
 */
const CACHE_MIN_CHARS = 256;
const CACHE_MAX_CHARS = 4_000_000;
const countCache = new Map<Encoder, Map<string, number>>();
let cachedChars = 0;

/** The remembered count of `s`; when unknown, counts and remembers it if `count`, else undefined. */
function cachedCount(enc: Encoder, s: string, count: boolean): number | undefined {
  let cache = countCache.get(enc);
  if (!cache) countCache.set(enc, (cache = new Map()));
  let n = cache.get(s);
  if (n === undefined && count) {
    n = countPieces(enc, s);
    if (cachedChars + s.length > CACHE_MAX_CHARS) {
      for (const c of countCache.values()) c.clear();
      cachedChars = 0;
    }
    cache.set(s, n);
    cachedChars += s.length;
  }
  return n;
}

function countContent(c: Counter, content: unknown): void {
  if (typeof content === 'string') return c.text(content);
  if (!Array.isArray(content)) return;
  for (const part of content) {
    if (typeof part === 'string') {
      c.text(part);
      continue;
    }
    if (!part || typeof part !== 'object') continue;
    const p = part as { type?: unknown; text?: unknown };
    if (typeof p.text === 'string') c.text(p.text);
    else if (p.type === 'image_url' || p.type === 'input_image' || p.type === 'image') c.tokens += IMAGE_TOKENS;
  }
}

function countMessage(c: Counter, msg: unknown): void {
  c.tokens += TOKENS_PER_MESSAGE;
  if (typeof msg === 'string') return c.text(msg);
  if (!msg || typeof msg !== 'object') return;
  const m = msg as { role?: unknown; content?: unknown; name?: unknown; tool_calls?: unknown };
  if (typeof m.role === 'string') c.text(m.role);
  countContent(c, m.content);
  if (typeof m.name === 'string') {
    c.text(m.name);
    c.tokens += TOKENS_PER_NAME;
  }
  if (Array.isArray(m.tool_calls)) {
    for (const call of m.tool_calls) {
      const fn = (call as { function?: { name?: unknown; arguments?: unknown } } | null)?.function;
      if (typeof fn?.name === 'string') c.text(fn.name);
      if (typeof fn?.arguments === 'string') c.text(fn.arguments);
    }
  }
}

/** Embeddings `input`: string | string[] | token ids | token id arrays; Responses-style message arrays too. */
function countInput(c: Counter, input: unknown): boolean {
  if (typeof input === 'string') {
    c.text(input);
    return false;
  }
  if (!Array.isArray(input)) return false;
  let chat = false;
  for (const item of input) {
    if (typeof item === 'string') c.text(item);
    else if (typeof item === 'number') c.tokens += 1;
    else if (Array.isArray(item)) c.tokens += item.length; // pre-tokenized input
    else if (item && typeof item === 'object') {
      countMessage(c, item);
      chat = true;
    }
  }
  return chat;
}

/**
 * Estimated input tokens of a chat/embeddings request for `upstreamModel` (the provider's model
 * name). Exact-ish for OpenAI models, an approximation elsewhere (see the table above).
 * @example estimateInputTokens({ messages: [{ role: 'user', content: 'Hello' }] }, 'gpt-4o') // 9
 */
export function estimateInputTokens(body: { messages?: unknown[]; input?: unknown; tools?: unknown[] }, upstreamModel: string): number {
  const name = encodingFor(upstreamModel);
  const c = new Counter(name ? encoder(name) : undefined);
  let chat = false;
  if (Array.isArray(body.messages)) {
    for (const msg of body.messages) countMessage(c, msg);
    chat = true;
  }
  if (body.input !== undefined && countInput(c, body.input)) chat = true;
  if (Array.isArray(body.tools) && body.tools.length > 0) c.text(JSON.stringify(body.tools));
  if (chat) c.tokens += REPLY_PRIMING;
  if (c.chars > 0) {
    const ratio = /claude|anthropic/i.test(upstreamModel) ? CHARS_PER_TOKEN_ANTHROPIC : CHARS_PER_TOKEN_DEFAULT;
    c.tokens += Math.ceil(c.chars / ratio);
  }
  return c.tokens;
}

/**
 * Upper bound of output tokens, for reserving the worst case: `max_tokens` (or
 * `max_completion_tokens`) when given, else the model's max output, else 4096 (a documented
 * default; a model that can write more may then cost more than was reserved).
 */
export function estimateOutputTokensBound(maxTokens: number | null, modelMaxOutput: number | undefined): number {
  if (maxTokens !== null && maxTokens >= 0) return maxTokens;
  if (modelMaxOutput !== undefined && modelMaxOutput > 0) return modelMaxOutput;
  return DEFAULT_OUTPUT_TOKENS_BOUND;
}
