import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  convertSample,
  detectRecordFormat,
  FormatError,
  parseRecord,
  readRecord,
  recordToLine,
  UnpairedPairer,
  writeRecord,
} from '../../../src/core/formats';
import type { Dialogue, PreferencePair } from '../../../src/core/model';
import { validateText } from '../../../src/core/validate';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DATASETS = datasetsIn(ROOT);
const LF = path.join(DATASETS, 'llamafactory-data');
const CLI = path.join(ROOT, 'dist', 'cli.js');

interface KtoRecord {
  messages: { role: string; content: string }[];
  label: boolean;
}
const KTO = JSON.parse(readFileSync(path.join(LF, 'kto_en_demo.json'), 'utf8')) as KtoRecord[];
const KTO_LINES = readFileSync(path.join(LF, 'kto_en_demo.jsonl'), 'utf8').split('\n').filter(Boolean);
const DPO_LINES = readFileSync(path.join(DATASETS, 'llamafactory_dpo_en_demo.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean);

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function dialogue(v: unknown): Dialogue {
  const r = readRecord(v);
  assert.ok(!('error' in r), 'error' in r ? r.error : '');
  assert.equal(r.sample.kind, 'dialogue');
  return r.sample;
}

describe('formats: unpaired preference (KTO)', () => {
  it('detects every element of kto_en_demo as LLaMA-Factory KTO, with its label', () => {
    assert.equal(KTO.length, 300);
    for (const rec of KTO) {
      assert.equal(detectRecordFormat(rec), 'llamafactory-kto');
      const d = dialogue(rec);
      assert.equal(d.label, rec.label);
      assert.equal(d.turns.length, rec.messages.length);
    }
  });

  it('round-trips the elements (value and key order) and the JSONL rendering byte for byte', () => {
    KTO.forEach((rec, i) => {
      const r = readRecord(rec);
      assert.ok(!('error' in r));
      assert.equal(JSON.stringify(writeRecord(r.sample, r.layout)), JSON.stringify(rec), `element ${i}`);
    });
    for (const line of KTO_LINES) {
      const r = parseRecord(line);
      assert.ok(r.ok);
      assert.equal(recordToLine(r.sample, r.layout), line);
    }
  });

  it('toggling the label changes only the label', () => {
    const r = parseRecord(KTO_LINES[3]);
    assert.ok(r.ok && r.sample.kind === 'dialogue');
    r.sample.label = !r.sample.label;
    const out = JSON.parse(recordToLine(r.sample, r.layout)) as KtoRecord;
    const orig = JSON.parse(KTO_LINES[3]) as KtoRecord;
    assert.deepEqual(out, { ...orig, label: !orig.label });
  });

  it('validates kto_en_demo cleanly (no OpenAI-chat reading of it)', () => {
    const d = validateText(KTO_LINES.join('\n'));
    assert.deepEqual(
      d.filter((x) => x.severity === 'error'),
      [],
    );
    assert.ok(!d.some((x) => x.code === 'format/mixed'));
  });

  it('a TRL KTO label that is not a boolean is an error positioned at the label', () => {
    const line = '{"prompt":"q","completion":"a","label":"yes"}';
    assert.equal(detectRecordFormat(JSON.parse(line)), 'trl-kto');
    const d = validateText(line).filter((x) => x.severity === 'error');
    assert.ok(d.length > 0);
    assert.ok(
      d.some((x) => x.startCol === line.indexOf('"yes"')),
      JSON.stringify(d),
    );
  });

  it('LLaMA-Factory KTO <-> TRL KTO without loss', () => {
    for (const rec of KTO) {
      const c = convertSample(dialogue(rec), 'trl-kto');
      assert.deepEqual(c.losses, []);
      const v = c.value as {
        prompt: unknown[];
        completion: { role: string; content: string }[];
        label: boolean;
      };
      assert.equal(v.label, rec.label);
      assert.deepEqual(v.completion, rec.messages.slice(-1));
      assert.deepEqual(v.prompt, rec.messages.slice(0, -1));
      assert.equal(detectRecordFormat(v), 'trl-kto');
      const back = convertSample(dialogue(v), 'llamafactory-kto');
      assert.deepEqual(back.losses, []);
      assert.deepEqual(back.value, rec);
    }
  });

  it('reports the label as lost when KTO becomes a plain dialogue format', () => {
    const c = convertSample(dialogue(KTO[1]), 'sharegpt');
    assert.ok(
      c.losses.some((l) => /the KTO label \((un)?desirable\) cannot be represented in sharegpt/.test(l)),
    );
  });

  it('a dialogue without a label cannot become KTO; a KTO record alone cannot become a pair', () => {
    const plain = dialogue({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a' },
      ],
    });
    assert.throws(() => convertSample(plain, 'trl-kto'), FormatError);
    assert.throws(() => convertSample(dialogue(KTO[0]), 'trl-preference'), /same prompt and opposite labels/);
  });

  it('a pair becomes two KTO records, and the pairer makes the same pair again', () => {
    const pairer = new UnpairedPairer<number>();
    DPO_LINES.forEach((line, i) => {
      const r = parseRecord(line);
      assert.ok(r.ok && r.sample.kind === 'preference');
      const orig = r.sample;
      const c = convertSample(orig, 'llamafactory-kto');
      assert.ok(c.losses.some((l) => /two unpaired records/.test(l)));
      assert.equal(c.more?.length, 1);
      const good = dialogue(c.value);
      const bad = dialogue(c.more?.[0]);
      assert.equal(good.label, true);
      assert.equal(bad.label, false);
      assert.equal(pairer.add(bad, i * 2 + 1), undefined);
      const m = pairer.add(good, i * 2);
      assert.ok(m);
      assert.deepEqual(m.keys, [i * 2, i * 2 + 1]);
      const p: PreferencePair = m.pair;
      assert.deepEqual(
        [p.prompt, p.chosen, p.rejected].map((ts) => ts.map((t) => [t.role, t.content])),
        [orig.prompt, orig.chosen, orig.rejected].map((ts) => ts.map((t) => [t.role, t.content])),
      );
    });
    assert.deepEqual(pairer.leftovers(), []);
  });

  it('parrot convert: DPO -> KTO -> DPO gives the original pairs; unmatched KTO records are reported and kept', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-kto-'));
    const kto = path.join(dir, 'kto.jsonl');
    const a = run(
      'convert',
      '--to',
      'llamafactory-kto',
      '-q',
      '-o',
      kto,
      path.join(DATASETS, 'llamafactory_dpo_en_demo.jsonl'),
    );
    assert.equal(a.code, 0, a.stderr);
    assert.equal(readFileSync(kto, 'utf8').trimEnd().split('\n').length, 600);
    const dpo = path.join(dir, 'dpo.jsonl');
    const b = run('convert', '--to', 'sharegpt-preference', '-q', '-o', dpo, kto);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /300 pair\(s\) made of unpaired records/);
    // A first system message comes back as the `system` column (LLaMA-Factory reads both alike).
    const got = readFileSync(dpo, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => {
        const v = JSON.parse(l) as { conversations: unknown[]; system?: string };
        if (v.system === undefined) return v;
        const { system, ...rest } = v;
        return { ...rest, conversations: [{ from: 'system', value: system }, ...v.conversations] };
      });
    assert.deepEqual(
      got,
      DPO_LINES.map((l) => JSON.parse(l) as unknown),
    );

    // kto_en_demo: one prompt has a desirable and an undesirable answer (elements 65 and 196).
    const c = run('convert', '--to', 'trl-preference', path.join(LF, 'kto_en_demo.jsonl'));
    assert.equal(c.code, 1);
    const out = c.stdout.trimEnd().split('\n');
    assert.equal(out.length, 1 + 298);
    const pair = JSON.parse(out[0]) as { prompt: unknown; chosen: unknown[]; rejected: unknown[] };
    assert.deepEqual(pair.prompt, KTO[64].messages.slice(0, -1));
    assert.deepEqual(pair.chosen, KTO[64].messages.slice(-1));
    assert.deepEqual(pair.rejected, KTO[195].messages.slice(-1));
    assert.match(c.stderr, /kto_en_demo\.jsonl:196: paired: lines 65 \(desirable\) and 196 \(undesirable\)/);
    assert.match(c.stderr, /kto_en_demo\.jsonl:1:1: error: unpaired record: no other record has its prompt/);
    // Every unmatched record is copied unchanged, after the pairs.
    const kept = out.slice(1);
    const expected = KTO_LINES.filter((_l, i) => i !== 64 && i !== 195);
    assert.deepEqual(kept, expected);
  });
});

