// The dialogue editor's pane and messages in the real workbench: the JSON view hands the pane back,
// search and Go to # say what went wrong once and stop saying it when it no longer holds, and search
// matches are marked in the list and the dialogue.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { findWebviewFrame, openFile, runCommand, startWorkbench } from './support/workbench';

const FILE = 'editor-messages.jsonl';

/** A turn far taller than its edit box. */
const LONG =
  'Up to 5.5 m.\n\n' + Array.from({ length: 300 }, (_, i) => `Line ${i + 1} of a long answer.`).join('\n\n');

function dataset(): string {
  const rows = [
    {
      id: 'm1',
      messages: [
        { role: 'user', content: 'Where do pelicans nest?' },
        { role: 'assistant', content: 'On islands.' },
      ],
    },
    {
      id: 'm2',
      messages: [
        { role: 'user', content: 'How tall is a giraffe?' },
        { role: 'assistant', content: LONG },
      ],
    },
    {
      id: 'm3',
      messages: [
        { role: 'user', content: 'Name a marsupial.' },
        { role: 'assistant', content: 'The wombat, a marsupial.' },
      ],
    },
  ];
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

describe('dialogue editor: pane and messages (UI)', () => {
  let frame: Frame;

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    fs.writeFileSync(path.join(wb.workspace, FILE), dataset());
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    frame = await findWebviewFrame('.turn-body :text("pelicans")', 60_000);
  });

  const errorBox = (): ReturnType<Frame['locator']> => frame.locator('.error-box');
  const statusText = (): Promise<string> => frame.locator('.status-text').innerText();

  async function search(text: string, regex = false): Promise<void> {
    const box = frame.locator('vscode-textfield.search');
    const checkbox = frame.locator('vscode-checkbox', { hasText: 'Regex' });
    const checked = await checkbox.evaluate((e) => (e as unknown as { checked: boolean }).checked);
    if (checked !== regex) await checkbox.click();
    await box.evaluate((e, v) => {
      (e as unknown as { value: string }).value = v;
    }, text);
    await box.focus();
    await frame.page().keyboard.press('Enter');
  }

  async function goTo(value: string): Promise<void> {
    const field = frame.locator('vscode-textfield.goto');
    await field.evaluate((e, v) => {
      (e as unknown as { value: string }).value = v;
    }, value);
    await field.focus();
    await frame.page().keyboard.press('Enter');
  }

  it('hands the pane back after { } JSON → Dialogue: Enter edits a turn, later versions show', async () => {
    const page = frame.page();
    await frame.locator('.detail-title', { hasText: 'Record 1' }).waitFor({ timeout: 15_000 });
    await frame.getByRole('button', { name: 'JSON', exact: true }).click();
    await frame.locator('textarea.editor-json').waitFor({ timeout: 15_000 });
    await frame.getByRole('button', { name: 'Dialogue', exact: true }).click();
    await frame.locator('.turn[data-key="turns:0"]').focus();
    await page.keyboard.press('Enter');
    const editor = frame.locator('textarea.editor');
    await editor.waitFor({ timeout: 10_000 });
    await editor.fill('Where do brown pelicans nest?');
    await page.keyboard.press('Control+Enter');
    await frame.locator('.turn-body', { hasText: 'brown pelicans' }).waitFor({ timeout: 15_000 });
    // Undo comes back to the pane (it was hidden while the flag stayed set).
    await runCommand('Undo');
    await frame
      .locator('.turn-body', { hasText: 'brown pelicans' })
      .waitFor({ state: 'detached', timeout: 15_000 });
    assert.equal(await frame.locator('.turn-body', { hasText: 'Where do pelicans nest?' }).count(), 1);
  });

  it('says an invalid regular expression once, and not after a valid search', async () => {
    await search('(', true);
    await errorBox().waitFor({ state: 'visible', timeout: 15_000 });
    const message = await errorBox().innerText();
    assert.equal(message.match(/Invalid regular expression/g)?.length, 1, message);
    await search('pelic', true);
    await frame.locator('.status-text', { hasText: '1 match' }).waitFor({ timeout: 15_000 });
    assert.ok(await errorBox().isHidden(), 'the regex error is gone');
    assert.ok(!(await statusText()).includes('1 matches'), await statusText());
  });

  it('marks the matches in the list and in the dialogue', async () => {
    await search('marsupial');
    await frame.locator('.status-text', { hasText: '1 match' }).waitFor({ timeout: 15_000 });
    await frame.locator('.detail-title', { hasText: 'Record 3' }).waitFor({ timeout: 15_000 });
    assert.ok((await frame.locator('.vrow-title mark.match').count()) >= 1, 'marked in the list');
    const marks = await frame.locator('.turn-body mark.match').allInnerTexts();
    assert.deepEqual(marks, ['marsupial', 'marsupial']);
  });

  it('says when nothing matches and clears the pane', async () => {
    await search('zebra-not-here');
    await frame.locator('.detail .empty', { hasText: 'No record matches' }).waitFor({ timeout: 15_000 });
    assert.equal(await frame.locator('.detail .turn').count(), 0, 'no non-matching record stays');
    await search('');
    await frame.locator('.status-text', { hasText: '3 records' }).waitFor({ timeout: 15_000 });
  });

  it('Go to # takes whole numbers from 1 and clears "There is no record" after a valid jump', async () => {
    await goTo('999');
    await errorBox().waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await errorBox().innerText(), /There is no record 999/);
    await goTo('2');
    await frame.locator('.detail-title', { hasText: 'Record 2' }).waitFor({ timeout: 15_000 });
    assert.ok(await errorBox().isHidden(), '"There is no record 999" is gone');
    for (const bad of ['0', '-5', '1.5']) {
      await goTo(bad);
      await errorBox().waitFor({ state: 'visible', timeout: 10_000 });
      assert.match(await errorBox().innerText(), /whole number from 1 to 3/, bad);
      await goTo('2');
      await errorBox().waitFor({ state: 'hidden', timeout: 10_000 });
      assert.equal(await frame.locator('.detail-title').innerText(), 'Record 2', `${bad} moved nowhere`);
    }
  });

  it('gives a JSON error its position once', async () => {
    await frame.getByRole('button', { name: 'JSON', exact: true }).click();
    const area = frame.locator('textarea.editor-json');
    await area.waitFor({ timeout: 15_000 });
    await area.fill('{"id": "m2" "messages": []}');
    const status = await frame.locator('.json-status.invalid').innerText();
    assert.equal(status.match(/line \d+/g)?.length, 1, status);
    assert.ok(!/position \d+/.test(status), status);
    await frame.page().keyboard.press('Escape');
    await frame.locator('textarea.editor-json').waitFor({ state: 'detached', timeout: 10_000 });
  });

  it("opens a long turn's edit box at its start", async () => {
    const page = frame.page();
    await goTo('2');
    await frame.locator('.detail-title', { hasText: 'Record 2' }).waitFor({ timeout: 15_000 });
    await frame.locator('.turn[data-key="turns:1"]').focus();
    await page.keyboard.press('Enter');
    const area = frame.locator('textarea.editor');
    await area.waitFor({ timeout: 10_000 });
    const at = await area.evaluate((e) => {
      const a = e as unknown as {
        scrollTop: number;
        scrollHeight: number;
        clientHeight: number;
        selectionStart: number;
      };
      return { top: a.scrollTop, tall: a.scrollHeight > a.clientHeight, caret: a.selectionStart };
    });
    assert.ok(at.tall, 'the text is taller than its box');
    assert.deepEqual({ top: at.top, caret: at.caret }, { top: 0, caret: 0 });
    await page.keyboard.press('Escape');
    await area.waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('Add turn and Add dialogue open the new text for typing', async () => {
    const page = frame.page();
    await frame.getByRole('button', { name: 'Add turn', exact: true }).click();
    const area = frame.locator('.turn[data-key="turns:2"] textarea.editor');
    await area.waitFor({ timeout: 15_000 });
    assert.equal(
      await area.evaluate(
        (e) =>
          (e as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement === e,
      ),
      true,
      'the new turn has focus',
    );
    await page.keyboard.type('A typed follow-up');
    await page.keyboard.press('Control+Enter');
    await frame.locator('.turn-body', { hasText: 'A typed follow-up' }).waitFor({ timeout: 15_000 });
    await frame.getByRole('button', { name: 'Add dialogue', exact: true }).click();
    await frame.locator('.detail-title', { hasText: 'Record 3' }).waitFor({ timeout: 15_000 });
    const first = frame.locator('.turn[data-key="turns:0"] textarea.editor');
    await first.waitFor({ timeout: 15_000 });
    assert.equal(
      await first.evaluate(
        (e) =>
          (e as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement === e,
      ),
      true,
      'the new dialogue has focus',
    );
    await page.keyboard.press('Escape');
    await runCommand('File: Revert File');
    await frame.locator('.status-text', { hasText: '3 records' }).waitFor({ timeout: 15_000 });
  });
});
