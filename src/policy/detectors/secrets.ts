import { keepBestRanked } from './overlaps.js';
import type { Detector, Finding } from './types.js';

export type SecretType =
  | 'aws_access_key' | 'aws_secret_key' | 'github_token' | 'openai_key' | 'anthropic_key' | 'google_api_key'
  | 'slack_token' | 'stripe_key' | 'private_key' | 'jwt' | 'bearer_token' | 'password_assignment' | 'high_entropy';

interface Rule {
  type: SecretType;
  /** Sticky regex, tried only at a prefilter hit (the hit is where the secret starts). */
  re: RegExp;
  confidence: number;
  /** Optional extra check on the matched text; returning false drops the match. */
  ok?: (m: string) => boolean;
}

/** At least one upper-case letter, one lower-case letter and one digit: real keys nearly always have all three. */
function mixed(s: string): boolean {
  let u = false, l = false, d = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) u = true;
    else if (c >= 97 && c <= 122) l = true;
    else if (c >= 48 && c <= 57) d = true;
  }
  return u && l && d;
}

const AWS_KEY: Rule = { type: 'aws_access_key', re: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/y, confidence: 0.95 };
const GH: Rule = { type: 'github_token', re: /\bgh[pousr]_[A-Za-z0-9]{36,251}\b/y, confidence: 0.95 };
const GH_PAT: Rule = { type: 'github_token', re: /\bgithub_pat_[A-Za-z0-9_]{22,255}\b/y, confidence: 0.95 };
const ANTHROPIC: Rule = { type: 'anthropic_key', re: /(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,250}(?![\w-])/y, confidence: 0.95 };
const OPENAI: Rule = {
  type: 'openai_key', re: /(?<![\w-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,250}(?![\w-])/y, confidence: 0.9, ok: mixed,
};
const GOOGLE: Rule = { type: 'google_api_key', re: /(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])/y, confidence: 0.95 };
const SLACK: Rule = { type: 'slack_token', re: /(?<!\w)xox[abprs]-[A-Za-z0-9-]{10,250}/y, confidence: 0.9, ok: (m) => /\d/.test(m) };
const STRIPE: Rule = { type: 'stripe_key', re: /(?<!\w)[sr]k_live_[A-Za-z0-9]{16,247}\b/y, confidence: 0.95 };
const JWT: Rule = {
  type: 'jwt', re: /(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?![\w-])/y, confidence: 0.9,
};

// Two passes find every place a secret could start: case-sensitive vendor prefixes, and
// case-insensitive keywords ("Password", "BEARER"). One /i pass over both is ~4x slower in V8.
const PREFIX_RE = /AKIA|ASIA|gh[pousr]_|github_pat_|sk-|AIza|xox[abprs]-|[sr]k_live_|eyJ|-----BEGIN /g;
const KEYWORD_RE = /bearer|pass|pwd|:\/\//gi;
const RULES_BY_HIT: Record<string, Rule[]> = { akia: [AWS_KEY], asia: [AWS_KEY], 'github_pat_': [GH_PAT], 'sk-': [ANTHROPIC, OPENAI], aiza: [GOOGLE], eyj: [JWT] };
for (const c of 'pousr') RULES_BY_HIT[`gh${c}_`] = [GH];
for (const c of 'abprs') RULES_BY_HIT[`xox${c}-`] = [SLACK];
for (const c of 'sr') RULES_BY_HIT[`${c}k_live_`] = [STRIPE];

const BEGIN_KEY_RE = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----/y;
const AWS_WORD_RE = /aws|secret/i;
const AWS_SECRET_RE = /(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])/g;
// Capture only the value, so redaction keeps `Authorization: Bearer` / `password=` readable.
const BEARER_RE = /(?<!\w)bearer\s+([A-Za-z0-9\-._~+/]{8,}=*)/iy;
const AUTH_BEFORE_RE = /authorization["']?\s*[:=]\s*["']?$/i;
// `pwd` only with '=' (ODBC "PWD=..."): "pwd: /home/me" is the shell command.
const PASSWORD_RE =
  /(?:(?:password|passwd|passphrase)["']?\s*(?::=|[:=])|pwd\s*=)\s*(?:"([^"\r\n]{1,200})"|'([^'\r\n]{1,200})'|([^\s"',;&(){}[\]<>]{1,200}))/iyd;
const URL_CRED_RE = /:\/\/[^\s:@/]{1,100}:([^\s@/]{1,200})@/y;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_RE = /^[0-9a-fA-F]+$/;
const SRI_RE = /^sha(?:1|256|384|512)-/;
const PLACEHOLDER_RE = /^(?:\*+|x+|\.+|null|none|nil|undefined|true|false|empty|redacted|secret|password|changeme|example|your[_-]?\w*|<.*>|\[.*\]|\{.*\}|\$.*|%.*%?)$/i;

/** Non-trivial secret value: not a placeholder, template or env reference; long enough and not one repeated char. */
function realValue(v: string): boolean {
  if (v.length < 4 || PLACEHOLDER_RE.test(v)) return false;
  for (let i = 1; i < v.length; i++) if (v.charCodeAt(i) !== v.charCodeAt(0)) return true;
  return false;
}

