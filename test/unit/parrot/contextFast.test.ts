import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  contextDependence,
  CUES,
  cueGate,
  dependsOnContext,
  PRONOUN,
  PRONOUN_BIT,
  wideClass,
  wordCount,
} from '../../../src/core/parrot/context';
import { words } from '../../../src/core/parrot/text';
import { mulberry32 } from '../../support/random';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DIGEST = '4ba998aa10495c14ddf1637da5be3261ac01903504843a7d59c4c438183f6b2a';
const HISTORY = [{ role: 'user' as const, content: 'Earlier.' }];

/** The user questions of the fixture datasets (ShareGPT, OpenAI chat, MT-Bench turns). */
function fixtureQuestions(): string[] {
  const out: string[] = [];
  const dir = datasetsIn(ROOT);
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl')))
    for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const v = JSON.parse(line) as Record<string, unknown>;
      const msgs = (v.conversations ?? v.messages ?? []) as {
        from?: string;
        role?: string;
        value?: unknown;
        content?: unknown;
      }[];
      for (const m of msgs) {
        const t = m.value ?? m.content;
        if ((m.from === 'human' || m.role === 'user') && typeof t === 'string') out.push(t);
      }
      if (Array.isArray(v.turns)) for (const t of v.turns) if (typeof t === 'string') out.push(t);
      if (typeof v.instruction === 'string') out.push(v.instruction);
    }
  return out;
}

/**
 * Random texts of cue words, pronouns, punctuation, controls, code fences and non-ASCII text, and
 * of `more` pieces too.
 */
function randomTexts(n: number, more: readonly string[] = []): string[] {
  const rnd = mulberry32(7);
  const parts = [
    ...more,
    'it',
    'this',
    'them',
    'your previous answer',
    'the above',
    'what about',
    'and',
    'again',
    'instead',
    'the second option',
    'better',
    'more than',
    'the',
    'a',
    'cat',
    'sat',
    'Python',
    '?',
    '.',
    '!',
    ',',
    '```x = 1```',
    '```',
    '\t',
    '\n',
    '\u0001',
    '\u007f',
    'café',
    'ＡＢＣ',
    '中文',
    '🦜',
    "it's",
    '_',
    '$',
    '  ',
    '—',
    'Ⅻ',
    '\u00a0',
  ];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rnd() * 60);
    let s = '';
    for (let j = 0; j < k; j++) s += parts[Math.floor(rnd() * parts.length)] + (rnd() < 0.7 ? ' ' : '');
    out.push(s);
  }
  return out;
}

