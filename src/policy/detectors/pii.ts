import { keepBestRanked } from './overlaps.js';
import { scanPhones } from './phone.js';
import type { Detector, Finding } from './types.js';

export type PiiType = 'email' | 'phone' | 'payment_card' | 'iban' | 'us_ssn' | 'ip_address';

/** All types, in priority order: when spans overlap, only the earlier type is reported. */
export const PII_TYPES: readonly PiiType[] = ['iban', 'payment_card', 'us_ssn', 'email', 'ip_address', 'phone'];

// Cheap first pass: a run of >= 7 digits/separators. Cards, SSNs, IPv4 and phones all contain
// one, so their (costlier) regexes only run on these short windows instead of the whole text.
const CLUSTER_RE = /\d[\d().\- ]{6,}/g;

// All patterns are linear: every repetition is separated by a mandatory delimiter or bounded,
// and lookbehinds make starts inside a run fail at once.
const CARD_RE = /(?<![\w.-])(?:\d[ -]?){12,18}\d(?!\w)/g;
const IBAN_RE = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g;
const SSN_RE = /(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])/g;
const IPV4_RE = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)/g;
const IPV6_RE = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:]|\.\d)/y;

/** Luhn (mod 10) check over a string of ASCII digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (dbl && (d *= 2) > 9) d -= 9;
    sum += d;
    dbl = !dbl;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** Known issuer (IIN) ranges with their usual lengths; a Luhn-valid number outside them is most likely an ID. */
function knownIssuer(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  if (d.charCodeAt(0) === 52) return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // Amex
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) return n >= 16; // Discover
  if (p4 >= 3528 && p4 <= 3589) return n >= 16; // JCB
  if (p2 === 36 || p2 === 38 || (p3 >= 300 && p3 <= 305)) return n >= 14; // Diners
  return p2 === 62 && n >= 16; // UnionPay
}

function cardSpanOk(raw: string): boolean {
  // Grouped numbers use one separator kind and groups of 3-6 digits (4-4-4-4, 4-6-5, ...).
  let digits = '';
  let sep = 0;
  let group = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits += raw[i];
      group++;
      continue;
    }
    if ((sep !== 0 && c !== sep) || group < 3 || group > 6) return false;
    sep = c;
    group = 0;
  }
  if (sep !== 0 && (group < 3 || group > 6)) return false;
  return knownIssuer(digits) && luhnValid(digits);
}

/** IBAN lengths: SEPA members plus a few common non-SEPA countries. */
const IBAN_LENGTH: Record<string, number> = {
  AD: 24, AT: 20, BE: 16, BG: 22, CH: 21, CY: 28, CZ: 24, DE: 22, DK: 18, EE: 20, ES: 24, FI: 18,
  FR: 27, GB: 22, GI: 23, GR: 27, HR: 21, HU: 28, IE: 22, IS: 26, IT: 27, LI: 21, LT: 20, LU: 20,
  LV: 21, MC: 27, MT: 31, NL: 18, NO: 15, PL: 28, PT: 25, RO: 24, SE: 24, SI: 19, SK: 24, SM: 27,
  VA: 22, AE: 23, BR: 29, IL: 23, SA: 24, TR: 26,
};

/** ISO 13616 mod-97 over the rearranged IBAN (first four chars moved to the end, letters as 10..35). */
function ibanChecksumOk(s: string): boolean {
  let r = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt((k + 4) % s.length);
    if (c >= 48 && c <= 57) r = (r * 10 + c - 48) % 97;
    else if (c >= 65 && c <= 90) r = (r * 100 + c - 55) % 97;
    else return false;
  }
  return r === 1;
}

/** Length of the raw IBAN span (spaces included) if valid, else 0. Tolerates a trailing word glued on as a group. */
function ibanSpan(raw: string): number {
  const want = IBAN_LENGTH[raw.slice(0, 2)];
  if (want === undefined) return 0;
  let norm = '';
  let i = 0;
  for (; i < raw.length && norm.length < want; i++) if (raw.charCodeAt(i) !== 32) norm += raw[i];
  if (norm.length !== want || (i < raw.length && raw.charCodeAt(i) !== 32)) return 0;
  return ibanChecksumOk(norm) ? i : 0;
}

function ssnOk(s: string): boolean {
  const area = s.slice(0, 3);
  return area !== '000' && area !== '666' && s.charCodeAt(0) !== 57 && s.slice(4, 6) !== '00' && s.slice(7) !== '0000';
}

function ipv4Ok(s: string): boolean {
  let octet = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) octet = 0;
    else if ((octet = octet * 10 + c - 48) > 255) return false;
  }
  return true;
}

function ipv6Ok(s: string): boolean {
  const dbl = s.indexOf('::');
  if (dbl === -1) return s.split(':').every((g, _i, all) => all.length === 8 && g.length > 0);
  if (s.indexOf('::', dbl + 1) !== -1) return false;
  const head = dbl === 0 ? [] : s.slice(0, dbl).split(':');
  const tail = dbl + 2 === s.length ? [] : s.slice(dbl + 2).split(':');
  const n = head.length + tail.length;
  return n >= 1 && n <= 7 && head.every((g) => g.length > 0) && tail.every((g) => g.length > 0);
}

function isLocalChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}
function isDomainChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 45;
}
function isAlpha(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** Expands around each '@' instead of running a regex: no backtracking over long word runs. */
function scanEmails(text: string, push: Push): void {
  let at = text.indexOf('@');
  while (at !== -1) {
    let s = at;
    while (s > 0 && at - s <= 64 && isLocalChar(text.charCodeAt(s - 1))) s--;
    let ok = at - s <= 64 && (s === 0 || !isLocalChar(text.charCodeAt(s - 1)));
    while (s < at && text.charCodeAt(s) === 46) s++;
    let e = at + 1;
    while (e < text.length && e - at <= 255 && isDomainChar(text.charCodeAt(e))) e++;
    while (e > at + 1 && (text.charCodeAt(e - 1) === 46 || text.charCodeAt(e - 1) === 45)) e--;
    ok &&= s < at;
    // Only the domain is searched: an unbounded lastIndexOf would rescan the text at every '@'.
    let dot = e - 1;
    while (dot > at && text.charCodeAt(dot) !== 46) dot--;
    if (ok && dot > at + 1 && e - dot > 2) {
      for (let i = dot + 1; i < e; i++) if (!isAlpha(text.charCodeAt(i))) ok = false;
      for (let i = at + 1; i < e && ok; i++) {
        const c = text.charCodeAt(i);
        const p = text.charCodeAt(i - 1);
        if (c === 46 && (p === 46 || p === 64 || p === 45)) ok = false; // empty label or label ending in '-'
        if (c === 45 && (p === 46 || p === 64)) ok = false;
      }
      if (ok) push('email', s, e, 0.95);
    }
    at = text.indexOf('@', Math.max(e, at + 1));
  }
}

/** PII detector; `types` restricts which PII types are reported (all by default). */
export function createPiiDetector(types: PiiType[] = [...PII_TYPES]): Detector {
  const on = new Set<PiiType>(types);
  for (const t of on) if (!PII_TYPES.includes(t)) throw new Error(`unknown PII type: ${String(t)}`);
  const rank = (t: PiiType): number => PII_TYPES.indexOf(t);
  // [type, regex, validator returning the span length or 0, confidence, min digits in the cluster]
  const windowed: [PiiType, RegExp, (m: string) => number, number, number][] = [];
  if (on.has('payment_card')) windowed.push(['payment_card', CARD_RE, (m) => (cardSpanOk(m) ? m.length : 0), 0.95, 13]);
  if (on.has('us_ssn')) windowed.push(['us_ssn', SSN_RE, (m) => (ssnOk(m) ? 11 : 0), 0.85, 9]);
  if (on.has('ip_address')) windowed.push(['ip_address', IPV4_RE, (m) => (ipv4Ok(m) ? m.length : 0), 0.7, 4]);

  return {
    id: 'pii',
    scan(text: string): Finding[] {
      const out: Finding[] = [];
      // Overlaps resolve by PII_TYPES priority at the end, independent of scan order.
      const push = (type: PiiType, start: number, end: number, confidence: number): void => {
        out.push({ detector: 'pii', type, start, end, confidence });
      };

      if (on.has('email')) scanEmails(text, push);
      if (on.has('iban')) {
        IBAN_RE.lastIndex = 0;
        let m: RegExpExecArray | null;
        while ((m = IBAN_RE.exec(text)) !== null) {
          const len = ibanSpan(m[0]);
          if (len) push('iban', m.index, m.index + len, 0.95);
        }
      }
      if (on.has('ip_address')) scanIpv6(text, push);

      const cl = CLUSTER_RE;
      cl.lastIndex = 0;
      let c: RegExpExecArray | null;
      while ((c = cl.exec(text)) !== null) {
        let digits = 0;
        for (let i = c.index; i < cl.lastIndex; i++) if (text.charCodeAt(i) <= 57 && text.charCodeAt(i) >= 48) digits++;
        if (digits < 4) continue; // an IPv4 address is the shortest candidate
        // Two chars of context each side feed the lookbehinds/lookaheads ('+', '(' and word checks).
        const ws = Math.max(0, c.index - 2);
        const w = text.slice(ws, Math.min(text.length, cl.lastIndex + 2));
        for (const [type, re, check, conf, minDigits] of windowed) {
          if (digits < minDigits) continue;
          re.lastIndex = 0;
          let m: RegExpExecArray | null;
          while ((m = re.exec(w)) !== null) {
            const len = check(m[0]);
            if (len) push(type, ws + m.index, ws + m.index + len, conf);
          }
        }
        if (digits >= 8 && on.has('phone')) scanPhones(w, ws, push);
      }
      return keepBestRanked(out, (f) => rank(f.type as PiiType));
    },
  };
}

type Push = (type: PiiType, s: number, e: number, c: number) => void;

function isHexOrColon(c: number): boolean {
  return (c >= 48 && c <= 58) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** IPv6 candidates start only around a ':' with hex/':' on both sides, found with indexOf. */
function scanIpv6(text: string, push: Push): void {
  let i = text.indexOf(':');
  while (i !== -1) {
    let next = i + 1;
    if (i > 0 && isHexOrColon(text.charCodeAt(i - 1)) && isHexOrColon(text.charCodeAt(i + 1))) {
      let s = i;
      while (s > 0 && i - s < 40 && isHexOrColon(text.charCodeAt(s - 1))) s--;
      IPV6_RE.lastIndex = s;
      const m = IPV6_RE.exec(text);
      if (m !== null && ipv6Ok(m[0])) push('ip_address', s, s + m[0].length, 0.7);
      while (next < text.length && isHexOrColon(text.charCodeAt(next))) next++;
    }
    i = text.indexOf(':', next);
  }
}
