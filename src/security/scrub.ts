/**
 * The one scrubber of strings that can leave the gateway (error messages, stream error events,
 * audit fields, log lines, span and metric values): it removes every credential the
 * configuration holds, verbatim, and anything credential-shaped. Built once per configuration
 * (`scrubberFor`); every pass is linear in the input (indexOf per literal, sticky or bounded
 * regular expressions without nested quantifiers), and the input is capped before it starts.
 */
import type { GatewayConfig } from '../config/load.js';
import { GatewayError } from '../errors.js';
import { createSecretsDetector } from '../policy/detectors/secrets.js';

export const REDACTED = '[redacted]';

/** Longest input scanned; anything beyond is dropped before scanning (callers bound far lower). */
const MAX_SCAN_CHARS = 16_384;
/** Shorter configured values ("true", "v1") are not secrets worth scrubbing and would mangle text. */
const MIN_LITERAL = 8;
/** A truncated message may end in the first part of a secret: this many chars of it are enough to scrub. */
const MIN_TAIL = 6;

const detector = createSecretsDetector();

// Credential shapes the policy detector (tuned for prompts, so stricter) lets through. Each has
// bounded quantifiers and no nesting: a failed attempt costs at most a few hundred steps.
const EXTRA_PATTERNS: RegExp[] = [
  /omk_[A-Za-z0-9_-]{8,256}/g, // the gateway's own tenant keys
  /(?<![\w-])sk-[A-Za-z0-9_-]{12,256}/g, // OpenAI/Anthropic-style keys without the detector's mixed-case rule
  /AIza[0-9A-Za-z_-]{20,64}/g,
  /\b(?:bearer|basic)\s{1,4}[A-Za-z0-9\-._~+/]{6,512}=*/gi,
  /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.?[A-Za-z0-9_-]{0,1024}/g,
  /\b(?:AKIA|ASIA)[A-Z0-9]{12,20}\b/g,
];

// key=…, token: …, "authorization": "…", x-api-key: … — only the value (group 1) is scrubbed.
const ASSIGNMENT =
  /\b(?:api[_-]?key|x-api-key|x-goog-api-key|access[_-]?token|auth[_-]?token|refresh[_-]?token|id[_-]?token|token|secret|client[_-]?secret|key|password|passwd|authorization|cookie|signature|sig)["']?\s{0,4}[:=]\s{0,4}["']?([^\s"'&,;<>]{6,512})/dgi;

/** A sane id: the charset and length app.ts accepts for a client's x-request-id. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/**
 * The gateway's own request ids and OpenAI's (`req_` + 32 lowercase hex): no credential format
 * has this shape, so only configured secrets are looked for (the pattern pass costs more than
 * the rest of the audit record's scrub together).
 */