/** Token alphabet for high_entropy: [A-Za-z0-9+/_=-]. */
const TOKEN_CHAR = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_=-') TOKEN_CHAR[ch.charCodeAt(0)] = 1;
const MIN_TOKEN = 24;

const counts = new Int32Array(128);

/** Shannon entropy in bits per char; callers pass ASCII-only tokens. */
export function shannonEntropy(s: string): number {
  for (let i = 0; i < s.length; i++) counts[s.charCodeAt(i) & 127]++;
  let h = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 127;
    const n = counts[c];
    if (n === 0) continue;
    const p = n / s.length;
    h -= p * Math.log2(p);
    counts[c] = 0; // also resets the table for the next call
  }
  return h;
}

const WORD_RUN_RE = /[A-Z]?[a-z]{3,}/g;
const WORD_SEGMENT_RE = /^[A-Z]?[a-z]{2,}(?:[A-Z][a-z]+)*$/;

/** Half or more of the chars in word-shaped runs: identifiers and slugs, not random (~15% for base64). */
function wordy(t: string): boolean {
  let n = 0;
  let m: RegExpExecArray | null;
  WORD_RUN_RE.lastIndex = 0;
  while ((m = WORD_RUN_RE.exec(t)) !== null) n += m[0].length;
  return n * 2 >= t.length;
}

/** Confidence for a generic token, or 0 if it looks like a word, identifier, path or UUID. */
function entropyConfidence(t: string): number {
  if (UUID_RE.test(t)) return 0;
  if (t.length >= 32 && HEX_RE.test(t)) {
    // Hex alphabet caps entropy at 4 bits, so hashes get their own, weaker rule.
    return /\d/.test(t) && /[a-f]/i.test(t) && shannonEntropy(t) >= 3 ? 0.4 : 0;
  }
  let classes = 0;
  if (/[a-z]/.test(t)) classes++;
  if (/[A-Z]/.test(t)) classes++;
  if (/\d/.test(t)) classes++;
  if (/[+/_=-]/.test(t)) classes++;
  if (classes < 3 || !/\d/.test(t) || wordy(t)) return 0;
  const h = shannonEntropy(t);
  if (h < 4) return 0;
  return h >= 4.5 ? 0.7 : 0.55;
}

const PREFILTERS = [PREFIX_RE, KEYWORD_RE];

type Push = (type: SecretType, start: number, end: number, confidence: number) => void;

/** Rank for overlap resolution: specific formats beat generic assignments, which beat entropy. */
function rank(t: string): number {
  return t === 'high_entropy' ? 3 : t === 'aws_secret_key' ? 2 : t === 'bearer_token' || t === 'password_assignment' ? 1 : 0;
}

// Per scan: where each END marker was last found (-1: nowhere after the position searched), so a
// text of many BEGIN lines without their END does not search the rest of the text at each one.
const endMarkers = new Map<string, number>();

function findEnd(text: string, marker: string, from: number): number {
  const known = endMarkers.get(marker);
  if (known !== undefined && (known === -1 || known >= from)) return known;
  const at = text.indexOf(marker, from);
  endMarkers.set(marker, at);
  return at;
}

function privateKey(text: string, at: number, push: Push): number {
  BEGIN_KEY_RE.lastIndex = at;
  const m = BEGIN_KEY_RE.exec(text);
  if (m === null) return at + 1;
  const endMarker = `-----END ${m[0].slice(11, -16)}PRIVATE KEY-----`;
  const endAt = findEnd(text, endMarker, at);
  let end = endAt === -1 ? -1 : endAt + endMarker.length;
  if (end === -1) {
    // Truncated key: still cover the base64 body (and PEM headers) so redaction removes it.
    end = at + m[0].length;
    while (end < text.length && /[A-Za-z0-9+/=\s:,-]/.test(text[end])) end++;
    while (end > at && /\s/.test(text[end - 1])) end--;
  }
  push('private_key', at, end, 0.99);
  return end;
}

