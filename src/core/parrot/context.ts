import type { ChatRequest } from '../llm/client';
import type { Turn } from '../model';
import { transcript } from './messages';
import { loadTemplate, render, type Template } from './templates';

export interface ContextDependence {
  dependent: boolean;
  /** 0..1; `dependent` is `score >= threshold`. */
  score: number;
  /** Which cues fired, e.g. `back-reference: "your previous response"`. */
  cues: string[];
}

interface Cue {
  name: string;
  re: RegExp;
  weight: number;
  /** Weaker in long turns, which usually carry their own antecedents. */
  scaled: boolean;
}

const OUTPUT_NOUN =
  '(?:response|answer|reply|replies|responses|answers|question|message|example|examples|one|version|output|solution|code|text|story|poem|essay|email|list|plan|paragraph|suggestion|explanation|function|program|query|result|draft|outline|conversation)';

/** The words "again / instead" looks for at the end of a turn (also read by `endsLikeAgain`). */
const AGAIN_WORDS = 'again|instead|as well|too|also|more|less|shorter|longer|simpler';

export const CUES: readonly Cue[] = [
  {
    name: 'back-reference',
    re: new RegExp(
      `\\b(?:(?:your|the|my|that|this)\\s+(?:own\\s+)?(?:previous|earlier|last|prior|original|above|former)\\s+${OUTPUT_NOUN}\\b|\\bthe\\s+above\\b|\\babove\\s+${OUTPUT_NOUN}\\b|\\bthe\\s+same\\s+(?:task|thing|question|way|format)\\b|\\b(?:continue|building)\\s+(?:on|from)\\b|\\bas\\s+(?:before|mentioned)\\b)`,
      'i',
    ),
    weight: 1,
    scaled: false,
  },
  {
    name: 'reference to an earlier output',
    re: new RegExp(
      `\\byour\\s+(?:own\\s+)?${OUTPUT_NOUN}\\b|\\babove\\b(?!\\s+(?:all|average|zero|\\d))`,
      'i',
    ),
    weight: 0.7,
    scaled: true,
  },
  {
    name: 'ordinal reference',
    re: /\b(?:the|your)\s+(?:first|second|third|fourth|fifth|last|latter|former|other)\s+(?:one|option|example|point|step|case|statement|item|paragraph|sentence|film|story|idea|impact|question|method|approach|solution|part|version)\b|\bsituation\s*\([a-z]\)|\boption\s+[a-z0-9]\b/i,
    weight: 0.7,
    scaled: true,
  },
  {
    name: 'elliptical opener',
    re: /^\s*(?:and|but|so|or|then|now|also|what about|how about|what if|why not|why\b|ok(?:ay)?|instead|same\b|again\b)/i,
    weight: 0.6,
    scaled: true,
  },
  {
    name: 'again / instead',
    re: new RegExp(`\\b(?:${AGAIN_WORDS})\\s*[?.!]?\\s*$|\\bdo the same\\b|\\bthe same task\\b`, 'i'),
    weight: 0.5,
    scaled: true,
  },
  {
    name: 'comparative without object',
    re: /\b(?:better|faster|shorter|longer|simpler|cheaper|more\s+\w+|less\s+\w+)\b(?![^.?!]*\bthan\b)/i,
    weight: 0.25,
    scaled: true,
  },
];

const DEMONSTRATIVE_START =
  /^\s*(?:(?:can|could|would|will|do|does|is|are|was|please|make|rewrite|explain|translate|summarize|use|put|turn|convert|fix|change|improve|shorten|expand|apply|run|test)\s+(?:you\s+)?)*(?:it|this|that|these|those|them)\b/i;

const FENCED = /```[\s\S]*?```/g;
// `that` (often a conjunction) and possessives are left out: too often their antecedent is in the turn.
export const PRONOUN = /\b(it|this|these|those|them|they)\b/i;

/** The bit of `cueGate` for PRONOUN; bit i (i < CUES.length) is CUES[i]'s. */
export const PRONOUN_BIT = 1 << CUES.length;
const ELLIPTICAL = 1 << CUES.findIndex((c) => c.name === 'elliptical opener');
const AGAIN = 1 << CUES.findIndex((c) => c.name === 'again / instead');

/**
 * For each cue, the words one of which every match of its expression holds as a whole word (a run
 * of ASCII letters, digits and `_`, which is what `\b` bounds without the `u` flag), in any case:
 * a text without any of them cannot match it. The elliptical opener (anchored at the start) has
 * none; the end of "again / instead" is looked at by `endsLikeAgain`.
 */
