import * as assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetStore } from '../../../src/core/store';
import { EOL_LF, LineIndex } from '../../../src/core/store/lineIndex';
import { tempDir } from './util';

describe('store: line index growth', () => {
  it('keeps the flags of every line across growth (no line after 2048 reads with its newline)', async () => {
    const index = new LineIndex(0, 4);
    for (let i = 0; i < 5000; i++) index.push((i + 1) * 10, EOL_LF);
    for (let i = 0; i < 5000; i++) assert.equal(index.flag(i), EOL_LF, `line ${i}`);
    const { dir, cleanup } = await tempDir();
    try {
      const p = join(dir, 'many.jsonl');
      await writeFile(p, Array.from({ length: 5000 }, (_, i) => `{"i":${i}}`).join('\n') + '\n');
      const store = await DatasetStore.open(p);
      try {
        await store.indexed;
        const lines = await store.readLines(0, 5000);
        lines.forEach((t, i) => assert.equal(t, `{"i":${i}}`, `line ${i}`));
      } finally {
        await store.close();
      }
    } finally {
      await cleanup();
    }
  });
});
