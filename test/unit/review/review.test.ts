import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  appendDecisions,
  decisionLine,
  parseSidecar,
  readSidecar,
  recordIdentity,
  reviewerName,
  ReviewState,
  ReviewStatsCollector,
  sidecarPath,
  type Decision,
} from '../../../src/core/review';
import { datasetsIn } from '../../support/fixtures';
import { mulberry32 } from '../../support/random';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

function decision(over: Partial<Decision> & Pick<Decision, 'key'>): Decision {
  return { status: 'accepted', reviewer: 'ana', time: '2026-01-01T10:00:00.000Z', hash: 'x', ...over };
}

describe('review: record keys', () => {
  const lines = readFileSync(path.join(datasetsIn(ROOT), 'fastchat_dummy_conversation.jsonl'), 'utf8')
    .trimEnd()
    .split('\n');

  it('keys a record with an id by its id; its hash follows its text', () => {
    const a = recordIdentity(lines[0] ?? '');
    assert.equal(a.key, 'id:identity_0');
    const edited = (lines[0] ?? '').replace('Who are you?', 'Who are you, really?');
    const b = recordIdentity(edited);
    assert.equal(b.key, a.key);
    assert.notEqual(b.hash, a.hash);
    assert.equal(a.turnHashes.length, 4);
    assert.notEqual(b.turnHashes[0], a.turnHashes[0]);
    assert.equal(b.turnHashes[1], a.turnHashes[1]);
  });

  it('keys a record without an id by its conversation: layout, key order and a review field do not change it', () => {
    const plain = '{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}';
    const spaced =
      '{ "messages": [ {"content": "q", "role": "user"}, {"role": "assistant", "content": "a"} ], "review": {"status": "accepted"} }';
    const k = recordIdentity(plain);
    assert.match(k.key, /^h:/);
    assert.equal(recordIdentity(spaced).key, k.key);
    assert.notEqual(recordIdentity(plain.replace('"a"', '"b"')).key, k.key);
  });

  it('keys survive any reorder of a real file (seeded shuffles)', () => {
    const keys = lines.map((l) => recordIdentity(l).key);
    const rand = mulberry32(15);
    for (let round = 0; round < 5; round++) {
      const order = lines.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
      }
      const shuffled = order.map((i) => lines[i] ?? '');
      assert.deepEqual(
        shuffled.map((l) => recordIdentity(l).key),
        order.map((i) => keys[i]),
      );
    }
  });

  it('reads provenance of CaPO pairs and generated turns', () => {
    const pair = recordIdentity(
      JSON.stringify({
        prompt: [{ role: 'user', content: 'and it?' }],
        chosen: [{ role: 'assistant', content: 'yes' }],
        rejected: [{ role: 'assistant', content: 'no' }],
        strategy: 'misread',
        models: { chosen: 'source', rejected: 'm1' },
      }),
    );
    assert.deepEqual(pair.provenance, { strategy: 'misread', model: 'm1' });
    const d = recordIdentity(
      JSON.stringify({
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: 'a', provenance: { model: 'm2' } },
        ],
      }),
    );
    assert.deepEqual([...d.generatedTurns], [[1, { model: 'm2' }]]);
    assert.equal(d.provenance, undefined);
  });

  it('keys a malformed line by its text', () => {
    assert.equal(recordIdentity('{"messages": [').key, recordIdentity('{"messages": [').key);
    assert.notEqual(recordIdentity('{"messages": [').key, recordIdentity('{"messages": [[').key);
  });
});