const CUE_WORDS: Record<string, readonly string[]> = {
  'back-reference': [
    'previous',
    'earlier',
    'last',
    'prior',
    'original',
    'above',
    'former',
    'same',
    'continue',
    'building',
    'before',
    'mentioned',
  ],
  'reference to an earlier output': ['your', 'above'],
  'ordinal reference': [
    'first',
    'second',
    'third',
    'fourth',
    'fifth',
    'last',
    'latter',
    'former',
    'other',
    'situation',
    'option',
  ],
  'again / instead': ['same'],
  'comparative without object': [
    'better',
    'faster',
    'shorter',
    'longer',
    'simpler',
    'cheaper',
    'more',
    'less',
  ],
};
const PRONOUN_WORDS = ['it', 'this', 'these', 'those', 'them', 'they'];

/** The gate's words (lower case) and the bits each sets, in an open-addressed table by hash. */
const GATE_SLOTS = 1024;
const gateWords: string[] = [];
const gateBits: number[] = [];
const gateTable = new Int16Array(GATE_SLOTS).fill(-1);
/** The longest gate word's length (a longer run of word characters is none of them). */
let maxGateWord = 0;

function gateHash(h: number, c: number): number {
  return (Math.imul(h, 31) + c) | 0;
}

function addGateWord(w: string, bit: number): void {
  let i = gateWords.indexOf(w);
  if (i < 0) {
    i = gateWords.push(w) - 1;
    gateBits.push(0);
    maxGateWord = Math.max(maxGateWord, w.length);
    let h = 0;
    for (let j = 0; j < w.length; j++) h = gateHash(h, w.charCodeAt(j));
    let slot = h & (GATE_SLOTS - 1);
    while (gateTable[slot] >= 0) slot = (slot + 1) & (GATE_SLOTS - 1);
    gateTable[slot] = i;
  }
  gateBits[i] |= bit;
}
CUES.forEach((c, i) => {
  for (const w of CUE_WORDS[c.name] ?? []) addGateWord(w, 1 << i);
});
for (const w of PRONOUN_WORDS) addGateWord(w, PRONOUN_BIT);

/** What `scanTurn` found in the last text. */
const scanned = { words: 0, gate: 0 };

/**
 * One pass over a turn's text: its word count (`words(text).length`: by ASCII_CLASS and WIDE_CLASS
 * when every character has a class, else by `unicodeWordCount`) and the bits of the gate words it
 * holds as whole words.
 */
function scanTurn(text: string): void {
  let bits = 0;
  let words = 0;
  let inWord = false;
  let byClass = true; // every character has a class of 1 or 2 (see WIDE_CLASS)
  const n = text.length;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    if (c >= 128) {
      // Not a word character for `\b`; for `words`, a separator or not as its NFKC form is, when
      // that can be told from the character alone (wideClass), else the text is counted whole.
      const w = byClass ? wideClass(c) : 3;
      if (w === 3) byClass = false;
      else if (w === 2) inWord = false;
      else if (!inWord) {
        inWord = true;
        words++;
      }
      i++;
      continue;
    }
    let k = ASCII_CLASS[c];
    if ((k & 1) === 0) {
      if (k & 2) inWord = false;
      else if (!inWord) {
        inWord = true;
        words++;
      }
      i++;
      continue;
    }
    // A run of word characters for `\b`, hashed as it is read (`_` among them separates `words`).
    const start = i;
    let h = 0;
    for (;;) {
      if (k & 2) inWord = false;
      else if (!inWord) {
        inWord = true;
        words++;
      }
      h = gateHash(h, c | 0x20);
      if (++i >= n) break;
      c = text.charCodeAt(i);
      if (c >= 128) break;
      k = ASCII_CLASS[c];
      if ((k & 1) === 0) break;
    }
    const len = i - start;
    if (len < 2 || len > maxGateWord) continue;
    for (let slot = h & (GATE_SLOTS - 1); gateTable[slot] >= 0; slot = (slot + 1) & (GATE_SLOTS - 1)) {
      const w = gateWords[gateTable[slot]];
      if (w.length !== len) continue;
      let j = 0;
      // `| 0x20` lower-cases a letter; a digit keeps its code and '_' becomes 0x7f, neither a letter.
      while (j < len && (text.charCodeAt(start + j) | 0x20) === w.charCodeAt(j)) j++;
      if (j === len) {
        bits |= gateBits[gateTable[slot]];
        break;
      }
    }
  }
  scanned.words = byClass ? words : unicodeWordCount(text);
  scanned.gate = bits;
}

