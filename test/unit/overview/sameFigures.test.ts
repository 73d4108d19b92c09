/**
 * The overview's figures stay the same when the way it measures records changes: every figure,
 * cluster and per-record fact of the fixtures and of a seeded synthetic file is compared with a
 * snapshot written by an earlier implementation (test/fixtures/overview/figures.json; written
 * again with PS_WRITE_OVERVIEW_SNAPSHOT=1), and the default o200k counter with the plain library
 * count in the same run.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { overviewFile, registerTokenCounter, type Overview } from '../../../src/core/overview';
import { countTokens } from '../../../src/core/tokens';
import { mulberry32 } from '../../support/random';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const WORKER = path.join(ROOT, 'dist', 'overview.worker.js');
const SNAPSHOT = path.join(ROOT, 'test', 'fixtures', 'overview', 'figures.json');

/** Digests of the per-record facts (the exact-duplicate hashes by their clusters, not their values). */
function summary(o: Overview): unknown {
  const f = o.facts;
  const digest = (a: ArrayBufferView): string =>
    createHash('sha256')
      .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
      .digest('hex')
      .slice(0, 16);
  const text = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);
  return {
    figures: o.figures,
    clusters: Object.entries(o.clusters).map(([k, c]) => [k, c.length, text(JSON.stringify(c))]),
    facts: {
      n: f.n,
      lines: f.lines,
      blank: f.blank,
      line: digest(f.line),
      format: digest(f.format),
      kind: digest(f.kind),
      turns: digest(f.turns),
      tokens: digest(f.tokens),
      roleTokens: digest(f.roleTokens),
      userSig: digest(f.userSig),
      userHas: digest(f.userHas),
      dialogueSig: digest(f.dialogueSig),
      dialogueHas: digest(f.dialogueHas),
      exactNaN: Array.from(f.exact).filter((h) => Number.isNaN(h)).length,
      problems: Object.entries(f.problems).map(([code, recs]) => [code, recs.length, text(recs.join(','))]),
      sessions: f.sessions,
      queries: f.queries,
      dependent: f.dependent,
      sample: text(f.sample.map((s) => `${s.key}:${s.tokens.join(' ')}`).join('\n')),
    },
  };
}

const WORDS = (
  'the a of to and in is it that for you with on as this be are was can by or from an at not your ' +
  'function model data train loss token context question answer dialogue python list error value ' +
  'return because however example please explain why how what which when where should could would ' +
  'previous above again instead also more shorter better them those it this what about and so ' +
  'Ünïcödé — 中文 🦜 naïve café Привет мир 日本語の文 <|endoftext|> <|im_start|> \t  ...'
).split(' ');

/**
 * A seeded file of every kind of line the overview meets: ShareGPT, OpenAI chat (system, parts),
 * preference pairs, Alpaca, invalid JSON, blank lines, wrong types, duplicate keys, non-ASCII text
 * raw and written as \u escapes, exact copies and near-copies, long and code-fenced texts.
 */
