import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

function stats(...args: string[]): { roles: Record<string, { tokens: number }> } & Record<string, unknown> {
  const r = spawnSync(process.execPath, [CLI, 'stats', '--json', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { roles: Record<string, { tokens: number }> } & Record<string, unknown>;
}

describe('cli: stats --no-tokens', function () {
  this.timeout(60_000);
  it('gives every figure of a full run, with token counts left at 0', () => {
    const file = path.join(datasetsIn(ROOT), 'fastchat_dummy_conversation.jsonl');
    const full = stats(file);
    const fast = stats('--no-tokens', file);
    assert.ok(Object.values(full.roles).every((r) => r.tokens > 0));
    for (const r of Object.values(full.roles)) r.tokens = 0;
    assert.deepEqual(fast, full);
  });
});