/** "again / instead"'s words at the very end (perhaps followed by one of `?.!`, spaces around it). */
const AGAIN_END = new RegExp(`\\b(?:${AGAIN_WORDS})$`, 'i');

/**
 * Whether `text` matches the first alternative of "again / instead",
 * `\b(?:again|…|simpler)\s*[?.!]?\s*$`: without its trailing whitespace (what `\s` matches is
 * what trimEnd removes), the text ends with one of the words, or with one of them, whitespace and
 * one of `?.!`. The words are at most 7 characters, so the last 12 hold the one before the word
 * that `\b` looks at.
 */
function endsLikeAgain(text: string): boolean {
  const t = text.trimEnd();
  if (AGAIN_END.test(t.slice(-12))) return true;
  const last = t.charCodeAt(t.length - 1);
  return (
    (last === 0x3f || last === 0x2e || last === 0x21) && AGAIN_END.test(t.slice(0, -1).trimEnd().slice(-12))
  );
}

/**
 * Which cues can fire in `text`: bit i for CUES[i], PRONOUN_BIT for PRONOUN. A clear bit means its
 * expression cannot match; a set bit only that it may (the expression decides).
 */
export function cueGate(text: string): number {
  scanTurn(text);
  let bits = scanned.gate | ELLIPTICAL;
  if (!(bits & AGAIN) && endsLikeAgain(text)) bits |= AGAIN;
  return bits;
}

/** A code unit of ASCII that `normalize` (text.ts) turns into a space: punctuation, symbols, whitespace. */
function asciiSeparator(c: number): boolean {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    (c >= 0x20 && c <= 0x2f) ||
    (c >= 0x3a && c <= 0x40) ||
    (c >= 0x5b && c <= 0x60) ||
    (c >= 0x7b && c <= 0x7e)
  );
}

/** Per ASCII code unit: 1 a word character for `\b` (letter, digit, `_`), 2 a separator of `words`. */
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++)
  ASCII_CLASS[c] = (/\w/.test(String.fromCharCode(c)) ? 1 : 0) | (asciiSeparator(c) ? 2 : 0);

/**
 * Per BMP code unit above ASCII, once computed (0: not yet): 1 its NFKC form holds no separator of
 * `words`, 2 only separators, 3 neither, or it cannot be judged alone. A text of ASCII and
 * characters of class 1 and 2 has the words of the classes in a row: no such character's
 * decomposition starts with a combining mark, so canonical reordering stays within each
 * character's decomposition, and a composition can join two of them only where its second part is
 * a starter that is not a mark, i.e. Hangul jamo, letters all, which leaves the runs of letters as
 * they were. Lone surrogates and halves of pairs are class 3 (`contextFast.test.ts` checks every
 * BMP character against `unicodeWordCount`).
 */
const WIDE_CLASS = new Uint8Array(0x10000);
const MARK_FIRST = /^\p{M}/u;
const SEPARATOR = /^[\p{P}\p{S}\s]$/u;

export function wideClass(c: number): number {
  let k = WIDE_CLASS[c];
  if (k === 0) {
    k = 3;
    if (c < 0xd800 || c > 0xdfff) {
      const ch = String.fromCharCode(c);
      const d = ch.normalize('NFKD');
      if (!MARK_FIRST.test(d)) {
        let seps = 0;
        let all = 0;
        for (const x of ch.normalize('NFKC')) {
          all++;
          if (SEPARATOR.test(x)) seps++;
        }
        k = seps === 0 ? 1 : seps === all ? 2 : 3;
      }
    }
    WIDE_CLASS[c] = k;
  }
  return k;
}

/** Runs of punctuation, symbols and whitespace: what separates the words of `words` (text.ts). */
const SEPARATORS = /[\p{P}\p{S}\s]+/gu;

/**
 * `words(s).length` for any text: its NFKC form with each run of separators made one space, and
 * the runs between them counted (lower-casing, which `words` also does, changes no character's
 * class between letter, mark, number, punctuation, symbol and space).
 */
