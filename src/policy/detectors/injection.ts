import { keepBestRanked } from './overlaps.js';
import type { Detector, Finding } from './types.js';

interface Pattern {
  type: string;
  weight: number;
  src: string;
  /**
   * Lower-case literals (>= 4 chars), one of which every match contains. Only a hit on a key
   * makes the pattern run, and only on a window around the hit.
   */
  keys: string[];
  re?: RegExp;
}

const W = String.raw`\s+`; // words may be separated by any run of whitespace, newlines included

// Heuristic phrase list. Weights are rough precision estimates: a phrase that is almost only
// seen in attacks gets ~0.9, one that also occurs in benign requests stays below 0.5.
const PATTERNS: Pattern[] = [
  {
    type: 'ignore_instructions',
    weight: 0.9,
    src: String.raw`\b(?:ignore|disregard|forget|override)${W}(?:(?:all|any|every|the|of|your|my|these|those)${W}){0,3}(?:previous|prior|above|earlier|preceding|foregoing|former|original|initial|developer)${W}(?:[a-z]+${W})?(?:instructions?|prompts?|rules|directives?|guidelines|guidance|messages?|context|constraints)\b`,
    keys: ['ignor', 'disregard', 'forget', 'overrid'],
  },
  {
    type: 'ignore_instructions',
    weight: 0.75,
    src: String.raw`\b(?:ignore|disregard|forget)${W}(?:(?:all|everything)${W})?(?:(?:of${W})?(?:the${W})?above|(?:that|what)${W}you${W}(?:were|have${W}been)${W}told)\b`,
    keys: ['ignor', 'disregard', 'forget'],
  },
  {
    type: 'system_prompt_override',
    weight: 0.9,
    src: String.raw`\b(?:disregard|ignore|override|bypass|forget)${W}(?:(?:all|the|your|this|of|my)${W}){0,3}system${W}(?:prompt|message|instructions?)\b`,
    keys: ['ignor', 'disregard', 'overrid', 'bypass', 'forget'],
  },
  {
    type: 'role_marker',
    weight: 0.9,
    src: String.raw`<\|im_start\|>\s*(?:system|assistant|developer)\b`,
    keys: [],
  },
  {
    type: 'role_marker',
    weight: 0.7,
    src: String.raw`<\|(?:im_start|im_end|system|endoftext|begin_of_text|start_header_id|end_header_id|eot_id)\|>|\[/?(?:INST|SYS)\]|<</?SYS>>`,
    keys: [],
  },
  { type: 'role_marker', weight: 0.7, src: String.raw`#{2,}\s*(?:system|assistant|instructions?)\s*:`, keys: [] },
  // Unindented only: indented "system:" is nearly always code or YAML.
  { type: 'role_marker', weight: 0.3, src: String.raw`(?<=(?:^|\n)[>*]*)system\s*(?:prompt\s*)?:[ \t]`, keys: ['system'] },
  {
    type: 'dan',
    weight: 0.9,
    src: String.raw`\byou${W}are${W}(?:now${W})?(?:DAN|STAN|DUDE|AIM)\b|\bDAN${W}mode\b|\bdo${W}anything${W}now\b`,
    keys: ['anything'],
  },
  {
    type: 'developer_mode',
    weight: 0.85,
    src: String.raw`\b(?:developer|god|jailbreak)${W}mode${W}(?:is${W})?(?:enabled|activated|output|response)\b`,
    keys: ['mode'],
  },
  { type: 'developer_mode', weight: 0.35, src: String.raw`\b(?:developer|god)${W}mode\b`, keys: ['mode'] },
  {
    type: 'no_restrictions',
    weight: 0.85,
    src: String.raw`\bpretend${W}(?:that${W})?(?:you${W})?(?:have|are|had|were)${W}(?:no|zero|without(?:${W}any)?|free${W}(?:of|from))${W}(?:[a-z]+${W})?(?:restrictions|limits|limitations|filters|rules|guidelines|boundaries|constraints)\b`,
    keys: ['pretend'],
  },
  {
    type: 'no_restrictions',
    weight: 0.75,
    src: String.raw`\byou${W}(?:are${W}no${W}longer${W}(?:bound|restricted|limited|an${W}ai|an${W}assistant|a${W}language${W}model)|(?:have|are${W}bound${W}by)${W}no${W}(?:restrictions|rules|limitations|filters|guidelines))\b`,
    keys: ['longer', 'restrict', 'filter', 'guideline', 'limitation', 'rules'],
  },
  {
    type: 'reveal_system_prompt',
    weight: 0.8,
    src: String.raw`\b(?:reveal|show|print|output|repeat|display|leak|dump|tell${W}me|give${W}me|what${W}(?:is|are|was|were))${W}(?:me${W})?(?:your|the)${W}(?:(?:full|entire|exact|original|complete|hidden|secret|initial)${W})?(?:system${W}(?:prompt|message|instructions)|(?:initial|hidden|original|secret)${W}(?:prompt|instructions)|instructions${W}above)\b`,
    keys: ['system', 'prompt', 'instruction'],
  },
  {
    type: 'reveal_system_prompt',
    weight: 0.7,
    src: String.raw`\brepeat${W}(?:(?:the|all)${W})?(?:words|text|everything)${W}above\b`,
    keys: ['above'],
  },
  {
    type: 'unfiltered_persona',
    weight: 0.85,
    src: String.raw`\bact${W}as${W}(?:(?:an?|my)${W})?(?:unfiltered|uncensored|unrestricted|jailbroken|evil|unaligned|amoral)\b`,
    keys: ['filter', 'censor', 'restrict', 'jailbr', 'evil', 'aligned', 'amoral'],
  },
  {
    type: 'unfiltered_persona',
    weight: 0.6,
    src: String.raw`\b(?:unfiltered|uncensored|unrestricted|jailbroken)${W}(?:ai|assistant|model|chatbot|version|mode|llm)\b`,
    keys: ['filter', 'censor', 'restrict', 'jailbr'],
  },
  {
    type: 'bypass_safety',
    weight: 0.6,
    src: String.raw`\b(?:bypass|disable|circumvent|evade|turn${W}off)${W}(?:(?:your|the|all|any)${W})?(?:safety|content|security|ethical)${W}(?:filters?|guardrails|restrictions|safeguards|policies|guidelines|moderation)\b`,
    keys: ['filter', 'guardrail', 'restrict', 'safeguard', 'polic', 'guideline', 'moderation'],
  },
  {
    type: 'base64_instructions',
    weight: 0.6,
    src: String.raw`\b(?:decode|interpret)${W}(?:(?:the|this|these|following)${W}){0,2}base64${W}(?:(?:string|text|message|below|and|then)${W}){1,3}(?:follow|execute|obey|do|run)\b|\b(?:follow|execute|obey)${W}(?:(?:the|this|these|following)${W}){0,2}base64\b|\bbase64[\s-]*(?:encoded|decoded)?${W}(?:instructions?|prompt|commands?)\b`,
    keys: ['base64'],
  },
  { type: 'new_instructions', weight: 0.45, src: String.raw`\b(?:new|updated|real)${W}(?:system${W})?instructions?\s*:`, keys: ['instruction'] },
  { type: 'new_instructions', weight: 0.4, src: String.raw`\bfrom${W}now${W}on,?${W}you${W}(?:are|will|must|shall)\b`, keys: ['now on'] },
  { type: 'jailbreak', weight: 0.5, src: String.raw`\bjailbr(?:eak(?:s|ing|ed)?|oken)\b`, keys: ['jailbr'] },
];

