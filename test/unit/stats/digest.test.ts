// The digest stats counts repeated samples by (sampleDigest) makes the same samples equal as
// hashSample (a SHA-1 of their JSON key) does: checked on every pair of random samples drawn from
// small alphabets (so that many are equal, and many differ by one detail: a text cut elsewhere
// between two turns, a string against a list of parts, null against missing, lone surrogates
// against U+FFFD), and on the fixture records.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseRecord } from '../../../src/core/formats';
import type { Sample, Turn } from '../../../src/core/model';
import { hashSample, sampleDigest } from '../../../src/core/stats/collector';
import { kernelsAvailable } from '../../../src/core/store/kernel';
import { datasetsIn } from '../../support/fixtures';
import { mulberry32 } from '../../support/random';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

const TEXTS = ['', 'a', 'ab', 'b', 'c', 'bc', '\ud800', '\ud801', '\ufffd', 's1:a', '-', 'null', '["a"]'];

function randomTurns(rnd: () => number): Turn[] {
  return Array.from({ length: Math.floor(rnd() * 3) }, () => {
    const t: Turn = {
      role: pick(rnd, ['user', 'assistant'] as const),
      content: rnd() < 0.2 ? [{ type: 'text', text: pick(rnd, TEXTS) }] : pick(rnd, TEXTS),
    };
    const calls = rnd();
    if (calls < 0.1) t.toolCalls = null;
    else if (calls < 0.2) t.toolCalls = [{ id: pick(rnd, TEXTS) }];
    return t;
  });
}

function randomSample(rnd: () => number): Sample {
  const system = rnd() < 0.3 ? pick(rnd, TEXTS) : undefined;
  const tools = rnd() < 0.1 ? [pick(rnd, TEXTS)] : rnd() < 0.05 ? null : undefined;
  const base = {
    meta: {},
    ...(system !== undefined ? { system } : {}),
    ...(tools !== undefined ? { tools } : {}),
  };
  if (rnd() < 0.7) return { kind: 'dialogue', turns: randomTurns(rnd), ...base };
  return {
    kind: 'preference',
    prompt: randomTurns(rnd),
    chosen: randomTurns(rnd),
    rejected: randomTurns(rnd),
    ...base,
  };
}

function sameClasses(samples: Sample[]): void {
  const a = samples.map(hashSample);
  const b = samples.map(sampleDigest);
  for (let i = 0; i < samples.length; i++)
    for (let j = i + 1; j < samples.length; j++)
      assert.equal(
        b[i] === b[j],
        a[i] === a[j],
        `${JSON.stringify(samples[i])} and ${JSON.stringify(samples[j])}: ${a[i] === a[j] ? 'equal' : 'different'} by hashSample`,
      );
}

describe('stats: the repeated-sample digest', () => {
  it('makes the same samples equal as hashSample, on random samples', () => {
    const rnd = mulberry32(11);
    const samples = Array.from({ length: 1500 }, () => randomSample(rnd));
    // Texts that would run into each other without their lengths.
    samples.push(
      { kind: 'dialogue', system: 'a', tools: 'bs:c', turns: [], meta: {} },
      { kind: 'dialogue', system: 'as:b', tools: 'c', turns: [], meta: {} },
    );
    sameClasses(samples);
    // The alphabet is small enough that equal samples occur, and the check compared some.
    const distinct = new Set(samples.map(hashSample)).size;
    assert.ok(distinct < samples.length * 0.9 && distinct > 100, `${distinct} distinct of ${samples.length}`);
  });

  it('makes the same samples equal as hashSample, on the fixture records', () => {
    const samples: Sample[] = [];
    for (const f of readdirSync(datasetsIn(ROOT)).filter((n) => n.endsWith('.jsonl'))) {
      for (const line of readFileSync(path.join(datasetsIn(ROOT), f), 'utf8').split('\n')) {
        const r = line.trim() ? parseRecord(line) : undefined;
        if (r?.ok) samples.push(r.sample);
      }
    }
    assert.ok(samples.length > 100);
    const some = samples.slice(0, 600);
    sameClasses(some.concat(some.slice(0, 50)));
  });

  it('samples too long for the SIMD digest get SHA-1 ones, with the same classes', () => {
    // Over 1 MiB (a turn's text goes into the kernel's key as its JSON string, in UTF-8).
    const long = 'x'.repeat(1_100_000);
    const turns = (t: string): Turn[] => [{ role: 'user', content: t }];
    const samples: Sample[] = [
      { kind: 'dialogue', turns: turns(long), meta: {} },
      { kind: 'dialogue', turns: turns(long), meta: { id: 'other' } },
      { kind: 'dialogue', turns: turns(long + 'y'), meta: {} },
      { kind: 'dialogue', turns: turns('short'), meta: {} },
    ];
    sameClasses(samples);
    assert.ok(sampleDigest(samples[0]).startsWith('S'));
    if (kernelsAvailable()) assert.equal(sampleDigest(samples[3]).length, 16);
  });

  it('the SIMD digest keeps 128 bits: no two of 300,000 short samples share one', function () {
    if (!kernelsAvailable()) this.skip();
    const seen = new Set<string>();
    // Each 64-bit half alone tells them apart too (a 32-bit digest would give about ten pairs).
    const halves = [new Set<string>(), new Set<string>()];
    const one = (text: string): string =>
      sampleDigest({ kind: 'dialogue', turns: [{ role: 'user', content: text }], meta: {} });
    for (let i = 0; i < 300_000; i++) {
      const d = one(`t${i}`);
      assert.equal(d.length, 16);
      seen.add(d);
      halves[0].add(d.slice(0, 8));
      halves[1].add(d.slice(8));
    }
    assert.equal(seen.size, 300_000);
    assert.deepEqual(
      halves.map((h) => h.size),
      [300_000, 300_000],
    );
    assert.equal(one('a'), one('a'));
    assert.notEqual(one('a'), one('a\u0000'));
    // Lone surrogates are written as they are: not taken for U+FFFD, nor for each other.
    assert.equal(new Set([one('\ud800'), one('\ud801'), one('\ufffd')]).size, 3);
  });
});
