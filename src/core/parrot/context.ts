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

const CUES: Cue[] = [
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
    re: /\b(?:again|instead|as well|too|also|more|less|shorter|longer|simpler)\s*[?.!]?\s*$|\bdo the same\b|\bthe same task\b/i,
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
const PRONOUN = /\b(it|this|these|those|them|they)\b/i;

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
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return unicodeWordCount(s);
    if (asciiSeparator(c)) inWord = false;
    else if (!inWord) {
      inWord = true;
      n++;
    }
  }
  return n;
}

/**
 * The detector's score of a turn, with `cue` told each cue that fires (name, weight, what it
 * matched); with `stopAt`, it stops as soon as the score is known to reach it (the cues only add).
 */
function scoreTurn(turnText: string, cue?: (name: string, hit?: string) => void, stopAt = Infinity): number {
  let score = 0;
  const reached = (): boolean => Math.min(1, Math.round(score * 100) / 100) >= stopAt;
  const text = turnText.includes('```') ? turnText.replace(FENCED, ' ') : turnText;
  const n = wordCount(text);
  const scale = n > 40 ? 0.4 : n > 25 ? 0.7 : 1;
  for (const c of CUES) {
    if (cue) {
      const m = c.re.exec(text);
      if (!m) continue;
      cue(c.name, m[0]);
    } else if (!c.re.test(text)) continue;
    score += c.scaled ? c.weight * scale : c.weight;
    if (reached()) return score;
  }
  // Pronouns count for more in short turns (a long prompt usually carries its own antecedents).
  if (n <= 40) {
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
