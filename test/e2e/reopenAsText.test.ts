// Reopen as Text on a dialogue editor with unsaved edits, in the real workbench: the modal asks
// Save / Don't Save / Cancel; Save writes the edit and the text editor shows it, Don't Save reverts
// it and the text editor shows the file as it was, Cancel keeps the dialogue editor and its edit.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { findWebviewFrame, openFile, runCommand, startWorkbench } from './support/workbench';

const FILE = 'reopen-as-text.jsonl';

function dataset(): string {
  return (
    JSON.stringify({
      id: 'swift-1',
      messages: [
        { role: 'user', content: 'How fast do swifts fly?' },
        { role: 'assistant', content: 'Over 100 km/h in level flight.' },
      ],
    }) + '\n'
  );
}

describe('Reopen as Text with unsaved dialogue edits (UI)', () => {
  let file: string;
  let page: Page;

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    page = wb.page;
    file = path.join(wb.workspace, FILE);
    fs.writeFileSync(file, dataset());
  });

  after(async () => {
    await runCommand('View: Close All Editors').catch(() => undefined);
  });

  const tabs = () => page.locator(`.tabs-container .tab[data-resource-name="${FILE}"]`);

  /** Opens the file in the dialogue editor and changes the first question to `text` (unsaved). */
  async function editInDialogueEditor(text: string): Promise<Frame> {
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    const frame = await findWebviewFrame('.turn-body :text("swifts")', 60_000);
    await frame.locator('.turn[data-key="turns:0"]').focus();
    await page.keyboard.press('Enter');
    const editor = frame.locator('textarea.editor');
    await editor.waitFor({ timeout: 10_000 });
    await editor.fill(text);
    await page.keyboard.press('Control+Enter');
    await frame.locator('.turn-body', { hasText: text }).waitFor({ timeout: 10_000 });
    await page
      .locator(`.tabs-container .tab.dirty[data-resource-name="${FILE}"]`)
      .waitFor({ timeout: 10_000 });
    return frame;
  }

  /** Runs Reopen as Text and answers its modal with `button`; returns the modal's message. */
  async function reopenAnswering(button: string): Promise<string> {
    await runCommand('Parrot: Reopen as Text');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 15_000 });
    const message = (await dialog.innerText()).replace(/\s+/g, ' ');
    await dialog.getByRole('button', { name: button, exact: true }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 15_000 });
    return message;
  }

  async function textEditorShows(needle: string): Promise<void> {
    await page
      .locator('.monaco-editor .view-lines', { hasText: needle })
      .first()
      .waitFor({ timeout: 15_000 });
  }

  async function oneTab(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await tabs().count()) !== 1 && Date.now() < deadline) await page.waitForTimeout(100);
    assert.equal(await tabs().count(), 1, 'one tab for the file');
  }

  it('Cancel keeps the dialogue editor and its unsaved edit', async () => {
    const frame = await editInDialogueEditor('How fast do common swifts fly?');
    const message = await reopenAnswering('Cancel');
    assert.match(message, /reopen-as-text\.jsonl has unsaved changes in the dialogue editor/);
    await oneTab();
    assert.equal(await page.locator(`.tabs-container .tab.dirty[data-resource-name="${FILE}"]`).count(), 1);
    await frame.locator('.turn-body', { hasText: 'common swifts' }).waitFor({ timeout: 5_000 });
    assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /common swifts/, 'nothing written');
  });

  it('Save writes the edit, and the text editor shows it', async () => {
    await reopenAnswering('Save');
    await textEditorShows('common swifts');
    await oneTab();
    assert.equal(await page.locator('.tabs-container .tab.dirty').count(), 0, 'nothing unsaved');
    const saved = fs.readFileSync(file, 'utf8');
    assert.match(saved, /How fast do common swifts fly\?/);
    assert.match(saved, /Over 100 km\/h in level flight\./, 'the rest of the record is kept');
    await runCommand('View: Close All Editors');
  });

  it("Don't Save reverts the edit, and the text editor shows the file as it is on disk", async () => {
    const before = fs.readFileSync(file, 'utf8');
    await editInDialogueEditor('How fast do alpine swifts fly?');
    await reopenAnswering("Don't Save");
    await textEditorShows('common swifts');
    await oneTab();
    assert.equal(await page.locator('.tabs-container .tab.dirty').count(), 0, 'nothing unsaved left');
    assert.equal(fs.readFileSync(file, 'utf8'), before, 'the file is unchanged');
    assert.equal(await page.locator('.monaco-editor .view-lines :text("alpine")').count(), 0);
  });
});