describe('review: sidecar', () => {
  it('writes one line per decision with sorted keys, appends, and reads back', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-review-'));
    const file = sidecarPath(path.join(dir, 'data.jsonl'));
    assert.equal(path.basename(file), 'data.jsonl.review.jsonl');
    const a = decision({
      key: 'id:1',
      note: 'fine',
      turn: 2,
      from: 'h:old',
      after: '2025-12-31T00:00:00.000Z',
    });
    await appendDecisions(file, [a]);
    await appendDecisions(file, [decision({ key: 'id:2', status: 'rejected' })]);
    const text = readFileSync(file, 'utf8');
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    for (const l of lines) {
      const keys = Object.keys(JSON.parse(l) as object);
      assert.deepEqual(keys, [...keys].sort());
    }
    assert.equal(lines[0], decisionLine(a));
    const back = await readSidecar(file);
    assert.deepEqual(back.decisions[0], a);
    assert.equal(back.decisions[1]?.status, 'rejected');
  });

  it('finishes a line cut short before appending, and reports bad lines by number', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-review-'));
    const file = path.join(dir, 'x.review.jsonl');
    writeFileSync(file, decisionLine(decision({ key: 'id:1' })) + '\n{"key":"id:2","sta');
    await appendDecisions(file, [decision({ key: 'id:3' })]);
    const r = await readSidecar(file);
    assert.deepEqual(
      r.decisions.map((d) => d.key),
      ['id:1', 'id:3'],
    );
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]?.line, 2);
    assert.match(r.problems[0]?.message ?? '', /invalid JSON/);
    const bad = parseSidecar(
      '<<<<<<< HEAD\n{"key":"k","status":"great","reviewer":"a","time":"2026-01-01","hash":"h"}\n',
    );
    assert.equal(bad.decisions.length, 0);
    assert.deepEqual(
      bad.problems.map((p) => p.line),
      [1, 2],
    );
    assert.match(bad.problems[1]?.message ?? '', /status/);
  });

  it('a missing sidecar is empty', async () => {
    const r = await readSidecar(path.join(os.tmpdir(), 'no-such-dir-parrot', 'x.review.jsonl'));
    assert.deepEqual(r, { decisions: [], problems: [] });
  });
});