function unicodeWordCount(s: string): number {
  const t = s.normalize('NFKC').replace(SEPARATORS, ' ');
  let n = 0;
  for (let i = 0; i < t.length; i++)
    if (t.charCodeAt(i) !== 32 && (i === 0 || t.charCodeAt(i - 1) === 32)) n++;
  return n;
}

/** `words(s).length` (text.ts), without making the words: by hand for ASCII text. */
export function wordCount(s: string): number {
  scanTurn(s);
  return scanned.words;
}

/**
 * The detector's score of a turn, with `cue` told each cue that fires (name, weight, what it
 * matched); with `stopAt`, it stops as soon as the score is known to reach it (the cues only add).
 */
function scoreTurn(turnText: string, cue?: (name: string, hit?: string) => void, stopAt = Infinity): number {
  let score = 0;
  const reached = (): boolean => Math.min(1, Math.round(score * 100) / 100) >= stopAt;
  const text = turnText.includes('```') ? turnText.replace(FENCED, ' ') : turnText;
  // Only the expressions that can match are run: the same cues fire. The gate's scan also counts
  // the words.
  const gate = cueGate(text);
  const n = scanned.words;
  const scale = n > 40 ? 0.4 : n > 25 ? 0.7 : 1;
  for (let i = 0; i < CUES.length; i++) {
    if ((gate & (1 << i)) === 0) continue;
    const c = CUES[i];
    if (cue) {
      const m = c.re.exec(text);
      if (!m) continue;
      cue(c.name, m[0]);
    } else if (!c.re.test(text)) continue;
    score += c.scaled ? c.weight * scale : c.weight;
    if (reached()) return score;
  }
  // Pronouns count for more in short turns (a long prompt usually carries its own antecedents).
  if (n <= 40 && (gate & PRONOUN_BIT) !== 0) {
    const first = cue ? PRONOUN.exec(text) : PRONOUN.test(text) ? [''] : null;
    if (first) {
      const leading = n <= 25 ? DEMONSTRATIVE_START.exec(text) : null;
      if (leading) {
        cue?.('leading pronoun', leading[0]);
        score += 0.6;
      } else if (n <= 15) {
        cue?.('pronoun in short turn', first[0].toLowerCase());
        score += 0.5;
      } else {
        cue?.('pronoun', first[0].toLowerCase());
        score += 0.2;
      }
      if (reached()) return score;
    }
  }
  if (n > 0 && n <= 4) {
    cue?.('very short follow-up');
    score += 0.4;
  }
  if (n === 0) cue?.('empty');
  return score;
}

/**
 * Offline detector: does this user turn depend on earlier context? Looks for back-references
 * ("your previous response", "the above"), ordinal references ("the second option"), elliptical
 * openers ("what about …", "and in Python?"), pronouns/demonstratives without an antecedent in
 * the turn itself, and very short follow-ups. With no history, nothing can be referred to.
 */
export function contextDependence(
  turnText: string,
  history: readonly Turn[] = [],
  threshold = 0.5,
): ContextDependence {
  const cues: string[] = [];
  const raw = scoreTurn(turnText, (name, hit) => cues.push(hit ? `${name}: "${hit.trim()}"` : name));
  const score = Math.min(1, Math.round(raw * 100) / 100);
  if (history.length === 0) return { dependent: false, score: 0, cues };
  return { dependent: score >= threshold, score, cues };
}

/**
 * `contextDependence(turnText, history, threshold).dependent` for a turn with some history, at a
 * fraction of its cost (no cue list; it stops once the score reaches the threshold).
 */
export function dependsOnContext(turnText: string, threshold = 0.5): boolean {
  return Math.min(1, Math.round(scoreTurn(turnText, undefined, threshold) * 100) / 100) >= threshold;
}

/** Request for an optional LLM judge (answers DEPENDENT or INDEPENDENT). */
export function buildJudgeRequest(
  turnText: string,
  history: readonly Turn[],
  model: string,
  template: Template = loadTemplate('capo-judge'),
): ChatRequest {
  return {
    model,
    messages: [
      { role: 'user', content: render(template, { transcript: transcript(history), turn: turnText }) },
    ],
    temperature: 0,
    max_tokens: 5,
  };
}

/** Reads a judge reply; undefined when it is neither word. */
export function parseJudgeReply(reply: string): boolean | undefined {
  const t = reply.trim().toUpperCase();
  if (t.startsWith('INDEPENDENT')) return false;
  if (t.startsWith('DEPENDENT')) return true;
  return undefined;
}
