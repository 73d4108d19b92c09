import * as fs from 'node:fs';
import * as path from 'node:path';

/** Every built `*.test.js` file below `dir` (recursively), sorted so runs are in a stable order. */
export function testFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...testFiles(p));
    else if (entry.name.endsWith('.test.js')) files.push(p);
  }
  return files.sort();
}
