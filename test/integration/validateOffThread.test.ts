// Validation of a JSON array (and of a Parquet file) runs in a worker thread, not on the extension
// host's thread that every extension shares: while a large array is validated, the host's event loop
// stays mostly idle (its event-loop utilisation, a fraction of the time, not an absolute time), the
// verdicts are the same as in the host's own thread, and a cancelled run ends without a verdict.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { validateFile } from '../../src/core/validate/file';
import type { ParrotApi } from '../../src/extension/extension';
import { datasetsIn } from '../support/fixtures';

const EXTENSION_ID = 'parrot-studio.parrot-studio';

let api: ParrotApi;
let tmp: string;

/** A pretty-printed ShareGPT array of about `bytes`, with a wrong role every 1,000 records. */
function writeArray(file: string, bytes: number): number {
  const fd = fs.openSync(file, 'w');
  let size = 0;
  let n = 0;
  fs.writeSync(fd, '[\n');
  while (size < bytes) {
    const rec = {
      id: `r${n}`,
      conversations: [
        {
          from: n % 1000 === 7 ? 'usr' : 'human',
          value: `Question ${n}: ${'why is the sky blue? '.repeat(20)}`,
        },
        { from: 'gpt', value: `Answer ${n}: ${'Rayleigh scattering of sunlight. '.repeat(30)}` },
      ],
    };
    const text = (n ? ',\n' : '') + JSON.stringify(rec, null, 2).replace(/^/gm, '  ');
    size += fs.writeSync(fd, text);
    n++;
  }
  fs.writeSync(fd, '\n]\n');
  fs.closeSync(fd);
  return n;
}

describe('validation of JSON arrays and Parquet off the extension host thread', function () {
  this.timeout(300_000);

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-offthread-'));
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("a large JSON array is validated while the host's event loop stays mostly idle, with the in-thread verdicts", async () => {
    const file = path.join(tmp, 'big.json');
    const records = writeArray(file, 48 << 20);
    const uri = vscode.Uri.file(file);
    await api.diagnostics.settled(uri);
    const start = performance.eventLoopUtilization();
    const summary = await api.diagnostics.validateUri(uri);
    const elu = performance.eventLoopUtilization(start);
    assert.ok(summary);
    assert.equal(summary.lines, records);
    // In the host's own thread the loop is busy for nearly the whole run (about 0.9 and more).
    assert.ok(
      elu.utilization < 0.5,
      `event-loop utilisation during the validation: ${elu.utilization.toFixed(2)}`,
    );

    const here = await validateFile(file, { workers: 1 });
    assert.equal(summary.total, here.total);
    assert.equal(summary.errors, here.errors);
    // Each record with the wrong role has its problems on the line of that role, and only those do.
    const usrLines = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((l, i) => (l.includes('"from": "usr"') ? [i] : []));
    assert.equal(usrLines.length, Math.ceil((records - 7) / 1000));
    const lines = new Set(here.diagnostics.map((d) => d.line));
    assert.deepEqual(
      usrLines.filter((l) => !lines.has(l)),
      [],
      'a problem on each wrong role',
    );
    // The record's other problems (the turn order it breaks) are within its 12 lines.
    const outside = [...lines].filter((l) => !usrLines.some((u) => l >= u - 4 && l <= u + 8));
    assert.deepEqual(outside, [], 'no problem outside the records with the wrong role');
    const shown = vscode.languages
      .getDiagnostics(uri)
      .map((d) => `${d.range.start.line}:${d.range.start.character}`);
    assert.deepEqual(
      shown,
      here.diagnostics.map((d) => `${d.line}:${d.startCol}`),
    );
  });

  it('a cancelled validation of a JSON array ends without a verdict and leaves the file to a next run', async () => {
    const file = path.join(tmp, 'cancel.json');
    const records = writeArray(file, 48 << 20);
    const uri = vscode.Uri.file(file);
    await api.diagnostics.settled(uri);
    const source = new vscode.CancellationTokenSource();
    const run = api.diagnostics.validateUri(uri, source.token);
    setImmediate(() => source.cancel());
    assert.equal(await run, undefined, 'no summary for a cancelled run');
    const again = await api.diagnostics.validateUri(uri);
    assert.equal(again?.lines, records);
  });

  it('a Parquet file validated in the worker gives the verdicts of the in-thread run, by row', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const file = path.join(tmp, 'dpo.parquet');
    fs.copyFileSync(
      path.join(datasetsIn(ext.extensionPath), 'containers', 'llamafactory_dpo_en_demo.parquet'),
      file,
    );
    const uri = vscode.Uri.file(file);
    await api.diagnostics.settled(uri);
    const summary = await api.diagnostics.validateUri(uri);
    const here = await validateFile(file, { workers: 1 });
    assert.ok(summary);
    assert.equal(summary.lines, here.lines);
    assert.ok(here.lines > 0);
    assert.equal(summary.total, here.total);
    assert.equal(summary.errors, here.errors);
  });
});
