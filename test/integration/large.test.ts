// The dialogue editor on a 1 GiB file inside the real VS Code extension host: first page against a
// 1 MB file of the same generator, first page before the index is complete, jumps once indexed,
// extension-host memory, and save after one edit against a plain copy. The measurements live in
// bench/editorPerf.ts, which `npm run bench:editor` runs on 1.4 GB with more samples.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  describeFigures,
  measureLargeFile,
  median,
  parrotApi,
  saveRatio,
  type LargeFileFigures,
} from '../../bench/editorPerf';
import { report } from './support/report';

const GiB = 1024 * 1024 * 1024;

describe('dialogue editor on a 1 GiB file', function () {
  this.timeout(240_000);
  let figures: LargeFileFigures;
  let dir: string;

  before(async () => {
    const api = await parrotApi();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-large-'));
    figures = await measureLargeFile(api, { bytes: GiB, dir, jumps: 10, saveRounds: 3 });
    for (const line of describeFigures(figures)) report(`      ${line}`);
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows the first page of a 1 GiB file about as fast as that of a 1 MB file, before indexing ends', () => {
    const { large, small } = figures;
    // Both bounds: the ratio is what the budget is about ("whatever the file size") and holds on a
    // slow or busy machine, where both opens are slow alike; the absolute cap catches a first page
    // that waits for something proportional to the file while the small baseline itself is slow.
    // The issue's budget is 1 s on a quiet machine; 5 s leaves room for a loaded CI runner.
    assert.ok(
      large.firstPageMs <= 3 * small.firstPageMs,
      `first page ${large.firstPageMs.toFixed(0)} ms vs ${small.firstPageMs.toFixed(0)} ms for 1 MB`,
    );
    assert.ok(large.firstPageMs < 5_000, `first page after ${large.firstPageMs.toFixed(0)} ms`);
    assert.ok(
      large.firstPageMs < large.indexedMs,
      `first page after ${large.firstPageMs.toFixed(0)} ms, whole index after ${large.indexedMs.toFixed(0)} ms`,
    );
  });

  it('jumps to records near the end and anywhere once indexed in under 100 ms', () => {
    const all = [...figures.jumpEndMs, ...figures.jumpRandomMs];
    // The issue's budget (100 ms) on the median; single jumps may meet a busy moment of the machine.
    assert.ok(
      median(figures.jumpEndMs) < 100,
      `near the end: ${figures.jumpEndMs.map((v) => v.toFixed(1)).join(', ')} ms`,
    );
    assert.ok(
      median(figures.jumpRandomMs) < 100,
      `anywhere: ${figures.jumpRandomMs.map((v) => v.toFixed(1)).join(', ')} ms`,
    );
    assert.ok(Math.max(...all) < 1_000, `slowest jump ${Math.max(...all).toFixed(0)} ms`);
  });

  it('keeps the extension host under 200 MB more than before opening', () => {
    // RSS of the whole extension host (VS Code's own host code included): the delta from before
    // opening the large file to the highest sample through indexing, jumps and the save.
    const delta = figures.rssPeakMB - figures.memoryBefore.rss;
    assert.ok(
      delta < 200,
      `peak RSS ${figures.rssPeakMB.toFixed(0)} MB, ${figures.memoryBefore.rss.toFixed(0)} MB before`,
    );
  });

  it('saves one edit in the 1 GiB file within 3x a copy of it (with fsync)', () => {
    assert.equal(figures.saves.length, 3);
    // A save is atomic and durable (temp file, fsync, rename), so a copy with fsync is the fair
    // baseline. Each save is timed between two copies, each from a clean state (sync); the
    // minimum of these interleaved runs is the figure least disturbed by a disk shared with other
    // jobs. An edit in the middle copies the file and rewrites its second half, so about 1.5x is
    // expected; 3x leaves room for a busy CI runner.
    const ratio = saveRatio(figures.saves);
    assert.ok(
      ratio <= 3,
      `${ratio.toFixed(2)}x: saves ${figures.saves.map((s) => s.saveMs.toFixed(0)).join(', ')} ms; copies ${figures.saves.map((s) => `${s.copySyncMs.toFixed(0)}/${s.copySyncAfterMs.toFixed(0)}`).join(', ')} ms`,
    );
  });
});
