import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decisionLine, recordIdentity, type Decision, type ReviewStatus } from '../../../src/core/review';
import { readFileRecords } from '../../../src/core/store/records';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function setup(example: string): { file: string; lines: string[]; dir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-review-cli-'));
  const file = path.join(dir, example);
  copyFileSync(path.join(ROOT, 'examples', example), file);
  return { file, dir, lines: readFileSync(file, 'utf8').trimEnd().split('\n') };
}

function decide(line: string, status: ReviewStatus, over: Partial<Decision> = {}): string {
  const id = recordIdentity(line);
  return decisionLine({
    key: id.key,
    hash: id.hash,
    status,
    reviewer: 'ana',
    time: '2026-01-01T10:00:00.000Z',
    ...over,
  });
}

describe('cli: review stats and export', () => {
  it('export --accepted writes exactly the accepted records, byte for byte, and leaves the dataset alone', () => {
    const { file, lines, dir } = setup('fastchat_dummy_conversation.jsonl');
    const before = readFileSync(file);
    const picks: [number, ReviewStatus][] = [
      [3, 'accepted'],
      [0, 'accepted'],
      [7, 'rejected'],
      [9, 'needs-work'],
      [42, 'accepted'],
    ];
    writeFileSync(file + '.review.jsonl', picks.map(([i, s]) => decide(lines[i] ?? '', s)).join('\n') + '\n');
    const out = path.join(dir, 'accepted.jsonl');
    const r = run('export', file, '--accepted', '-o', out);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(out, 'utf8'), [0, 3, 42].map((i) => lines[i] + '\n').join(''));
    assert.match(r.stderr, /exported 3 of 500 record\(s\) \(accepted\)/);
    assert.deepEqual(readFileSync(file), before);

    const all = run('export', file, '--not-rejected');
    assert.equal(all.code, 0, all.stderr);
    const kept = all.stdout.trimEnd().split('\n');
    assert.equal(kept.length, 499);
    assert.ok(!kept.includes(lines[7] ?? ''));
    assert.ok(kept.includes(lines[9] ?? ''));

    const s = run('review', 'stats', file);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /5\/500 record\(s\) reviewed \(1%\)/);
    assert.match(s.stdout, /accepted 3, rejected 1, needs work 1, unreviewed 495/);
    const json = JSON.parse(run('review', 'stats', '--json', file).stdout) as {
      byStatus: Record<string, number>;
    };
    assert.equal(json.byStatus.accepted, 3);
  });

  it('export converts with the loss report, warns about records changed since review', () => {
    const { file, lines, dir } = setup('openai_chat_fastchat.jsonl');
    // Record 2 was accepted as it was before an edit.
    const old = (lines[1] ?? '').replace(/"content":"([^"]*)"/, '"content":"older $1"');
    writeFileSync(
      file + '.review.jsonl',
      [
        decide(lines[0] ?? '', 'accepted'),
        decide(old, 'accepted', { key: recordIdentity(lines[1] ?? '').key }),
      ].join('\n') + '\n',
    );
    const out = path.join(dir, 'out.jsonl');
    const r = run('export', file, '--accepted', '--to', 'alpaca', '-o', out);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: warning: accepted, but changed since it was reviewed`,
      ),
    );
    assert.match(r.stderr, /2 record\(s\) to Alpaca/);
    assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 2);
    assert.deepEqual(readdirSync(dir).sort(), [
      'openai_chat_fastchat.jsonl',
      'openai_chat_fastchat.jsonl.review.jsonl',
      'out.jsonl',
    ]);
  });

  it('review stats shows conflicts and bad sidecar lines and exits 1; bad usage exits 2', () => {
    const { file, lines } = setup('trl_preference_dpo_en_demo.jsonl');
    writeFileSync(
      file + '.review.jsonl',
      [
        decide(lines[0] ?? '', 'accepted'),
        '<<<<<<< HEAD',
        decide(lines[0] ?? '', 'rejected', { reviewer: 'bo', time: '2026-01-01T11:00:00.000Z' }),
      ].join('\n') + '\n',
    );
    const r = run('review', 'stats', file);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /conflicting decisions: 1/);
    assert.ok(r.stderr.includes(`${file}.review.jsonl:2:1: error: invalid JSON`), r.stderr);
    assert.equal(run('export', file).code, 2);
    assert.equal(run('export', file, '--accepted', '--not-rejected').code, 2);
    assert.equal(run('review', 'frobnicate', file).code, 2);
  });

  for (const name of ['fastchat_dummy_conversation.json', 'fastchat_dummy_conversation.parquet'])
    it(`review stats and export --accepted read ${path.extname(name)} files record by record`, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-review-cli-'));
      const file = path.join(dir, name);
      copyFileSync(path.join(ROOT, 'test', 'fixtures', 'datasets', 'containers', name), file);
      const texts: string[] = [];
      for await (const r of readFileRecords(file)) texts.push(r.text);
      assert.ok(texts.length > 40);
      const picks: [number, ReviewStatus][] = [
        [1, 'accepted'],
        [5, 'rejected'],
        [40, 'accepted'],
      ];
      writeFileSync(
        file + '.review.jsonl',
        picks.map(([i, st]) => decide(texts[i] ?? '', st)).join('\n') + '\n',
      );
      const s = run('review', 'stats', '--json', file);
      assert.equal(s.code, 0, s.stderr);
      const json = JSON.parse(s.stdout) as {
        records: number;
        byStatus: Record<string, number>;
        orphaned: number;
      };
      assert.equal(json.records, texts.length);
      assert.deepEqual([json.byStatus.accepted, json.byStatus.rejected, json.orphaned], [2, 1, 0]);
      const out = path.join(dir, 'accepted.jsonl');
      const e = run('export', file, '--accepted', '-o', out);
      assert.equal(e.code, 0, e.stderr);
      assert.match(e.stderr, new RegExp(`exported 2 of ${texts.length} record\\(s\\)`));
      const kept = readFileSync(out, 'utf8').trimEnd().split('\n');
      assert.deepEqual(
        kept.map((l) => recordIdentity(l).hash),
        [1, 40].map((i) => recordIdentity(texts[i] ?? '').hash),
      );
    });

  it('review stats counts openai-preference pairs by the strategy and model in their provenance side file', () => {
    const { file, lines } = setup('openai_preference_dpo_en_demo.jsonl');
    const strategies = ['neglect', 'hallucinate', 'misread'];
    const side = lines.map((_, i) =>
      JSON.stringify({
        strategy: strategies[i % 3],
        source: { file: 'src.jsonl', record: i + 1, turn: 2 },
        models: { chosen: 'source', rejected: i < 3 ? 'model-a' : 'model-b' },
      }),
    );
    writeFileSync(file + '.provenance.jsonl', side.join('\n') + '\n');
    writeFileSync(
      file + '.review.jsonl',
      [
        decide(lines[0] ?? '', 'accepted'),
        decide(lines[2] ?? '', 'rejected'),
        decide(lines[3] ?? '', 'accepted'),
      ].join('\n') + '\n',
    );
    const r = run('review', 'stats', '--json', file);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as {
      byStrategy: Record<string, Record<string, number>>;
      byModel: Record<string, Record<string, number>>;
    };
    const n = lines.length;
    const of = (k: number): number => Math.floor((n - k + 2) / 3);
    assert.deepEqual(json.byStrategy.neglect, {
      unreviewed: of(0) - 2,
      accepted: 2,
      rejected: 0,
      'needs-work': 0,
    });
    assert.deepEqual(json.byStrategy.misread, {
      unreviewed: of(2) - 1,
      accepted: 0,
      rejected: 1,
      'needs-work': 0,
    });
    assert.equal(json.byStrategy.hallucinate?.unreviewed, of(1));
    assert.deepEqual(json.byModel['model-a'], { unreviewed: 1, accepted: 1, rejected: 1, 'needs-work': 0 });
    assert.match(run('review', 'stats', file).stdout, /neglect: \d+% accepted \(2\/\d+\)/);

    // A side file that does not line up with the records is not used, and says so.
    writeFileSync(file + '.provenance.jsonl', side.slice(1).join('\n') + '\n');
    const bad = run('review', 'stats', '--json', file);
    assert.equal(bad.code, 0, bad.stderr);
    assert.deepEqual((JSON.parse(bad.stdout) as { byStrategy: object }).byStrategy, {});
    assert.match(
      bad.stderr,
      new RegExp(`provenance\\.jsonl: warning: ${n - 1} line\\(s\\) for ${n} record\\(s\\)`),
    );
  });
});
