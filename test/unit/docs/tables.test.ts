import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..', '..');

/** Cells of a Markdown table row (`|` inside backticks does not split). */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/\|(?=(?:[^`]*`[^`]*`)*[^`]*$)/);
}

describe('docs', () => {
  for (const file of fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
    it(`${file}: every table row has as many cells as its header, and a setting in its first`, () => {
      const lines = fs.readFileSync(path.join(root, 'docs', file), 'utf8').split('\n');
      for (let i = 0; i + 1 < lines.length; i++) {
        if (!/^\|[\s:-]+\|/.test(lines[i + 1] ?? '') || !lines[i]?.startsWith('|')) continue;
        const width = cells(lines[i] ?? '').length;
        const settings = /^setting\b/i.test(cells(lines[i] ?? '')[0]?.trim() ?? '');
        for (let j = i + 2; j < lines.length && lines[j]?.startsWith('|'); j++) {
          const row = cells(lines[j] ?? '');
          assert.equal(row.length, width, `${file}:${j + 1}: ${lines[j]}`);
          if (settings) assert.match(row[0]?.trim() ?? '', /^`parrot\.[\w.]+`/, `${file}:${j + 1}`);
        }
      }
    });
  }
});
