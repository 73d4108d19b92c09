// A dataset above the size where validation uses worker threads (16 MiB), validated by the command
// in the real extension host: its block kernel and workers must give exactly the diagnostics of the
// full path (JSON.parse + ajv + the rules, line by line: validateText), positions included.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { validateText } from '../../src/core/validate';
import { mulberry32 } from '../support/random';

interface Summary {
  total: number;
  errors: number;
  shown: number;
  lines: number;
}

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open');
  return folder.uri.fsPath;
}

/** About `bytes` of ShareGPT lines with problems of many kinds at random lines (seeded). */
function dataset(bytes: number): { text: string; buf: Buffer } {
  const rnd = mulberry32(21);
  const lines: string[] = [];
  const words = 'the model data 的 数据 context 🦜 answer value'.split(' ');
  const text = (n: number): string =>
    Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)]).join(' ');
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const turns = [];
    for (let t = 0; t < 2 + 2 * Math.floor(rnd() * 3); t++)
      turns.push({ from: t % 2 ? 'gpt' : 'human', value: text(20 + Math.floor(rnd() * 200)) });
    let line = JSON.stringify({ id: `r${i}`, conversations: turns });
    const r = rnd();
    if (r < 0.002)
      line = line.replace('"gpt"', '"human"'); // role/alternation
    else if (r < 0.004)
      line = line.replace(/"value":"[^"]*"}]}$/, '"value":"  "}]}'); // empty text
    else if (r < 0.006)
      line = line.slice(0, -3); // json/syntax
    else if (r < 0.008)
      line = line.replace(`"r${i}"`, `"r${Math.floor(i / 2)}"`); // duplicate/id
    else if (r < 0.01 && lines.length > 0)
      line = lines[Math.floor(rnd() * lines.length)]; // duplicate/dialogue
    else if (r < 0.011)
      line = line.replace('"conversations"', '"conversations", "conversations": []'); // json/duplicate-key
    else if (r < 0.012)
      line = line.replace('data', 'da\\u0074a'); // a \u escape
    else if (r < 0.013) line = line.replace('model', 'mo\u0001del'); // a control character
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  const body = lines.join('\n') + '\n';
  const buf = Buffer.from(body, 'utf8');
  // Invalid UTF-8 on a few lines (a lone continuation byte inside a text).
  for (let k = 0; k < 5; k++) {
    const at = buf.indexOf('"value":"', Math.floor(rnd() * (buf.length - 1000))) + 9;
    buf[at] = 0x80;
  }
  return { text: buf.toString('utf8'), buf };
}

describe('validating a large dataset', function () {
  this.timeout(300_000);
  const file = (): string => path.join(workspaceDir(), 'validate-large.jsonl');

  before(async () => {
    await vscode.extensions.getExtension('parrot-studio.parrot-studio')?.activate();
  });

  after(async () => {
    const cfg = vscode.workspace.getConfiguration('parrot.validation');
    await cfg.update('maxProblems', undefined, vscode.ConfigurationTarget.Workspace);
    fs.rmSync(file(), { force: true });
  });

  it('the command (workers, block kernel) gives the full path’s diagnostics at the same ranges', async () => {
    const { text, buf } = dataset(24 << 20);
    fs.writeFileSync(file(), buf);
    await vscode.workspace
      .getConfiguration('parrot.validation')
      .update('maxProblems', 100_000, vscode.ConfigurationTarget.Workspace);
    const uri = vscode.Uri.file(file());
    const summary = await vscode.commands.executeCommand<Summary | undefined>('parrot.validateDataset', uri);
    assert.ok(summary, 'the command returns what it found');
    const expected = validateText(text);
    const key = (line: number, start: number, end: number, code: string): string =>
      `${line}:${start}-${end} ${code}`;
    const want = expected.map((d) => key(d.line, d.startCol, d.endCol, d.code));
    // The text cannot show invalid UTF-8 (it reads U+FFFD): an error at each first bad byte, the
    // rest of the line checked as that text.
    text.split('\n').forEach((l, i) => {
      const at = l.indexOf('\ufffd');
      if (at >= 0) want.push(key(i, at, at + 1, 'json/encoding'));
    });
    want.sort();
    const got = vscode.languages
      .getDiagnostics(uri)
      .filter((d) => d.source === 'parrot')
      .map((d) =>
        key(
          d.range.start.line,
          d.range.start.character,
          d.range.end.character,
          typeof d.code === 'string' ? d.code : '?',
        ),
      )
      .sort();
    assert.ok(want.length > 100, `${want.length} problems expected`);
    for (const code of [
      'json/encoding',
      'json/syntax',
      'duplicate/id',
      'duplicate/dialogue',
      'role/alternation',
    ])
      assert.ok(
        want.some((w) => w.endsWith(` ${code}`)),
        `the dataset has a ${code} problem`,
      );
    assert.deepEqual(got, want);
    assert.equal(summary.total, want.length);
    assert.equal(summary.lines, text.split('\n').length - 1);
  });
});
