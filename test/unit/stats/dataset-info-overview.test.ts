// The Dataset Overview and the tokens/cutoff rule read a file through its dataset_info.json entry:
// llamafactory-renamed/glaive_renamed.jsonl (LLaMA-Factory's glaive tool-call demo under renamed
// columns, keys and roles) gives the figures of the same records under their canonical names, and
// cutoff problems sit in the same message text.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { overviewFile } from '../../../src/core/overview';
import { validateFile } from '../../../src/core/validate';
import { datasetsIn } from '../../support/fixtures';

const DATASETS = datasetsIn(path.resolve(__dirname, '..', '..', '..', '..'));
const RENAMED = path.join(DATASETS, 'llamafactory-renamed', 'glaive_renamed.jsonl');

describe('overview and tokens/cutoff through a dataset_info.json entry', function () {
  this.timeout(120_000);
  let dir = '';
  let canonical = '';
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-dsinfo-ov-'));
    canonical = path.join(dir, 'glaive.jsonl');
    const published = JSON.parse(
      readFileSync(path.join(DATASETS, 'containers', 'llamafactory_glaive_toolcall_en_demo.json'), 'utf8'),
    ) as unknown[];
    // With a blank line in both, as the line scan counts it.
    const lines = published.slice(0, 100).map((r) => JSON.stringify(r));
    writeFileSync(canonical, lines.slice(0, 50).join('\n') + '\n\n' + lines.slice(50).join('\n') + '\n');
    const renamed = readFileSync(RENAMED, 'utf8').split('\n');
    writeFileSync(
      path.join(dir, 'renamed.jsonl'),
      renamed.slice(0, 50).join('\n') + '\n\n' + renamed.slice(50).join('\n'),
    );
    writeFileSync(
      path.join(dir, 'dataset_info.json'),
      readFileSync(path.join(DATASETS, 'llamafactory-renamed', 'dataset_info.json'), 'utf8').replace(
        '"glaive_renamed.jsonl"',
        '"renamed.jsonl"',
      ),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the overview figures are those of the canonical records (not "no known format")', async () => {
    const mapped = (await overviewFile(path.join(dir, 'renamed.jsonl'), { workers: 0 })).figures;
    const plain = (await overviewFile(canonical, { workers: 0 })).figures;
    assert.equal(mapped.dialogues, 100);
    assert.equal(mapped.blank, 1);
    assert.deepEqual(mapped.formats, [{ format: 'sharegpt', count: 100 }]);
    assert.deepEqual(mapped.turns, plain.turns);
    assert.deepEqual(mapped.roles, plain.roles);
    assert.deepEqual(mapped.tokens, plain.tokens);
    assert.deepEqual(mapped.duplicates, plain.duplicates);
    assert.deepEqual(mapped.paper, plain.paper);
    assert.deepEqual(mapped.problems, plain.problems);
    // Off: the same file is 100 records of no known format.
    const raw = (await overviewFile(path.join(dir, 'renamed.jsonl'), { workers: 0, datasetInfo: false }))
      .figures;
    assert.equal(raw.dialogues, 0);
  });

  it('tokens/cutoff finds what it finds on the canonical records, in the same message text', async () => {
    const opts = { workers: 0, tokens: { tokenizer: 'o200k', cutoff: 200 } };
    const mapped = await validateFile(path.join(dir, 'renamed.jsonl'), opts);
    const plain = await validateFile(canonical, opts);
    const cut = (ds: typeof mapped.diagnostics) => ds.filter((d) => d.code === 'tokens/cutoff');
    const m = cut(mapped.diagnostics);
    const p = cut(plain.diagnostics);
    assert.ok(p.length > 10);
    assert.deepEqual(
      m.map((d) => [d.line, d.message]),
      p.map((d) => [d.line, d.message]),
    );
    const mText = readFileSync(path.join(dir, 'renamed.jsonl'), 'utf8').split('\n');
    const pText = readFileSync(canonical, 'utf8').split('\n');
    for (let i = 0; i < m.length; i++) {
      assert.ok(m[i].startCol > 0, `line ${m[i].line + 1}: on the text, not the whole record`);
      const at = (t: string[], d: (typeof m)[number]): string =>
        t[d.line].slice(d.startCol, d.startCol + 24).split('"')[0];
      assert.equal(at(mText, m[i]), at(pText, p[i]), `line ${m[i].line + 1}`);
    }
  });
});