const HEX_REQUEST_ID = /^req_[0-9a-f]{32}$/;
/** Retry-After is delta-seconds or an HTTP date; nothing else is passed on. */
const RETRY_AFTER = /^(?:\d{1,9}|[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT)$/;
const SAFE_TYPE = /^[A-Za-z0-9_.-]{1,64}$/;
const PARAM = /^[A-Za-z0-9_.[\]-]{1,128}$/;

export class Scrubber {
  /** Literal secrets and their JSON- and URL-encoded spellings, longest first. */
  private literals: string[] = [];
  /** The first MIN_TAIL characters of each literal, for the truncated-tail check. */
  private heads: string[] = [];

  constructor(secrets: Iterable<string>) {
    this.learn(secrets);
  }

  /**
   * Adds secrets that appeared after start (a reloaded file, a credential set through the admin
   * API). Secrets are never forgotten: a rotated-out credential stays scrubbed.
   */
  learn(secrets: Iterable<string>): void {
    const all = new Set<string>(this.literals);
    for (const s of secrets) {
      if (typeof s !== 'string' || s.length < MIN_LITERAL) continue;
      all.add(s);
      all.add(JSON.stringify(s).slice(1, -1));
      all.add(encodeURIComponent(s));
    }
    if (all.size === this.literals.length) return;
    const literals = [...all].sort((a, b) => b.length - a.length);
    this.heads = literals.map((l) => l.slice(0, MIN_TAIL));
    this.literals = literals;
  }

  /** Every secret the configuration holds: provider keys and headers, admin tokens, tenant keys, exporter headers, webhook and storage URLs. */
  static fromConfig(config: GatewayConfig): Scrubber {
    return new Scrubber(configSecrets(config));
  }

  /**
   * The text with secrets replaced by `[redacted]`, control characters flattened and at most
   * `maxChars` long (an ellipsis marks a cut).
   *
   * @example scrubber.scrub('bad key sk-live-0123456789abcdef') // 'bad key [redacted]'
   */
  scrub(text: string, maxChars = 500): string {
    let out = this.scrubRaw(text);
    // eslint-disable-next-line no-control-regex
    out = out.replace(/[\u0000-\u001f\u007f]+/g, ' ');
    return out.length > maxChars ? `${out.slice(0, maxChars)}…` : out;
  }

  /** Like `scrub` but keeps the text's shape (line breaks, JSON) and length up to the scan cap: for a provider body before it is parsed. */
  scrubRaw(text: string): string {
    let out = text.length > MAX_SCAN_CHARS ? text.slice(0, MAX_SCAN_CHARS) : text;
    out = this.removeLiterals(out);
    return plainlyClean(out) ? out : scrubPatterns(out);
  }

  /**
   * Only the configured secrets, at any length and keeping everything else: for identifiers a
   * client chose (hashed user ids look like tokens) and for content (a model's answer).
   */
  scrubLiterals(text: string): string {
    let out = text;
    for (const lit of this.literals) {
      if (out.includes(lit)) out = out.split(lit).join(REDACTED);
    }
    return out;
  }

  /**
   * A whole serialized log line: configured secrets and specific credential shapes, at any
   * length, without the entropy rule (ids and hashes in logs are what makes them useful).
   */
  scrubLogLine(line: string): string {
    return scrubPatterns(this.scrubLiterals(line), false);
  }

  /** A copy of a catalog error that is safe to show and store: scrubbed message, sane type and param, only a valid Retry-After. */
  error(err: GatewayError): GatewayError {
    const retryAfter = err.headers?.['retry-after'];
    const headers = retryAfter !== undefined && RETRY_AFTER.test(retryAfter) ? { 'retry-after': retryAfter } : undefined;
    return new GatewayError(err.code, this.scrub(err.message), {
      status: err.status,
      type: SAFE_TYPE.test(err.type) ? err.type : undefined,
      param: err.param !== null && PARAM.test(err.param) ? err.param : null,
      headers,
      cause: err.cause,
    });
  }

  /**
   * A request id (the client's, the gateway's own, a provider's) if it is id-shaped and holds no
   * secret; otherwise null (dropped). Configured secrets and credential shapes are caught, but not
   * by the entropy rule: ids are random by design, and it took one in eight of the gateway's own
   * `req_<32 hex>` ids for a secret.
   */
  requestId(value: string | undefined): string | null {
    if (value === undefined || !SAFE_ID.test(value)) return null;
    const out = this.removeLiterals(value);
    if (out !== value) return null;
    return HEX_REQUEST_ID.test(value) || plainlyClean(value) || scrubPatterns(value, false) === value ? value : null;
  }

  /** Scrubs every string in a plain value (log objects), to a bounded depth; Errors become their scrubbed name and message. */
  deep(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.scrub(value, 4096);
    if (value === null || typeof value !== 'object' || depth > 6) return value;
    if (value instanceof Error) return { type: value.name, message: this.scrub(value.message, 4096), stack: value.stack ? this.scrub(value.stack, 4096) : undefined };
    if (Array.isArray(value)) return value.slice(0, 100).map((v) => this.deep(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = this.deep((value as Record<string, unknown>)[k], depth + 1);
    return out;
  }

  private removeLiterals(text: string): string {
    return this.removeTruncatedTail(this.scrubLiterals(text));
  }

  /** A message cut at a length limit may end with the start of a secret: scrub that too. */
  private removeTruncatedTail(text: string): string {
    const body = text.endsWith('…') ? text.slice(0, -1) : text.endsWith('...') ? text.slice(0, -3) : text;
    for (let i = 0; i < this.literals.length; i++) {
      const lit = this.literals[i]!;
      const head = this.heads[i]!;
      // Only starts within the last lit.length chars can be a cut-off copy; usually indexOf finds none.
      for (let p = body.indexOf(head, Math.max(0, body.length - lit.length + 1)); p !== -1; p = body.indexOf(head, p + 1)) {
        if (lit.startsWith(body.slice(p))) return `${body.slice(0, p)}${REDACTED}${text.slice(body.length)}`;
      }
    }
    return text;
  }
}

// Every credential shape needs a run of 12+ token characters, a ':'/'=' assignment, or one of
// these words; short text with none of them (user agents, finish reasons, ids) skips the scan.
const PLAIN_CHARS = /^[A-Za-z0-9 ._/()+,;-]{0,256}$/;
const TOKEN_RUN = /[A-Za-z0-9_+/-]{12}/;
const SHAPE_WORDS = /bearer|basic|eyJ|BEGIN/i;

function plainlyClean(text: string): boolean {
  return PLAIN_CHARS.test(text) && !TOKEN_RUN.test(text) && !SHAPE_WORDS.test(text);
}

/** The pattern pass alone, for places without a configuration (webhook errors, the base logger). */
export function scrubPatterns(text: string, entropy = true): string {
  const ranges: [number, number][] = [];
  for (const f of detector.scan(text)) if (entropy || f.type !== 'high_entropy') ranges.push([f.start, f.end]);
  for (const re of EXTRA_PATTERNS) {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      ranges.push([m.index, m.index + m[0].length]);
      if (m[0].length === 0) re.lastIndex++;
    }
  }
  ASSIGNMENT.lastIndex = 0;
  let a: RegExpExecArray | null;
  while ((a = ASSIGNMENT.exec(text)) !== null) ranges.push(a.indices![1]!);
  if (ranges.length === 0) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [s, e] of ranges) {
    if (e <= at) continue;
    out += text.slice(at, Math.max(at, s)) + (s >= at ? REDACTED : '');
    at = e;
  }
  return out + text.slice(at);
}

const cache = new WeakMap<GatewayConfig, Scrubber>();

/** The scrubber of one configuration, built on first use. */
export function scrubberFor(config: GatewayConfig): Scrubber {
  let s = cache.get(config);
  if (s === undefined) {
    s = Scrubber.fromConfig(config);
    cache.set(config, s);
  }
  return s;
}

/** Field names whose string values are secrets wherever they appear in the configuration. */
const SECRET_FIELDS = new Set(['api_key', 'token', 'key', 'secret', 'password', 'webhook']);
/** Objects whose every value is a secret (header maps carry credentials). */
const SECRET_MAPS = new Set(['headers', 'otlp_headers']);

/** Walks the whole configuration, so a secret added to the schema later is covered by its field name. */
export function configSecrets(config: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, field: string, depth: number, all: boolean) => {
    if (depth > 12) return;
    if (typeof v === 'string') {
      if (all || SECRET_FIELDS.has(field)) out.push(v);
      else if (field === 'url') out.push(...urlSecrets(v));
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const item of v) walk(item, field, depth + 1, all);
      return;
    }
    for (const [k, child] of Object.entries(v)) walk(child, k, depth + 1, all || SECRET_MAPS.has(k));
  };
  walk(config, '', 0, false);
  for (const url of [(config as { alerts?: { webhook?: string } }).alerts?.webhook].filter(Boolean)) out.push(...urlSecrets(url!));
  return out;
}

/** The password of a storage URL, and the path and query of a webhook URL (which often embed a token). */
function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    const found = [u.password, decodeURIComponent(u.password)];
    if (u.pathname.length >= MIN_LITERAL) found.push(u.pathname.replace(/^\/+/, ''));
    if (u.search.length > 1) found.push(u.search.slice(1));
    return found.filter((s) => s.length >= MIN_LITERAL);
  } catch {
    return [];
  }
}
