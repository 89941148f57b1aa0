import { normaliseText } from '../normalize.js';
import type { Detector, Finding } from './types.js';

/** Longest accepted user regex source; a cheap first line of defence against pathological patterns. */
export const MAX_REGEX_LENGTH = 500;

const WORD_CHAR = /[\p{L}\p{N}_]/u;

/** Regex source for one blocked term: literal, case-insensitive, any whitespace run matches a space. */
function termSource(term: string): string {
  const t = term.trim();
  // '-' is left unescaped: `\-` outside a class is a syntax error under the u flag.
  const body = t
    .split(/\s+/u)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('\\s+');
  // Unicode-aware word boundaries (\b is ASCII-only), applied only on sides that are word chars,
  // so a term like "c++" or "#tag" can still match at its punctuation side.
  const chars = Array.from(t); // code points, so astral letters get boundaries too
  const pre = WORD_CHAR.test(chars[0]) ? '(?<![\\p{L}\\p{N}_])' : '';
  const post = WORD_CHAR.test(chars[chars.length - 1]) ? '(?![\\p{L}\\p{N}_])' : '';
  return pre + body + post;
}

function compileUser(src: string, index: number): RegExp {
  const name = `terms regex #${index} ${JSON.stringify(src.length > 80 ? `${src.slice(0, 80)}…` : src)}`;
  if (src.length > MAX_REGEX_LENGTH) throw new Error(`${name} is longer than ${MAX_REGEX_LENGTH} characters`);
  let body = src;
  let flags = 'g';
  // Convenience: JS has no inline flags, so accept a leading "(?i)" as in PCRE/RE2.
  if (body.startsWith('(?i)')) (body = body.slice(4)), (flags += 'i');
  try {
    return new RegExp(body, flags + 'u');
  } catch {
    try {
      // Some legacy patterns (e.g. "\-" outside a class) are only valid without the u flag.
      return new RegExp(body, flags);
    } catch (err) {
      throw new Error(`${name} is not a valid regular expression: ${(err as Error).message}`);
    }
  }
}

/**
 * Blocked terms and custom regexes from policy config.
 *
 * Terms are matched case-insensitively on word boundaries (type "term"); regexes as written
 * (type "regex"). Every finding has confidence 1: these are explicit operator choices.
 *
 * User regexes run on V8's backtracking engine, so they MUST be linear (no nested quantifiers
 * like `(a+)+`, no overlapping alternations under `*`): a bad one can stall the event loop on
 * every request. Only a length limit is enforced here; compiling them with RE2 (linear time)
 * is the planned hardening.
 */
export function createTermsDetector(terms: string[], regexes: string[]): Detector {
  // Scanned text is Unicode-normalised (normalize.ts), so terms are too: a configured "ｐａｙ" or
  // Cyrillic look-alike still matches. User regexes are used as written.
  const cleaned = [...new Set(terms.map((t) => normaliseText(t.trim()).text).filter((t) => t.length > 0))];
  // Longest first so "bad word" wins over "bad" at the same position.
  cleaned.sort((a, b) => b.length - a.length);
  const termRe = cleaned.length > 0 ? new RegExp(cleaned.map(termSource).join('|'), 'giu') : null;
  const userRes = regexes.map(compileUser);

  return {
    id: 'terms',
    scan(text: string): Finding[] {
      const out: Finding[] = [];
      if (termRe !== null) {
        termRe.lastIndex = 0;
        let m: RegExpExecArray | null;
        while ((m = termRe.exec(text)) !== null) {
          out.push({ detector: 'terms', type: 'term', start: m.index, end: m.index + m[0].length, confidence: 1 });
        }
      }
      for (const re of userRes) {
        re.lastIndex = 0;
        let m: RegExpExecArray | null;
        while ((m = re.exec(text)) !== null) {
          if (m[0].length === 0) {
            re.lastIndex++; // empty matches carry no span and would loop forever
            continue;
          }
          out.push({ detector: 'terms', type: 'regex', start: m.index, end: m.index + m[0].length, confidence: 1 });
        }
      }
      if (userRes.length > 0) out.sort((a, b) => a.start - b.start || b.end - a.end);
      return out;
    },
  };
}