describe('formats: TRL prompt-completion', () => {
  const conversational = {
    prompt: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What color is the sky?' },
    ],
    completion: [{ role: 'assistant', content: 'It is blue.' }],
  };
  const standard = { prompt: 'The sky is', completion: ' blue.' };

  it('detects and round-trips both shapes', () => {
    for (const v of [conversational, standard]) {
      assert.equal(detectRecordFormat(v), 'trl-prompt-completion');
      const line = JSON.stringify(v);
      const r = parseRecord(line);
      assert.ok(r.ok);
      assert.equal(recordToLine(r.sample, r.layout), line);
    }
  });

  it('the completion is the trailing assistant turns: an added turn pair moves into the prompt', () => {
    const r = parseRecord(JSON.stringify(conversational));
    assert.ok(r.ok && r.sample.kind === 'dialogue');
    r.sample.turns.push({ role: 'user', content: 'And at night?' }, { role: 'assistant', content: 'Black.' });
    const v = writeRecord(r.sample, r.layout) as typeof conversational;
    assert.equal(v.prompt.length, 4);
    assert.deepEqual(v.completion, [{ role: 'assistant', content: 'Black.' }]);
  });

  it('converts to and from OpenAI chat without loss', () => {
    const d = dialogue(conversational);
    const oa = convertSample(d, 'openai');
    assert.deepEqual(oa.losses, []);
    assert.deepEqual(oa.value, { messages: [...conversational.prompt, ...conversational.completion] });
    const back = convertSample(dialogue(oa.value), 'trl-prompt-completion');
    assert.deepEqual(back.losses, []);
    assert.deepEqual(back.value, conversational);
  });

  it('a dialogue that does not end with an assistant turn cannot be written', () => {
    const d = dialogue({ messages: [{ role: 'user', content: 'q' }] });
    assert.throws(() => convertSample(d, 'trl-prompt-completion'), /must end with an assistant turn/);
  });
});

