// RunOutput in-process: what a caller keeps with a slot left short (`detail`) survives a resume and
// a repair, and the kept lines of a short slot are read back from the output and from the side file.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readRunProgress, RunOutput } from '../../../src/core/parrot/output';

describe('RunOutput: failed slots', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'parrot-output-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the detail of a short slot through a resume and a repair; kept lines come from both files', async () => {
    const out = path.join(dir, 'pairs.jsonl');
    const sidecar = `${out}.sources.jsonl`;
    const o = { out, sidecar, input: 'in.jsonl', keep: { format: 'dpo' } };
    const first = await RunOutput.open({ ...o, resume: false });
    await first.put(0, { lines: ['a0'], side: ['s0'], error: 'turn 4 neglect: 400', detail: { jobs: [4] } });
    await first.put(1, { lines: ['b0'], side: ['t0'] });
    await first.close(true);
    const p = await readRunProgress(out);
    assert.deepEqual(
      p?.failed.map((f) => [f.slot, f.line, f.lines, f.detail]),
      [[0, 0, 1, { jobs: [4] }]],
    );

    const again = await RunOutput.open({ ...o, resume: true });
    assert.deepEqual(again.failed[0]?.detail, { jobs: [4] });
    assert.deepEqual([...(await again.failedLines())], [[0, ['a0']]]);
    assert.deepEqual([...(await again.failedLines(true))], [[0, ['s0']]]);
    await again.repair(
      new Map([
        [0, { lines: ['a0', 'a1'], side: ['s0', 's1'], error: 'turn 6 neglect: 400', detail: { jobs: [6] } }],
      ]),
    );
    assert.deepEqual(
      again.failed.map((f) => [f.slot, f.line, f.lines, f.detail]),
      [[0, 0, 2, { jobs: [6] }]],
    );
    await again.close(true);
    assert.equal(readFileSync(out, 'utf8'), 'a0\na1\nb0\n');
    assert.equal(readFileSync(sidecar, 'utf8'), 's0\ns1\nt0\n');
    assert.deepEqual((await readRunProgress(out))?.failed[0]?.detail, { jobs: [6] });
  });
});