describe("context detector: the overview's cheaper verdict", () => {
  const texts = [...fixtureQuestions(), ...randomTexts(5000)];
  // Characters whose case, compatibility form or class are special.
  const unusual = randomTexts(3000, [
    'Ⓐ',
    'İ',
    'ǅ',
    'ẞ',
    'Σ',
    'ﬁ',
    '①',
    '\u0301',
    '\u2028',
    '\u3000',
    '½',
    'ﾊﾟ',
    '℃',
    '™',
  ]);

  it('counts the words of a text as words() does', () => {
    assert.ok(texts.length > 5500);
    for (const t of [...texts, ...unusual]) assert.equal(wordCount(t), words(t).length, JSON.stringify(t));
  });

  it('counts words by the class of each character wherever it can: every BMP character checked', () => {
    const rnd = mulberry32(31);
    const classed: string[] = [];
    for (let c = 0x80; c < 0x10000; c++) if (wideClass(c) !== 3) classed.push(String.fromCharCode(c));
    // The scripts of most datasets are counted by class, not by NFKC of the whole text.
    for (const ch of ['中', '文', 'é', 'ß', 'я', 'α', 'の', 'カ', '，', '。', '\u3000', 'Ａ'])
      assert.ok(classed.includes(ch), JSON.stringify(ch));
    const around = ['', 'a', 'e', '.', ' ', '=', '(', '1', '_', '中', 'ﾊ', 'か', '가', '\u00a0'];
    const check = (t: string): void => assert.equal(wordCount(t), words(t).length, JSON.stringify(t));
    for (const ch of classed) {
      for (const x of around) {
        check(x + ch);
        check(ch + x);
      }
      check(ch + pick(classed) + ch);
    }
    function pick(xs: string[]): string {
      return xs[Math.floor(rnd() * xs.length)];
    }
    // Runs of classed characters, ASCII and characters that are not classed (marks, jamo, pairs).
    const others = [
      '\u1100',
      '\u3131',
      '\u11a8',
      '\u0301',
      '\u0338',
      '\u3099',
      '\u309b',
      '\u1161',
      '\u314f',
      '\uffa0',
      '🦜',
      '\ud800',
      '½',
      'ﬁ',
    ];
    for (let i = 0; i < 20000; i++) {
      let t = '';
      const len = 1 + Math.floor(rnd() * 12);
      for (let j = 0; j < len; j++) {
        const r = rnd();
        t += r < 0.6 ? pick(classed) : r < 0.9 ? pick(around) : pick(others);
      }
      check(t);
    }
  });

  it('gives the verdict of contextDependence for every text and threshold, with history', () => {
    let dependent = 0;
    // Upper- and mixed-case twins of every text: letter case changes neither path's verdict differently.
    const cased = texts.flatMap((t, i) => [
      t.toUpperCase(),
      t.replace(/\b\w/g, (c) => (i % 2 === 0 ? c.toUpperCase() : c)),
    ]);
    const all = [...texts, ...unusual, ...cased];
    for (const t of all)
      for (const threshold of [0.2, 0.5, 0.7]) {
        const want = contextDependence(t, HISTORY, threshold).dependent;
        assert.equal(dependsOnContext(t, threshold), want, `${threshold} ${JSON.stringify(t)}`);
        if (want && threshold === 0.5) dependent++;
      }
    // Both verdicts occur.
    assert.ok(dependent > 100 && dependent < all.length - 100, String(dependent));
  });

  it('runs only expressions that cannot be skipped: a cue the gate leaves out never matches', () => {
    // Word edges and case, words inside longer ones, non-ASCII letters that case-fold to ASCII
    // under other flags, and the end of "again / instead" with every kind of trailing space.
    const edges = randomTexts(4000, [
      '_previous',
      'previous_',
      'previous2',
      'PREVIOUS',
      'ſame',
      'ſ',
      'K',
      'continued',
      'mentioned',
      'situation (a)',
      'option b',
      'as well',
      'as  well',
      'too',
      'also?',
      ' ?',
      '?!',
      '\u3000',
      '\u2028',
      '\ufeff',
      '\u00a0',
      'do the same',
      'the same task',
      'more words',
      'less',
      'than',
    ]);
    const ends = ['again', 'Instead', 'as well', 'TOO', 'regain', 'x_again', 'simpler'].flatMap((w) =>
      ['', ' ', '?', ' ?', '?? ', ' .\u3000', '!\n', '\u2028.\ufeff', ' ? ?', '.\t\t'].map(
        (e) => `So ${w}${e}`,
      ),
    );
    const cased = texts.map((t) => t.toUpperCase());
    let skipped = 0;
    const all = [...texts, ...unusual, ...edges, ...ends, ...cased];
    for (const t of all) {
      const gate = cueGate(t);
      CUES.forEach((c, i) => {
        if (c.re.test(t)) assert.ok(gate & (1 << i), `${c.name}: ${JSON.stringify(t)}`);
        else if (!(gate & (1 << i))) skipped++;
      });
      if (PRONOUN.test(t)) assert.ok(gate & PRONOUN_BIT, `pronoun: ${JSON.stringify(t)}`);
    }
    // The gate does leave most non-matching expressions out.
    assert.ok(skipped > all.length * 2, `${skipped} skipped of ${all.length * CUES.length}`);
  });

  it('gives the scores and cues of the earlier implementation (a digest of them all)', () => {
    const all = texts.map((t) => {
      const r = contextDependence(t, HISTORY);
      return [r.dependent, r.score, r.cues];
    });
    const digest = createHash('sha256').update(JSON.stringify(all)).digest('hex');
    // Written by contextDependence before its scoring was shared with dependsOnContext.
    assert.equal(digest, DIGEST);
  });
});