/** Base64 text of `word` placed at byte offset 0, 1 and 2, keeping only characters that depend on the word alone. */
function base64Stems(word: string): string[] {
  const stems: string[] = [];
  for (let pad = 0; pad < 3; pad++) {
    const b64 = btoa('\0'.repeat(pad) + word);
    const full = Math.floor((pad + word.length) / 3) * 4; // chars not touched by '=' padding
    stems.push(b64.slice([0, 2, 3][pad], full));
  }
  return stems;
}

// Encoded attacks: "aWdub3JlIGFsbCBwcmV2aW91cyBpbnN0cnVjdGlvbnM=" etc. Matched case-sensitively,
// in a separate regex, because base64 is case-sensitive and the phrase regex is not.
const B64_WORDS = ['instructions', 'ignore all', 'Ignore all', 'ignore previous', 'Ignore previous', 'system prompt', 'disregard', 'Disregard'];
const B64_RE = new RegExp([...new Set(B64_WORDS.flatMap(base64Stems))].join('|').replace(/\+/g, '\\+'), 'g');
const B64_CHAR = /[A-Za-z0-9+/=]/;
const B64_PATTERN: Pattern = { type: 'base64_instructions', weight: 0.75, src: '', keys: [] };

for (const p of PATTERNS) p.re = new RegExp(p.src, 'gi');
const byType = (...types: string[]): Pattern[] => PATTERNS.filter((p) => types.includes(p.type));

const KEYED = new Map<string, Pattern[]>();
for (const p of PATTERNS) for (const k of p.keys) KEYED.set(k, [...(KEYED.get(k) ?? []), p]);
// Only literals of >= 4 chars: V8 scans such alternations quickly, short ones make it crawl.
const KEY_RE = new RegExp([...KEYED.keys()].join('|'), 'g');
const KEY_RE_I = new RegExp(KEY_RE.source, 'gi');

