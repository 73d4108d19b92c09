// A Parquet file (pyarrow-written, as the Hugging Face Hub stores datasets) opened in the real
// workbench: Open in Dialogue Editor on the .parquet tab shows its first dialogue.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findWebviewFrame, openFile, runCommand, startWorkbench } from './support/workbench';
import { datasetsIn } from '../support/fixtures';
import { repoRoot } from '../runner/codeserver';

const FILE = 'hub-sharegpt.parquet';
const FIXTURE = 'fastchat_dummy_conversation.parquet';

describe('Parquet in the dialogue editor (UI)', () => {
  let first: { question: string; answer: string };

  before(async function () {
    this.timeout(300_000);
    const wb = await startWorkbench();
    const root = repoRoot();
    const containers = path.join(datasetsIn(root), 'containers');
    fs.copyFileSync(path.join(containers, FIXTURE), path.join(wb.workspace, FILE));
    const rows = JSON.parse(
      fs.readFileSync(path.join(containers, FIXTURE.replace(/\.parquet$/, '.pyarrow.json')), 'utf8'),
    ) as { conversations: { value: string }[] }[];
    first = { question: rows[0].conversations[0].value, answer: rows[0].conversations[1].value };
  });

  after(async () => {
    await runCommand('View: Close All Editors').catch(() => undefined);
  });

  it('opens a .parquet file and shows its first dialogue', async function () {
    this.timeout(180_000);
    await openFile(FILE);
    await runCommand('Parrot: Open in Dialogue Editor');
    const frame = await findWebviewFrame(`.turn-body :text("${first.question}")`, 60_000);
    const answer = frame.locator('.turn-body', { hasText: first.answer }).first();
    await answer.waitFor({ timeout: 10_000 });
    assert.ok(await answer.isVisible());
  });
});
