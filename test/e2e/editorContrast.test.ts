// The dialogue editor in a high contrast theme of the real workbench: the selected record stays
// visible when the list does not have the focus (high contrast themes have no selection background).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { findWebviewFrame, openFile, runCommand, screenshot, startWorkbench } from './support/workbench';

const FILE = 'editor-contrast.jsonl';

function dataset(): string {
  return (
    ['Which owl is largest?', 'Do owls see colour?', 'How quiet is an owl?']
      .map((q, i) =>
        JSON.stringify({
          id: `owl-${i + 1}`,
          messages: [
            { role: 'user', content: q },
            { role: 'assistant', content: `Answer ${i + 1}.` },
          ],
        }),
      )
      .join('\n') + '\n'
  );
}

describe('dialogue editor: high contrast (UI)', () => {
  let frame: Frame;
  let settingsFile: string;

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    fs.writeFileSync(path.join(wb.workspace, FILE), dataset());
    settingsFile = path.join(wb.workspace, '.vscode', 'settings.json');
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    frame = await findWebviewFrame('.turn-body :text("largest")', 60_000);
  });

  after(async () => {
    fs.rmSync(settingsFile, { force: true });
    await frame
      .locator('body:not(.vscode-high-contrast)')
      .waitFor({ timeout: 30_000 })
      .catch(() => undefined);
  });

  it('outlines the selected row in Dark High Contrast when the list is not focused', async () => {
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(settingsFile, JSON.stringify({ 'workbench.colorTheme': 'Default High Contrast' }));
    await frame.locator('body.vscode-high-contrast').waitFor({ timeout: 30_000 });
    const page = frame.page();
    await frame.locator('.vlist').focus();
    await page.keyboard.press('j');
    await frame.locator('.detail-title', { hasText: 'Record 2' }).waitFor({ timeout: 15_000 });
    // Focus goes to the dialogue pane: the list shows its selection unfocused.
    await frame.locator('.turn[data-key="turns:0"]').focus();
    const style = await frame.locator('.vrow.selected').evaluate((e) => {
      const s = (
        globalThis as unknown as { getComputedStyle(x: unknown): Record<string, string> }
      ).getComputedStyle(e);
      return {
        style: s.outlineStyle ?? '',
        width: s.outlineWidth ?? '',
        color: s.outlineColor ?? '',
        listFocused: (e as unknown as { closest(s: string): { matches(s: string): boolean } | null })
          .closest('.vlist')
          ?.matches(':focus'),
      };
    });
    assert.equal(style.listFocused, false, 'the list is not focused');
    assert.notEqual(style.style, 'none', `an outline: ${JSON.stringify(style)}`);
    assert.ok(parseFloat(style.width) >= 1, `at least 1px wide: ${style.width}`);
    assert.ok(
      !/^(transparent|rgba\(0, 0, 0, 0\))$/.test(style.color),
      `the outline has a colour: ${style.color}`,
    );
    await screenshot('editor-high-contrast-selection');
  });
});
