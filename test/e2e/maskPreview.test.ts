// The training-mask preview in the real workbench: `m` in the dialogue editor shades the turns that
// get loss (tinted body, solid edge) and the ones that do not (dashed edge), with token counts per
// turn as text, a summary for screen readers, and the cutoff line in the turn where the cut falls.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { findWebviewFrame, openFile, runCommand, screenshot, startWorkbench } from './support/workbench';

const FILE = 'mask-preview.jsonl';

function dataset(): string {
  const turns = [
    { from: 'human', value: 'What is the largest planet of the solar system?' },
    {
      from: 'gpt',
      value: 'Jupiter is the largest planet; it is more than twice as massive as all the others.',
    },
    { from: 'human', value: 'How many moons does it have?' },
    {
      from: 'gpt',
      value: 'It has 95 officially recognised moons. ' + 'More are found every year. '.repeat(20),
    },
  ];
  return JSON.stringify({ id: 'm1', conversations: turns }) + '\n';
}

interface Look {
  background: string;
  edge: string;
}

function look(frame: Frame, selector: string): Promise<Look> {
  return frame
    .locator(selector)
    .first()
    .evaluate((e) => {
      const g = globalThis as unknown as { getComputedStyle(x: unknown): Record<string, string> };
      const body = (e as unknown as { querySelector(s: string): unknown }).querySelector('.turn-body');
      return {
        background: g.getComputedStyle(body).backgroundColor ?? '',
        edge: g.getComputedStyle(e).borderLeftStyle ?? '',
      };
    });
}

describe('dialogue editor: training-mask preview (UI)', () => {
  let frame: Frame;
  let settingsFile: string;

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    fs.writeFileSync(path.join(wb.workspace, FILE), dataset());
    settingsFile = path.join(wb.workspace, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(settingsFile, JSON.stringify({ 'parrot.tokens.cutoff': 80 }));
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    frame = await findWebviewFrame('.turn-body :text("largest planet")', 60_000);
  });

  after(async () => {
    fs.rmSync(settingsFile, { force: true });
    await runCommand('View: Close All Editors').catch(() => undefined);
  });

  it('shades the turns with loss, counts tokens per turn and shows where the cutoff falls', async function () {
    this.timeout(120_000);
    const page = frame.page();
    await frame.locator('.vlist').focus();
    await page.keyboard.press('m');
    await frame.locator('.mask-toggle[aria-pressed="true"]').waitFor({ timeout: 15_000 });
    await frame.locator('.turn.mask-loss').first().waitFor({ timeout: 60_000 });
    // Assistant-only (the default): the two answers get loss, the two questions do not.
    assert.deepEqual(
      await frame
        .locator('.turn.mask-loss')
        .evaluateAll((es) => es.map((e) => (e as unknown as { dataset: { key: string } }).dataset.key)),
      ['turns:1', 'turns:3'],
    );
    assert.equal(await frame.locator('.turn.mask-noloss').count(), 2);
    const summary = (await frame.locator('.mask-summary').textContent()) ?? '';
    assert.match(summary, /loss on \d+ of \d+ tokens \(assistant turns, o200k\)/);
    assert.match(summary, /cutoff 80: \d+ tokens dropped, cut in turn 4/);
    assert.equal(await frame.locator('.mask-summary').getAttribute('aria-live'), 'polite');
    assert.match(
      (await frame.locator('.turn[data-key="turns:0"] .mask-info').textContent()) ?? '',
      /^\d+ tokens · no loss$/,
    );
    assert.match(
      (await frame.locator('.turn[data-key="turns:3"] .mask-info').textContent()) ?? '',
      /^\d+ tokens · loss on \d+ of \d+ tokens · cutoff falls here: \d+ of its \d+ tokens kept$/,
    );
    await frame
      .locator('.turn[data-key="turns:3"] .mask-cut-line[role="separator"]')
      .waitFor({ timeout: 5_000 });
    // Shading: a tinted body and a solid edge for loss, no tint and a dashed edge without.
    const loss = await look(frame, '.turn.mask-loss');
    const none = await look(frame, '.turn.mask-noloss');
    assert.ok(!/^(transparent|rgba\(0, 0, 0, 0\))$/.test(loss.background), `tinted: ${loss.background}`);
    assert.equal(loss.edge, 'solid');
    assert.equal(none.edge, 'dashed');
    await screenshot('mask-preview-assistant');

    // The Parrot-Ask inversion: loss on the user turns only.
    await frame.locator('.mask-policy').evaluate((e) => {
      const select = e as unknown as { value: string; dispatchEvent(ev: unknown): boolean };
      select.value = 'asker';
      const G = globalThis as unknown as { Event: new (t: string) => unknown };
      select.dispatchEvent(new G.Event('change'));
    });
    await frame.locator('.mask-summary', { hasText: 'user turns (Parrot-Ask)' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(
      await frame
        .locator('.turn.mask-loss')
        .evaluateAll((es) => es.map((e) => (e as unknown as { dataset: { key: string } }).dataset.key)),
      ['turns:0', 'turns:2'],
    );
    await frame.locator('.vlist').focus();
    await page.keyboard.press('m');
    await frame.locator('.mask-toggle[aria-pressed="false"]').waitFor({ timeout: 15_000 });
    assert.equal(await frame.locator('.turn.mask-loss, .turn.mask-noloss, .mask-info').count(), 0);
  });
});