function synthetic(seed: number, records: number): string {
  const rnd = mulberry32(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const text = (min: number, max: number): string => {
    const n = min + Math.floor(rnd() * (max - min + 1));
    const w: string[] = [];
    for (let i = 0; i < n; i++) w.push(pick(WORDS));
    let s = w.join(rnd() < 0.1 ? '  ' : ' ');
    if (rnd() < 0.05) s += '\n```python\nprint("x")\n```\n';
    if (rnd() < 0.1) s += '?';
    return s;
  };
  const lines: string[] = [];
  for (let i = 0; i < records; i++) {
    const r = rnd();
    const turns = 2 * (1 + Math.floor(rnd() * 4));
    let line: string;
    if (r < 0.02) line = '';
    else if (r < 0.04) line = '{"conversations": [{"from": "human", "value": "broken"}';
    else if (r < 0.06 && lines.length > 0) line = lines[Math.floor(rnd() * lines.length)];
    else if (r < 0.1 && lines.length > 0) {
      const prev = lines[Math.floor(rnd() * lines.length)];
      line = prev.replace(/\b(the|a|of)\b/, 'that');
    } else if (r < 0.4) {
      const conversations = [];
      for (let t = 0; t < turns; t++)
        conversations.push(
          t % 2 === 0 ? { from: 'human', value: text(1, 30) } : { from: 'gpt', value: text(3, 80) },
        );
      line = JSON.stringify({ id: `s${i}`, conversations });
    } else if (r < 0.7) {
      const messages: unknown[] = [];
      if (rnd() < 0.3) messages.push({ role: 'system', content: text(2, 10) });
      for (let t = 0; t < turns; t++)
        messages.push({
          role: t % 2 === 0 ? 'user' : 'assistant',
          content: rnd() < 0.1 ? [{ type: 'text', text: text(1, 20) }] : text(1, 60),
        });
      line = JSON.stringify({ messages });
    } else if (r < 0.8) {
      line = JSON.stringify({ prompt: text(2, 20), chosen: text(2, 40), rejected: text(2, 40) });
    } else if (r < 0.88) {
      line = JSON.stringify({
        instruction: text(2, 20),
        input: rnd() < 0.5 ? '' : text(1, 9),
        output: text(2, 50),
      });
    } else if (r < 0.9) {
      line = `{"conversations": [{"from": "human", "value": "${text(1, 5)}"}], "conversations": []}`;
    } else if (r < 0.92) {
      line = JSON.stringify({ conversations: [{ from: 'human', value: 42 }] });
    } else {
      // Non-ASCII as escapes.
      const conversations = [];
      for (let t = 0; t < turns; t++)
        conversations.push({ from: t % 2 === 0 ? 'human' : 'gpt', value: text(1, 40) });
      line = JSON.stringify({ conversations }).replace(
        /[\u0080-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      );
    }
    if (rnd() < 0.02) line += '\r';
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}

describe('overview: the same figures however records are measured', () => {
  let dir: string;
  const want = existsSync(SNAPSHOT)
    ? (JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as Record<string, unknown>)
    : {};
  const got: Record<string, unknown> = {};
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-overview-same-'))));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    if (process.env.PS_WRITE_OVERVIEW_SNAPSHOT === '1')
      writeFileSync(SNAPSHOT, JSON.stringify(got, null, 1) + '\n');
  });

  const datasets = datasetsIn(ROOT);
  const files = [
    ...readdirSync(datasets).filter((f) => f.endsWith('.jsonl')),
    ...readdirSync(path.join(datasets, 'containers'))
      .filter((f) => f.endsWith('.json') || f.endsWith('.parquet'))
      .map((f) => `containers/${f}`),
  ].sort();

  for (const name of files)
    it(`gives the snapshot's figures and facts for ${name}`, async () => {
      const o = await overviewFile(path.join(datasets, name), { workers: 0 });
      got[name] = summary(o);
      if (process.env.PS_WRITE_OVERVIEW_SNAPSHOT === '1') return;
      assert.ok(want[name], `no snapshot for ${name}`);
      assert.deepEqual(JSON.parse(JSON.stringify(got[name])), want[name]);
    });

  it("gives the snapshot's figures for a seeded synthetic file, in this thread and in two workers, and the plain count's", async () => {
    const file = path.join(dir, 'synthetic.jsonl');
    writeFileSync(file, synthetic(1234, 6000));
    const one = summary(await overviewFile(file, { workers: 0 }));
    got.synthetic = one;
    const two = summary(
      await overviewFile(file, { workers: 2, minWorkerBytes: 0, partBytes: 256 << 10, workerScript: WORKER }),
    );
    assert.deepEqual(two, one);
    // The library's own count of every text, without the overview's piece cache.
    registerTokenCounter('o200k-plain', () => countTokens);
    const plain = await overviewFile(file, { workers: 0, tokenizer: 'o200k-plain' });
    const p = summary(plain) as { figures: { tokenizer?: string } };
    const o = one as { figures: { tokenizer?: string } };
    assert.deepEqual(
      { ...p, figures: { ...p.figures, tokenizer: undefined } },
      {
        ...o,
        figures: { ...o.figures, tokenizer: undefined },
      },
    );
    if (process.env.PS_WRITE_OVERVIEW_SNAPSHOT === '1') return;
    assert.deepEqual(JSON.parse(JSON.stringify(one)), want.synthetic);
  });

  it('finds a dialogue written with \\u escapes and the same dialogue written raw to be exact duplicates', async () => {
    const raw = JSON.stringify({
      conversations: [
        { from: 'human', value: 'Was heißt „Tokenizer“ auf 中文?' },
        { from: 'gpt', value: '分词器 — a tokenizer 🦜.' },
      ],
    });
    const escaped = raw.replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    assert.notEqual(escaped, raw);
    assert.deepEqual(JSON.parse(escaped), JSON.parse(raw));
    const file = path.join(dir, 'escapes.jsonl');
    writeFileSync(file, [raw, escaped, raw].join('\n') + '\n');
    const o = await overviewFile(file, { workers: 0 });
    assert.deepEqual(o.clusters.exact, [[0, 1, 2]]);
    assert.equal(o.figures.duplicates.exact.redundant, 2);
  });
});