describe('review: merged state', () => {
  it('the later decision on a key wins whatever the line order, and a changed record is flagged', () => {
    const first = decision({ key: 'id:1', status: 'rejected', hash: 'h1' });
    const later = decision({
      key: 'id:1',
      status: 'accepted',
      time: '2026-01-02T00:00:00Z',
      hash: 'h1',
      after: first.time,
    });
    for (const order of [
      [first, later],
      [later, first],
    ]) {
      const s = new ReviewState(order);
      assert.equal(s.effective({ key: 'id:1', hash: 'h1', turnHashes: [] }).status, 'accepted');
      assert.equal(s.effective({ key: 'id:1', hash: 'h1', turnHashes: [] }).changed, false);
      assert.equal(s.effective({ key: 'id:1', hash: 'h2', turnHashes: [] }).changed, true);
      assert.deepEqual(s.conflictsOf('id:1'), []);
    }
    assert.equal(
      new ReviewState([first]).effective({ key: 'id:9', hash: '', turnHashes: [] }).status,
      'unreviewed',
    );
  });

  it('two reviewers deciding differently without seeing each other is a conflict; after seeing it is not', () => {
    const ana = decision({ key: 'id:1', status: 'accepted', reviewer: 'ana', time: '2026-01-01T10:00:00Z' });
    const bo = decision({ key: 'id:1', status: 'rejected', reviewer: 'bo', time: '2026-01-01T11:00:00Z' });
    const s = new ReviewState([ana, bo]);
    const e = s.effective({ key: 'id:1', hash: 'x', turnHashes: [] });
    assert.equal(e.status, 'rejected');
    assert.deepEqual(e.conflicts, [ana]);
    const boAfter = { ...bo, after: ana.time };
    assert.deepEqual(
      new ReviewState([ana, boAfter]).effective({ key: 'id:1', hash: 'x', turnHashes: [] }).conflicts,
      [],
    );
    // The same status is no conflict.
    const agree = { ...bo, status: 'accepted' as const };
    assert.deepEqual(new ReviewState([ana, agree]).conflictsOf('id:1'), []);
  });

  it('turn decisions are kept apart from the record decision', () => {
    const s = new ReviewState([
      decision({ key: 'id:1', status: 'accepted', hash: 'r' }),
      decision({ key: 'id:1', turn: 3, status: 'needs-work', hash: 't3' }),
    ]);
    const id = { key: 'id:1', hash: 'r', turnHashes: ['a', 'b', 'c', 't3'] };
    assert.equal(s.effective(id).status, 'accepted');
    assert.equal(s.effective(id, 3).status, 'needs-work');
    assert.equal(s.effective(id, 3).changed, false);
    assert.equal(s.effective(id, 2).status, 'unreviewed');
    assert.deepEqual(s.turnsOf('id:1'), [3]);
  });

  it("a union merge of two reviewers' sidecars gives the same state as either order", () => {
    const ana = [decision({ key: 'id:1' }), decision({ key: 'id:2', status: 'rejected' })];
    const bo = [
      decision({ key: 'id:3', reviewer: 'bo', status: 'needs-work' }),
      decision({ key: 'id:2', reviewer: 'bo', status: 'accepted', time: '2026-01-03T00:00:00Z' }),
    ];
    const base = decisionLine(decision({ key: 'id:0' })) + '\n';
    const ab = parseSidecar(base + [...ana, ...bo].map(decisionLine).join('\n'));
    const ba = parseSidecar(base + [...bo, ...ana].map(decisionLine).join('\n'));
    for (const key of ['id:0', 'id:1', 'id:2', 'id:3']) {
      const x = new ReviewState(ab.decisions).latest(key);
      assert.deepEqual(new ReviewState(ba.decisions).latest(key), x);
    }
    const s = new ReviewState(ab.decisions);
    assert.equal(s.latest('id:2')?.status, 'accepted');
    assert.equal(s.conflictsOf('id:2').length, 1);
  });

  it('counts generated data by strategy and by model, and decisions matching no record', () => {
    const pair = (strategy: string, text: string): string =>
      JSON.stringify({
        prompt: [{ role: 'user', content: 'q' }],
        chosen: [{ role: 'assistant', content: 'c' }],
        rejected: [{ role: 'assistant', content: text }],
        strategy,
        models: { chosen: 'source', rejected: 'm1' },
      });
    const records = [pair('misread', 'a'), pair('misread', 'b'), pair('neglect', 'c')].map((t) =>
      recordIdentity(t),
    );
    const s = new ReviewState([
      decision({ key: records[0]?.key ?? '', hash: records[0]?.hash ?? '' }),
      decision({ key: records[1]?.key ?? '', status: 'rejected' }),
      decision({ key: 'id:gone' }),
    ]);
    const c = new ReviewStatsCollector(s);
    for (const r of records) c.add(r);
    const st = c.result();
    assert.equal(st.records, 3);
    assert.equal(st.reviewed, 2);
    assert.deepEqual(st.byStrategy.misread, { unreviewed: 0, accepted: 1, rejected: 1, 'needs-work': 0 });
    assert.deepEqual(st.byStrategy.neglect, { unreviewed: 1, accepted: 0, rejected: 0, 'needs-work': 0 });
    assert.equal(st.byModel.m1?.accepted, 1);
    assert.equal(st.orphaned, 1);
    assert.equal(st.changed, 1, 'the rejected decision was made on another hash');
  });
});

describe('review: reviewer name', () => {
  it('takes the configured name, else git config user.name of the folder', async function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-reviewer-'));
    assert.equal(await reviewerName('  Ana  ', dir), 'Ana');
    const git = (...args: string[]) => spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    if (git('init', '-q').status !== 0) this.skip(); // no git on this machine
    git('config', 'user.name', 'Bo Reviewer');
    assert.equal(await reviewerName('', dir), 'Bo Reviewer');
    assert.equal(await reviewerName(undefined, dir), 'Bo Reviewer');
  });
});
