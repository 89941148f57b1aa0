/**
 * The shipped model catalog: public model ids the product names, the upstream model name each
 * provider's API expects, context/output limits, capabilities and list prices.
 *
 * WHERE THE FIGURES COME FROM. Every entry names the page(s) its figures were taken from
 * (`source`) and the date that page states for them (`asOf`). They were gathered on
 * CATALOG_VERSION from stored copies of public material: the providers' own model pages where
 * those were available (platform.claude.com, developers.openai.com, ai.google.dev), otherwise
 * third-party price trackers and hosts that quote the provider's pricing page. Where a page
 * states no date, `asOf` is CATALOG_VERSION (the day it was read) and `source` says "undated".
 * No figure here was estimated or derived; a figure that could not be found is left undefined.
 *
 * CONFIG WINS. `models.<name>.price` (and `context_window`, `max_output_tokens`, `embeddings`)
 * in the gateway config overrides the catalog entry for that model. A model without a catalog
 * price and without a configured price is metered at 0, so set one.
 *
 * VERIFY BEFORE BILLING. Prices change without notice (OpenAI cut prices three times in four
 * weeks in mid-2026; Anthropic cut Sonnet 5.5 cache reads on 2026-10-07). Check each price you
 * bill with against the provider's live pricing page and pin it in config.
 *
 * What one price per model cannot express (the meter bills input, cached input and output only):
 * - long-context tiers: GPT-5.4 above 272K input tokens (2x input, 1.5x output), Gemini 3.1 Pro
 *   above 200K ($4 / $18), Claude Haiku 5.5 above 100K ($0.50 / $2.50); the catalog carries the
 *   standard (short-prompt) rate;
 * - Anthropic cache WRITES (1.25x input for 5 minutes, 2x for an hour) — billed at the input price;
 * - Batch / Flex / priority tiers, regional surcharges, per-image embedding prices.
 *
 * Named by the product but not listed, because they do not exist in public material as of
 * CATALOG_VERSION: "gemini-3.1-flash" (Google ships Gemini 3 Flash, 3.1 Flash-Lite, 3.1 Flash
 * Live/TTS/Image and 3.5/3.6 Flash, but no text model called 3.1 Flash) and "gemini-3.1-ultra"
 * (no Gemini Ultra model is offered on the Gemini API at all, so there is no price to record).
 * Listing them would route requests to a model name the upstream rejects.
 */

export interface CatalogEntry {
  /** Public id, e.g. 'gpt-5.4'. */
  id: string;
  family: 'openai' | 'anthropic' | 'gemini' | 'meta' | 'mistral' | 'cohere';
  /** The name the provider's API expects, e.g. 'claude-opus-4-6'. */
  upstreamModel: string;
  /** Tokens (input + output). */
  contextWindow?: number;
  maxOutputTokens?: number;
  capabilities: { tools: boolean; vision: boolean; json: boolean; embeddings?: boolean; reasoning?: boolean };
  /** USD per million tokens. */
  price?: { input: number; output: number; cached_input?: number };
  /** URL(s) the figures were taken from. */
  source: string;
  /** Date the source states for its figures, YYYY-MM-DD. */
  asOf: string;
}

/** The day the catalog was assembled (YYYY-MM-DD). */
export const CATALOG_VERSION = '2026-11-24';

const UNDATED = `undated page, read ${CATALOG_VERSION}`;

const CHAT = { tools: true, vision: true, json: true } as const;
const EMBEDDINGS = { tools: false, vision: false, json: false, embeddings: true } as const;