// Markers whose first char is rare in prose, matched case-sensitively ("DAN" is always upper-case
// in the wild; lower-case "dan" is a name). Hits are routed by their first char.
// A run of '#' is one hit (not one per pair), so "#####…" costs one window, not one per char.
const MARKER_RE = /<\||\[\/?(?:INST|SYS)\]|<<\/?SYS>>|#{2,}|\b(?:DAN|STAN|DUDE|AIM)\b/g;
const ROLE_TOKENS = byType('role_marker').filter((p) => p.keys.length === 0 && !p.src.startsWith('#'));
const HASH_MARKERS = byType('role_marker').filter((p) => p.src.startsWith('#'));
const ROLE_TOKENS_AT = ROLE_TOKENS.map((p) => new RegExp(p.src, 'iy'));
const DAN = byType('dan');

// A window around a hit must hold the whole phrase; phrases padded with more whitespace than
// this are missed (a documented limitation, it keeps per-hit work bounded).
const BACK = 100;
const AHEAD = 140;

/** Runs `patterns` on a window around the hit [h, he) and keeps matches that contain the hit. */
function tryAt(text: string, h: number, he: number, patterns: readonly Pattern[], out: Finding[]): void {
  const ws = Math.max(0, h - BACK);
  const w = text.slice(ws, Math.min(text.length, he + AHEAD));
  for (const p of patterns) {
    const re = p.re!;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(w)) !== null && ws + m.index <= h) {
      if (ws + m.index + m[0].length >= he) {
        add(out, p, ws + m.index, ws + m.index + m[0].length);
        break;
      }
      if (m[0].length === 0) re.lastIndex++;
    }
  }
}

/** Collects a match; overlaps are resolved once at the end (see `scan`). */
function add(out: Finding[], p: Pattern, start: number, end: number): void {
  out.push({ detector: 'prompt_injection', type: p.type, start, end, confidence: p.weight });
}

/**
 * Combined injection score: 1 − Π(1 − confidence_i), i.e. the probability that at least one
 * finding is a true positive if findings were independent. Stays in [0, 1], never decreases
 * when a finding is added, and a single 0.9 finding alone scores 0.9.
 */
export function injectionScore(findings: readonly Finding[]): number {
  let miss = 1;
  for (const f of findings) miss *= 1 - Math.min(1, Math.max(0, f.confidence));
  return 1 - miss;
}

/** Prompt-injection / jailbreak heuristics over user (or tool/response) text. */
export function createInjectionDetector(): Detector {
  return {
    id: 'prompt_injection',
    scan(text: string): Finding[] {
      const out: Finding[] = [];
      let m: RegExpExecArray | null;
      // Lower-casing once and matching without /i is ~30% faster. Offsets stay aligned unless a
      // char lower-cases to two code units (e.g. U+0130); then fall back to the /i regex.
      const lower = text.toLowerCase();
      const aligned = lower.length === text.length;
      const keyRe = aligned ? KEY_RE : KEY_RE_I;
      const subject = aligned ? lower : text;
      keyRe.lastIndex = 0;
      while ((m = keyRe.exec(subject)) !== null) {
        tryAt(text, m.index, keyRe.lastIndex, KEYED.get(m[0].toLowerCase())!, out);
      }
      MARKER_RE.lastIndex = 0;
      while ((m = MARKER_RE.exec(text)) !== null) {
        const c = m[0].charCodeAt(0);
        const group = c === 35 ? HASH_MARKERS : c === 60 || c === 91 ? ROLE_TOKENS : DAN;
        if (group === ROLE_TOKENS) {
          // Role tokens start at their marker: one sticky match there, not a window search per
          // hit (a text of "<|<|<|…" has a hit every two characters).
          for (let k = 0; k < ROLE_TOKENS.length; k++) {
            const re = ROLE_TOKENS_AT[k];
            re.lastIndex = m.index;
            const r = re.exec(text);
            if (r !== null) add(out, ROLE_TOKENS[k], m.index, m.index + r[0].length);
          }
          continue;
        }
        // For a '#' run the hit is its last two chars: the window then holds at most BACK of it.
        tryAt(text, c === 35 ? MARKER_RE.lastIndex - 2 : m.index, MARKER_RE.lastIndex, group, out);
      }
      if (text.length >= 16) {
        let after = 0;
        B64_RE.lastIndex = 0;
        let b: RegExpExecArray | null;
        while ((b = B64_RE.exec(text)) !== null) {
          if (b.index < after) continue;
          let s = b.index;
          let e = B64_RE.lastIndex;
          while (s > 0 && B64_CHAR.test(text[s - 1])) s--;
          while (e < text.length && B64_CHAR.test(text[e])) e++;
          add(out, B64_PATTERN, s, e);
          after = e;
        }
      }
      // Overlapping matches (two patterns reading one phrase) count once, at the higher weight,
      // so the score is not inflated.
      return keepBestRanked(out, (f) => -f.confidence);
    },
  };
}