describe('formats: TRL stepwise supervision', () => {
  // TRL's documented example.
  const rec = {
    prompt: 'Which number is larger, 9.8 or 9.11?',
    completions: [
      'The fractional part of 9.8 is 0.8, while the fractional part of 9.11 is 0.11.',
      'Since 0.11 is greater than 0.8, the number 9.11 is larger than 9.8.',
    ],
    labels: [true, false],
  };

  it('detects, reads one assistant turn per step with its label, round-trips', () => {
    assert.equal(detectRecordFormat(rec), 'trl-stepwise');
    const line = JSON.stringify(rec);
    const r = parseRecord(line);
    assert.ok(r.ok && r.sample.kind === 'dialogue');
    assert.deepEqual(
      r.sample.turns.map((t) => [t.role, t.label]),
      [
        ['user', undefined],
        ['assistant', true],
        ['assistant', false],
      ],
    );
    assert.equal(recordToLine(r.sample, r.layout), line);
    r.sample.turns[2].label = true;
    assert.deepEqual(JSON.parse(recordToLine(r.sample, r.layout)), { ...rec, labels: [true, true] });
  });

  it('labels that do not match the steps are an error', () => {
    const r = readRecord({ ...rec, labels: [true] });
    assert.ok('error' in r);
    assert.match(r.error, /1 label\(s\) for 2 step\(s\)/);
  });

  it('into a dialogue format the steps join into one answer and the labels are reported lost', () => {
    const c = convertSample(dialogue(rec), 'sharegpt');
    assert.deepEqual(c.value, {
      conversations: [
        { from: 'human', value: rec.prompt },
        { from: 'gpt', value: rec.completions.join('\n') },
      ],
    });
    assert.deepEqual(c.losses, [
      'step labels cannot be represented in sharegpt (dropped: 1 correct, 1 incorrect); 2 steps joined into one assistant turn by newlines',
    ]);
    assert.throws(() => convertSample(dialogue(c.value), 'trl-stepwise'), /step 1 has no label/);
  });
});