const ENTRIES: CatalogEntry[] = [
  // ───────────────────────────── OpenAI ─────────────────────────────
  {
    // Standard rate for prompts under 272K input tokens; above that OpenAI bills 2x input, 1.5x output.
    id: 'gpt-5.4',
    family: 'openai',
    upstreamModel: 'gpt-5.4',
    contextWindow: 1_050_000,
    maxOutputTokens: 128_000,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 2.5, output: 15, cached_input: 0.25 },
    source:
      'https://tokenmix.ai/blog/gpt-5-api-pricing (quotes developers.openai.com/api/docs/pricing, data checked 2026-04-30); ' +
      'limits: https://vercel.com/ai-gateway/models/gpt-5.4.md (undated)',
    asOf: '2026-04-30',
  },
  {
    id: 'gpt-5.4-mini',
    family: 'openai',
    upstreamModel: 'gpt-5.4-mini',
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 0.75, output: 4.5, cached_input: 0.075 },
    source:
      'https://tokenmix.ai/blog/gpt-5-api-pricing (quotes developers.openai.com/api/docs/pricing, data checked 2026-04-30); ' +
      'limits: https://vercel.com/ai-gateway/models/openai/gpt-5.4-mini.md (undated)',
    asOf: '2026-04-30',
  },
  {
    // OpenAI's deprecations page (as read 2026-08-27 by api-evangelist/openai lifecycle) lists the
    // o3-2025-04-16 snapshot — the only o3 snapshot — for shutdown on 2026-12-11.
    id: 'o3',
    family: 'openai',
    upstreamModel: 'o3',
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 2, output: 8, cached_input: 0.5 },
    source:
      'https://www.howmanytokens.io/o3/ (pricing as of 2026-05-31); limits: https://codeswap.net/models/o3/ (last updated 2026-05-29)',
    asOf: '2026-05-31',
  },
  {
    id: 'o4-mini',
    family: 'openai',
    upstreamModel: 'o4-mini',
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 1.1, output: 4.4, cached_input: 0.275 },
    source:
      'https://howmanytokens.io/o4-mini/ (pricing as of 2026-05-31); limits: https://vercel.com/ai-gateway/models/o4-mini.md (undated)',
    asOf: '2026-05-31',
  },
  {
    // Embeddings have no output tokens; output price 0. contextWindow is the max input per text.
    id: 'text-embedding-3-small',
    family: 'openai',
    upstreamModel: 'text-embedding-3-small',
    contextWindow: 8_191,
    capabilities: EMBEDDINGS,
    price: { input: 0.02, output: 0 },
    source:
      'https://tokenmath.io/openai-api-pricing-explained (OpenAI embedding pricing, checked 2026-06-21); ' +
      'https://developers.openai.com/api/docs/models/text-embedding-3-large (quick comparison); limit: https://docs.praison.ai/docs/embeddings/providers/openai.md',
    asOf: '2026-06-21',
  },
  {
    id: 'text-embedding-3-large',
    family: 'openai',
    upstreamModel: 'text-embedding-3-large',
    contextWindow: 8_191,
    capabilities: EMBEDDINGS,
    price: { input: 0.13, output: 0 },
    source:
      'https://developers.openai.com/api/docs/models/text-embedding-3-large (undated); ' +
      'https://goitreels-com.pages.dev/blog/openai-api-pricing-guide (published 2026-04-06)',
    asOf: '2026-04-06',
  },

  // ──────────────────────────── Anthropic ───────────────────────────
  // Anthropic's current lineup (platform.claude.com, autumn 2026) is Opus 5.5, Sonnet 5.5 and
  // Haiku 5.5; Opus 4.6, Sonnet 4.6 and Haiku 4.5 are "legacy" (still available, no retirement
  // date given). cached_input is the cache-READ rate; cache writes are not modelled (see header).
  {
    id: 'claude-opus-4-6',
    family: 'anthropic',
    upstreamModel: 'claude-opus-4-6',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 5, output: 25, cached_input: 0.5 },
    source:
      'https://platform.claude.com/docs/en/models/opus-4-6/overview (legacy model; $5/$25, 1M/128K); ' +
      'cache read 0.1x: https://docs.rs/synaps/0.10.2/synaps_cli/pricing/index.html; ' +
      'rates re-checked against the live pricing page 2026-10-24: https://github.com/kurofune/claudit/releases/tag/v1.9.2',
    asOf: '2026-10-24',
  },
  {
    id: 'claude-sonnet-4-6',
    family: 'anthropic',
    upstreamModel: 'claude-sonnet-4-6',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 3, output: 15, cached_input: 0.3 },
    source:
      'https://platform.claude.com/docs/pt-BR/models/sonnet-4-6/overview.md (legacy model; $3/$15, 1M/128K); ' +
      'cache read 0.1x: https://docs.rs/synaps/0.10.2/synaps_cli/pricing/index.html; ' +
      're-checked 2026-10-24: https://github.com/kurofune/claudit/releases/tag/v1.9.2',
    asOf: '2026-10-24',
  },
  {
    id: 'claude-haiku-4-5',
    family: 'anthropic',
    upstreamModel: 'claude-haiku-4-5-20251001',
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 1, output: 5, cached_input: 0.1 },
    source:
      'https://platform.claude.com/docs/zh-CN/models/haiku-4-5/overview.md (legacy model; $1/$5, 200K/64K); ' +
      'cache read 0.1x: https://docs.rs/synaps/0.10.2/synaps_cli/pricing/index.html; ' +
      're-checked 2026-10-24: https://github.com/kurofune/claudit/releases/tag/v1.9.2',
    asOf: '2026-10-24',
  },
  {
    // The current Opus (priced from 2026-09-22). Cache reads are 0.05x input.
    id: 'claude-opus-5-5',
    family: 'anthropic',
    upstreamModel: 'claude-opus-5-5',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 4, output: 20, cached_input: 0.2 },
    source:
      'https://platform.claude.com/docs/about-claude/models/whats-new-opus-5 (lineup table: Opus 5.5 1M/128K $4/$20); ' +
      'cache read: https://github.com/kurofune/claudit/releases/tag/v1.8.2 (live pricing page 2026-09-23), re-checked 2026-10-24 (v1.9.2)',
    asOf: '2026-10-24',
  },
  {
    // The current Sonnet (released 2026-09-28). Cache reads cut from $0.20 to $0.10 on 2026-10-07.
    id: 'claude-sonnet-5-5',
    family: 'anthropic',
    upstreamModel: 'claude-sonnet-5-5',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 2, output: 10, cached_input: 0.1 },
    source:
      'https://platform.claude.com/docs/zh-CN/models/sonnet-5-5/overview ($2/$10, 1M/128K); ' +
      'cache-read cut: https://github.com/kurofune/claudit/releases/tag/v1.9.2 (live pricing page 2026-10-24)',
    asOf: '2026-10-24',
  },
  {
    // The current Haiku (released 2026-10-07). Price shown is for prompts up to 100K tokens; a
    // request whose prompt exceeds 100K is billed $0.50 / $2.50 (cache read $0.05) on every token.
    id: 'claude-haiku-5-5',
    family: 'anthropic',
    upstreamModel: 'claude-haiku-5-5',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 0.1, output: 0.5, cached_input: 0.01 },
    source:
      'https://platform.claude.com/docs/zh-CN/models/haiku-5-5/overview (from $0.10/$0.50, 1M/128K); ' +
      'https://github.com/kurofune/claudit/releases/tag/v1.9.2 (live pricing page 2026-10-24, both price bands)',
    asOf: '2026-10-24',
  },

  // ───────────────────────────── Google ─────────────────────────────
  {
    // Still a preview model on the Gemini API. Rate for prompts up to 200K tokens; above that $4 / $18.
    id: 'gemini-3.1-pro',
    family: 'gemini',
    upstreamModel: 'gemini-3.1-pro-preview',
    contextWindow: 1_048_576,
    maxOutputTokens: 65_536,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 2, output: 12, cached_input: 0.2 },
    source:
      'https://blog.laozhang.ai/en/posts/gemini-3-1-pro-preview-free-api (Google pricing/model pages rechecked 2026-03-28); ' +
      'cached input and limits: https://airouter.megatech.cc/models/gemini-3.1-pro-preview (undated), ' +
      'https://www.cometapi.com/da/models/google/gemini-3-1-pro-preview',
    asOf: '2026-03-28',
  },
  {
    // Closest existing model to the "Gemini 3.1 Flash" the product names (there is none); preview.
    id: 'gemini-3-flash',
    family: 'gemini',
    upstreamModel: 'gemini-3-flash-preview',
    contextWindow: 1_048_576,
    maxOutputTokens: 65_536,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 0.5, output: 3, cached_input: 0.05 },
    source:
      'https://factquire.com/models/google/gemini-3-flash-preview.json (quotes ai.google.dev/gemini-api/docs/pricing, accessed 2026-07-04); ' +
      'limits: https://developer.box.com/guides/box-ai/ai-models/google-gemini-3-flash-model-card',
    asOf: '2026-07-04',
  },
  {
    // Google's top stable Flash model in mid-2026 (GA 2026-05-19).
    id: 'gemini-3.5-flash',
    family: 'gemini',
    upstreamModel: 'gemini-3.5-flash',
    contextWindow: 1_048_576,
    maxOutputTokens: 65_536,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 1.5, output: 9, cached_input: 0.15 },
    source:
      'https://github.com/simstudioai/sim/pull/4660 (pricing updatedAt 2026-05-19); https://www.morphllm.com/gemini-api-pricing; ' +
      'limits: https://www.bearplex.com/ai/gemini-3-5-flash',
    asOf: '2026-05-19',
  },

  // ────────────────────── Meta (OpenAI-compatible hosts) ─────────────────────
  // Meta sells no API; prices are one host's list price. Upstream names are that host's ids.
  {
    id: 'llama-4-maverick',
    family: 'meta',
    upstreamModel: 'meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8',
    contextWindow: 524_288,
    capabilities: { tools: true, vision: true, json: true },
    price: { input: 0.27, output: 0.85 },
    source:
      'Host: Together AI. Price: https://aipromptshub.co/model/llama-4 (verified against provider docs 2026-06-20); ' +
      'model id and context: https://promptfoo.dev/docs/providers/togetherai/',
    asOf: '2026-06-20',
  },
  {
    id: 'llama-4-scout',
    family: 'meta',
    upstreamModel: 'meta-llama/Llama-4-Scout-17B-16E-Instruct',
    contextWindow: 327_680,
    capabilities: { tools: true, vision: true, json: true },
    price: { input: 0.18, output: 0.59 },
    source:
      'Host: Together AI. Price: https://aipromptshub.co/model/llama-4 (verified against provider docs 2026-06-20); ' +
      'model id and context: https://promptfoo.dev/docs/providers/togetherai/',
    asOf: '2026-06-20',
  },
  {
    id: 'llama-3.3-70b',
    family: 'meta',
    upstreamModel: 'llama-3.3-70b-versatile',
    contextWindow: 131_072,
    capabilities: { tools: true, vision: false, json: true },
    price: { input: 0.59, output: 0.79 },
    source:
      `Host: Groq (https://groq.com/pricing). Price: https://tessl.io/registry/skills/github/jeremylongshore/claude-code-plugins-plus-skills/groq-cost-tuning, ` +
      `https://awesomeagents.ai/models/llama-3-3-70b/ (${UNDATED}); context: https://app.unpkg.com/@lobehub/chat@1.143.3/files/src/config/modelProviders/groq.ts`,
    asOf: CATALOG_VERSION,
  },

  // ──────────────────────────── Mistral ─────────────────────────────
  {
    id: 'mistral-small-4',
    family: 'mistral',
    upstreamModel: 'mistral-small-2603',
    contextWindow: 256_000,
    capabilities: { ...CHAT, reasoning: true },
    price: { input: 0.15, output: 0.6 },
    source:
      'https://switchy.build/models/mistral-small-2603.md (last verified 2026-04-23); https://whichllm.io/models/mistral-mistral-small-2603 (Mistral source)',
    asOf: '2026-04-23',
  },
  {
    // Vision not confirmed for the 123B model in the sources read; left off.
    id: 'devstral-2',
    family: 'mistral',
    upstreamModel: 'devstral-2512',
    contextWindow: 262_144,
    capabilities: { tools: true, vision: false, json: true },
    price: { input: 0.4, output: 2 },
    source: `https://mastra.ai/models/providers/mistral (mistral/devstral-2512), https://www.getmaxim.ai/bifrost/model-library/compare/mistral/devstral-latest (${UNDATED})`,
    asOf: CATALOG_VERSION,
  },

  // ───────────────────────────── Cohere ─────────────────────────────
  {
    // Cohere now lists Command R+ rates as existing-customer (legacy) pricing only.
    id: 'command-r-plus',
    family: 'cohere',
    upstreamModel: 'command-r-plus-08-2024',
    contextWindow: 128_000,
    maxOutputTokens: 4_000,
    capabilities: { tools: true, vision: false, json: true },
    price: { input: 2.5, output: 10 },
    source:
      `https://www.getmaxim.ai/bifrost/model-library/provider/cohere, https://wavespeed.ai/it/llm/cohere/command-r-plus-08-2024 (${UNDATED}); ` +
      'legacy status: https://developer.puter.com/tutorials/cohere-api-pricing/ (Jun 2026)',
    asOf: CATALOG_VERSION,
  },
  {
    // Text-token price; image inputs are billed $0.47 per million image tokens (not modelled).
    id: 'embed-v4',
    family: 'cohere',
    upstreamModel: 'embed-v4.0',
    contextWindow: 128_000,
    capabilities: { ...EMBEDDINGS, vision: true },
    price: { input: 0.12, output: 0 },
    source:
      'https://developer.puter.com/tutorials/cohere-api-pricing/ (states "Jun 2026", no day); ' +
      `https://www.getmaxim.ai/bifrost/model-library/compare/cohere/embed-v4.0.md (${UNDATED})`,
    asOf: CATALOG_VERSION,
  },
];

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export const MODEL_CATALOG: readonly CatalogEntry[] = deepFreeze(ENTRIES);

/** A trailing snapshot date: -2026-01-15 or -20250929. */
const DATE_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8})$/;

function normalize(name: string): string {
  return name.trim().toLowerCase();
}

const byExactName = new Map<string, CatalogEntry>();
const byUndatedName = new Map<string, CatalogEntry>();
for (const entry of MODEL_CATALOG) {
  for (const name of [entry.id, entry.upstreamModel]) {
    const key = normalize(name);
    if (!byExactName.has(key)) byExactName.set(key, entry);
    const undated = key.replace(DATE_SUFFIX, '');
    if (!byUndatedName.has(undated)) byUndatedName.set(undated, entry);
  }
}

/**
 * Looks up by public id or by upstream model name (case-insensitive, ignoring a trailing date
 * suffix like -2026-01-15 or -20250929).
 */
export function catalogEntry(name: string): CatalogEntry | undefined {
  const key = normalize(name);
  return byExactName.get(key) ?? byUndatedName.get(key.replace(DATE_SUFFIX, ''));
}
