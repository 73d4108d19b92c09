import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { FORMAT_IDS, detectRecordFormat } from '../../../src/core/formats';

const EXAMPLES = path.resolve(__dirname, '..', '..', '..', '..', 'examples');

describe('examples/', () => {
  it('has a sample file for every supported format, each file of one format throughout', () => {
    const seen = new Map<string, string>();
    for (const name of readdirSync(EXAMPLES).filter((n) => n.endsWith('.jsonl'))) {
      const lines = readFileSync(path.join(EXAMPLES, name), 'utf8').split('\n').filter(Boolean);
      assert.ok(lines.length > 0, `${name} is empty`);
      const formats = new Set(lines.map((l) => detectRecordFormat(JSON.parse(l))));
      assert.equal(formats.size, 1, `${name} mixes formats: ${[...formats].join(', ')}`);
      const [format] = formats;
      assert.ok(format, `${name}: records of no known format`);
      if (!seen.has(format)) seen.set(format, name);
    }
    const missing = FORMAT_IDS.filter((f) => !seen.has(f));
    assert.deepEqual(missing, [], `formats without a sample in examples/: ${missing.join(', ')}`);
  });
});
