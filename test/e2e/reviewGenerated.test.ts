// "Generated only" in the real workbench: with the option on, the review keys on a focused turn act
// on generated turns (those with provenance) and refuse the others, saying why; the sidecar gets
// only the decision on the generated turn.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { parseSidecar } from '../../src/core/review';
import { GENERATED_DIALOGUE } from '../support/fixtures';
import { findWebviewFrame, openFile, runCommand, startWorkbench } from './support/workbench';

const FILE = 'review-generated.jsonl';

describe('review: "generated only" keys on turns (UI)', () => {
  let frame: Frame;
  let file: string;

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    file = path.join(wb.workspace, FILE);
    fs.writeFileSync(file, JSON.stringify(GENERATED_DIALOGUE) + '\n');
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    frame = await findWebviewFrame('.turn-body :text("Maybe is one.")', 60_000);
  });

  after(async () => {
    await runCommand('View: Close All Editors').catch(() => undefined);
  });

  it('acts on the focused generated turn and refuses a turn without provenance', async function () {
    this.timeout(120_000);
    const page = frame.page();
    await frame.locator('.review-turn-badge', { hasText: 'generated' }).first().waitFor({ timeout: 30_000 });
    await frame.locator('vscode-checkbox.review-generated').click();
    await frame.locator('vscode-checkbox.review-generated[checked]').waitFor({ timeout: 15_000 });
    await frame.locator('.detail-title', { hasText: 'Record 1' }).waitFor({ timeout: 30_000 });
    await frame.locator('.turn[data-key="turns:1"]').focus();
    await page.keyboard.press('1');
    await frame
      .locator('.review-current', { hasText: 'Turn 2 is not generated' })
      .waitFor({ timeout: 15_000 });
    assert.equal(fs.existsSync(file + '.review.jsonl'), false, 'no decision on a turn without provenance');
    await frame.locator('.turn[data-key="turns:3"]').focus();
    await page.keyboard.press('2');
    await frame
      .locator('.turn[data-key="turns:3"] .review-turn-badge', { hasText: 'rejected' })
      .waitFor({ timeout: 15_000 });
    const decisions = parseSidecar(fs.readFileSync(file + '.review.jsonl', 'utf8')).decisions;
    assert.deepEqual(
      decisions.map((d) => [d.turn, d.status]),
      [[3, 'rejected']],
    );
  });
});
