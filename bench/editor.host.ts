// The editor benchmark's extension-host part, run by `npm run bench:editor` through the integration
// runner (bench/host.ts as the tests index): the measurements of test/integration/large.test.ts on a
// 1.4 GB file (PARROT_BENCH_BYTES) with more samples, printed as ratios. It asserts nothing: the
// integration test holds the budgets.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { report } from '../test/integration/support/report';
import { describeFigures, measureLargeFile, parrotApi } from './editorPerf';

describe('dialogue editor benchmark', function () {
  this.timeout(30 * 60_000);

  it('measures a large file in the extension host', async () => {
    const api = await parrotApi();
    const bytes = Number(process.env.PARROT_BENCH_BYTES ?? 1.4e9);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-editor-bench-'));
    try {
      const figures = await measureLargeFile(api, {
        bytes,
        dir,
        jumps: 30,
        saveRounds: 3,
        log: (line) => report(`      ${line}`),
      });
      report('');
      for (const line of describeFigures(figures)) report(`  ${line}`);
      report('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