/** Handles one prefilter hit; returns where the prefilter may resume. */
function atHit(text: string, at: number, hit: string, push: Push): number {
  const key = hit.toLowerCase();
  const rules = RULES_BY_HIT[key];
  if (rules !== undefined) {
    for (const r of rules) {
      r.re.lastIndex = at;
      const m = r.re.exec(text);
      if (m !== null && (r.ok === undefined || r.ok(m[0]))) {
        push(r.type, at, at + m[0].length, r.confidence);
        return at + m[0].length;
      }
    }
    return at + hit.length;
  }
  if (key === '-----begin ') return privateKey(text, at, push);
  if (key === 'bearer') {
    BEARER_RE.lastIndex = at;
    const m = BEARER_RE.exec(text);
    if (m === null) return at + hit.length;
    const s0 = at + m[0].length - m[1].length;
    let e = at + m[0].length;
    while (e > s0 && text.charCodeAt(e - 1) === 46) e--; // sentence-final dots are not part of the token
    const tok = text.slice(s0, e);
    const header = AUTH_BEFORE_RE.test(text.slice(Math.max(0, at - 40), at));
    if (header && tok.length >= 8) push('bearer_token', s0, e, 0.9);
    else if (tok.length >= 20 && /\d/.test(tok)) push('bearer_token', s0, e, 0.75);
    return e;
  }
  if (key === '://') {
    URL_CRED_RE.lastIndex = at;
    const m = URL_CRED_RE.exec(text);
    if (m === null || !realValue(m[1])) return at + 3;
    const e = at + m[0].length - 1;
    push('password_assignment', e - m[1].length, e, 0.85);
    return e + 1;
  }
  PASSWORD_RE.lastIndex = at;
  const m = PASSWORD_RE.exec(text);
  if (m === null) return at + hit.length;
  const g = m[1] !== undefined ? 1 : m[2] !== undefined ? 2 : 3;
  const v = m[g];
  const unquotedColon = g === 3 && !m[0].includes('=');
  // "password: reset it" is prose; unquoted values after ':' need a non-letter to count.
  if (!realValue(v) || (unquotedColon && /^[A-Za-z]+$/.test(v))) return at + hit.length;
  const [s, e] = m.indices![g];
  push('password_assignment', s, e, unquotedColon ? 0.7 : 0.85);
  return e;
}

/** A long token run [s, e): an AWS secret if a keyword is close before it, else maybe high_entropy. */
function tokenRun(text: string, s: number, e: number, push: Push): void {
  if (e - s >= 40 && AWS_WORD_RE.test(text.slice(Math.max(0, s - 80), e))) {
    const ws = Math.max(0, s - 1);
    const w = text.slice(ws, Math.min(text.length, e + 1));
    AWS_SECRET_RE.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = AWS_SECRET_RE.exec(w)) !== null) {
      if (mixed(m[0])) push('aws_secret_key', ws + m.index, ws + m.index + 40, 0.8);
    }
  }
  // `key=VALUE` glued into one run: only the value is the secret.
  for (let i = e - 2; i > s; i--) {
    if (text.charCodeAt(i) === 61 && text.charCodeAt(i + 1) !== 61) {
      s = i + 1;
      break;
    }
  }
  if (e - s < MIN_TOKEN) return;
  if (text.startsWith(';base64,', s - 8)) return; // data: URL payloads (inline images) are content
  const tok = text.slice(s, e);
  if (SRI_RE.test(tok)) return; // lockfile/HTML integrity hashes are public
  const segs = tok.split('/');
  // A path or URL (>= 2 word-like segments): judge each segment alone, so a commit hash in a
  // GitHub URL counts as a hash and "src/lib/dom" does not lend the token its variety.
  if (segs.length >= 3 && segs.filter((x) => x.length >= 3 && WORD_SEGMENT_RE.test(x)).length >= 2) {
    let off = s;
    for (const seg of segs) {
      const c = seg.length >= MIN_TOKEN ? entropyConfidence(seg) : 0;
      if (c > 0) push('high_entropy', off, off + seg.length, c);
      off += seg.length + 1;
    }
    return;
  }
  const c = entropyConfidence(tok);
  if (c > 0) push('high_entropy', s, e, c);
}

/** Secrets and credentials detector. */
export function createSecretsDetector(): Detector {
  return {
    id: 'secrets',
    scan(text: string): Finding[] {
      const out: Finding[] = [];
      // Overlaps resolve by rank at the end (see keepBestRanked), independent of scan order.
      const push: Push = (type, start, end, confidence) => {
        out.push({ detector: 'secrets', type, start, end, confidence });
      };
      endMarkers.clear();

      for (const pre of PREFILTERS) {
        pre.lastIndex = 0;
        let m: RegExpExecArray | null;
        while ((m = pre.exec(text)) !== null) pre.lastIndex = Math.max(pre.lastIndex, atHit(text, m.index, m[0], push));
      }

      // Runs of >= 24 token chars always contain a full 24-char window, so test windows right to
      // left and, on a non-token char at j, jump to j + 1 (Horspool-style): prose costs ~n/15 reads.
      const n = text.length;
      let b = 0;
      while (b + MIN_TOKEN <= n) {
        let j = b + MIN_TOKEN - 1;
        for (; j >= b; j--) {
          const c = text.charCodeAt(j);
          if (c >= 128 || TOKEN_CHAR[c] === 0) break;
        }
        if (j >= b) {
          b = j + 1;
          continue;
        }
        let s = b;
        let e = b + MIN_TOKEN;
        while (s > 0 && text.charCodeAt(s - 1) < 128 && TOKEN_CHAR[text.charCodeAt(s - 1)] === 1) s--;
        while (e < n && text.charCodeAt(e) < 128 && TOKEN_CHAR[text.charCodeAt(e)] === 1) e++;
        tokenRun(text, s, e, push);
        b = e + 1;
      }
      return keepBestRanked(out, (f) => rank(f.type));
    },
  };
}
