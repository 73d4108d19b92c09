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
}

const CUES: Cue[] = [
  {
    name: 'back-reference',
    re: /\b(?:(?:your|the|my|that)\s+(?:own\s+)?(?:previous|earlier|last|prior|original|above|former)\s+\w+|your\s+(?:own\s+)?(?:response|answer|reply|solution|code|story|poem|essay|email|plan|list|example|explanation|function|program)|(?:the|this)\s+above\b|\bthe\s+(?:same)\s+(?:task|thing|question|way|format)|(?:continue|building)\s+(?:on|from)\b|as\s+(?:before|above|mentioned)|\babove\b(?!\s+(?:all|average|zero|\d)))/i,
    weight: 1,
  },
  {
    name: 'ordinal reference',
    re: /\b(?:the|your)\s+(?:first|second|third|fourth|fifth|last|latter|former|other)\s+(?:one|option|example|point|step|case|statement|item|paragraph|sentence|film|story|idea|impact|question|method|approach|solution|part|version)\b|\bsituation\s*\([a-z]\)|\boption\s+[a-z0-9]\b/i,
    weight: 0.7,
  },
  {
    name: 'elliptical opener',
    re: /^\s*(?:and|but|so|or|then|now|also|what about|how about|what if|why not|why\b|ok(?:ay)?|instead|same\b|again\b)/i,
    weight: 0.6,
  },
  { name: 'again / instead', re: /\b(?:again|instead|as well|too|also|more|less|shorter|longer|simpler)\s*[?.!]?\s*$|\bdo the same\b|\bthe same task\b/i, weight: 0.5 },
  { name: 'comparative without object', re: /\b(?:better|faster|shorter|longer|simpler|cheaper|more\s+\w+|less\s+\w+)\b(?![^.?!]*\bthan\b)/i, weight: 0.25 },
];

const PRONOUNS = /\b(it|its|this|that|these|those|them|they|their|he|she|him|her|his|one)\b/gi;
const DEMONSTRATIVE_START = /^\s*(?:(?:can|could|would|will|do|does|is|are|please)\s+(?:you\s+)?)?(?:\w+\s+)?(?:it|this|that|these|those|them)\b/i;

/**
 * Offline detector: does this user turn depend on earlier context? Looks for back-references
 * ("your previous response", "the above"), ordinal references ("the second option"), elliptical
 * openers ("what about …", "and in Python?"), pronouns/demonstratives without an antecedent in
 * the turn itself, and very short follow-ups. With no history, nothing can be referred to.
 */
export function contextDependence(turnText: string, history: readonly Turn[] = [], threshold = 0.5): ContextDependence {
  const cues: string[] = [];
  let score = 0;
  const add = (name: string, w: number, hit?: string): void => {
    cues.push(hit ? `${name}: "${hit.trim()}"` : name);
    score += w;
  };
  const text = turnText.replace(/```[\s\S]*?```/g, ' ');
  const n = words(text).length;
  for (const c of CUES) {
    const m = c.re.exec(text);
    if (m) add(c.name, c.weight, m[0]);
  }
  // Pronouns count for more in short turns (a long prompt usually carries its own antecedents).
  const pronouns = [...text.matchAll(PRONOUNS)].map((m) => m[0].toLowerCase());
  if (pronouns.length) {
    const leading = DEMONSTRATIVE_START.exec(text);
    if (leading && n <= 25) add('leading pronoun', 0.6, leading[0]);
    else if (n <= 15) add('pronoun in short turn', 0.45, pronouns[0]);
    else if (n <= 40) add('pronoun', 0.2, pronouns[0]);
  }
  if (n > 0 && n <= 4) add('very short follow-up', 0.4);
  if (n === 0) add('empty', 0);
  score = Math.min(1, Math.round(score * 100) / 100);
  if (history.length === 0) return { dependent: false, score: 0, cues };
  return { dependent: score >= threshold, score, cues };
}

/** Request for an optional LLM judge (answers DEPENDENT or INDEPENDENT). */
export function buildJudgeRequest(turnText: string, history: readonly Turn[], model: string, template: Template = loadTemplate('capo-judge')): ChatRequest {
  return {
    model,
    messages: [{ role: 'user', content: render(template, { transcript: transcript(history), turn: turnText }) }],
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
