import type { ChatRequest } from '../llm/client';
import type { Turn } from '../model';
import { transcript } from './messages';
import { loadTemplate, render, type Template } from './templates';
import { words } from './text';

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

// `that` (often a conjunction) and possessives are left out: too often their antecedent is in the turn.
const PRONOUNS = /\b(it|this|these|those|them|they)\b/gi;
const DEMONSTRATIVE_START =
  /^\s*(?:(?:can|could|would|will|do|does|is|are|was|please|make|rewrite|explain|translate|summarize|use|put|turn|convert|fix|change|improve|shorten|expand|apply|run|test)\s+(?:you\s+)?)*(?:it|this|that|these|those|them)\b/i;

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
  let score = 0;
  const add = (name: string, w: number, hit?: string): void => {
    cues.push(hit ? `${name}: "${hit.trim()}"` : name);
    score += w;
  };
  const text = turnText.replace(/```[\s\S]*?```/g, ' ');
  const n = words(text).length;
  const scale = n > 40 ? 0.4 : n > 25 ? 0.7 : 1;
  for (const c of CUES) {
    const m = c.re.exec(text);
    if (m) add(c.name, c.scaled ? c.weight * scale : c.weight, m[0]);
  }
  // Pronouns count for more in short turns (a long prompt usually carries its own antecedents).
  const pronouns = [...text.matchAll(PRONOUNS)].map((m) => m[0].toLowerCase());
  if (pronouns.length) {
    const leading = DEMONSTRATIVE_START.exec(text);
    if (leading && n <= 25) add('leading pronoun', 0.6, leading[0]);
    else if (n <= 15) add('pronoun in short turn', 0.5, pronouns[0]);
    else if (n <= 40) add('pronoun', 0.2, pronouns[0]);
  }
  if (n > 0 && n <= 4) add('very short follow-up', 0.4);
  if (n === 0) add('empty', 0);
  score = Math.min(1, Math.round(score * 100) / 100);
  if (history.length === 0) return { dependent: false, score: 0, cues };
  return { dependent: score >= threshold, score, cues };
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
