// Convert Dataset… and Export for Training… in the real VS Code extension host: the files they
// write are byte for byte what `parrot convert` (the shipped CLI, run as a process) writes, the
// loss report lists the CLI's lines, an existing file is not replaced unless told, a cancel writes
// nothing, and the LLaMA-Factory export registers its output in dataset_info.json.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { convertFile, type ConvertReportEntry } from '../../src/core/formats/convertFile';
import { datasetsIn } from '../support/fixtures';

interface Entry {
  kind: string;
  line: number;
  column?: number;
  text: string;
}

interface Result {
  status: string;
  message?: string;
  output?: string;
  format?: string;
  stats?: { records: number; lossy: number; invalid: number };
  report?: Entry[];
  registered?: { infoPath: string; name: string; entry: Record<string, unknown>; format: string };
}

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open');
  return folder.uri.fsPath;
}

async function run(command: string, args: object): Promise<Result> {
  const r = await vscode.commands.executeCommand<Result>(command, args);
  assert.ok(r, `${command} returned nothing`);
  return r;
}

describe('Convert Dataset… / Export for Training… (parrot.convertDataset, parrot.exportForTraining)', function () {
  this.timeout(120_000);
  let root = '';
  let fixtures = '';
  let dir = '';

  /** `parrot convert ARGS` as a process: its stderr lines. */
  function cli(args: string[]): Promise<{ code: number; stderr: string[] }> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [path.join(root, 'dist', 'cli.js'), 'convert', ...args],
        { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, maxBuffer: 64 << 20 },
        (err, _stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          if (code !== 0 && code !== 1) reject(new Error(`parrot convert exited ${code}: ${stderr}`));
          else resolve({ code, stderr: stderr.split('\n').filter((l) => l !== '') });
        },
      );
    });
  }

  before(async () => {
    const ext = vscode.extensions.getExtension('parrot-studio.parrot-studio');
    assert.ok(ext);
    await ext.activate();
    root = ext.extensionPath;
    fixtures = datasetsIn(root);
    dir = fs.mkdtempSync(path.join(workspaceDir(), 'convert-'));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Copies a fixture into the test folder (the CLI reports it under the same path). */
  function copy(rel: string): string {
    const to = path.join(dir, path.basename(rel));
    fs.copyFileSync(path.join(fixtures, rel), to);
    return to;
  }

  it('writes the bytes parrot convert writes, for every container, with the same loss report', async () => {
    const cases: [string, string, string][] = [
      ['llamafactory_glaive_toolcall_en_demo.jsonl', 'alpaca', 'json'],
      ['containers/llamafactory_dpo_en_demo.json', 'trl-preference', 'jsonl'],
      ['containers/fastchat_dummy_conversation.parquet', 'openai', 'parquet'],
    ];
    for (const [rel, to, ext] of cases) {
      const src = copy(rel);
      const ours = path.join(dir, `${path.basename(rel)}.ours.${to}.${ext}`);
      const theirs = path.join(dir, `${path.basename(rel)}.cli.${to}.${ext}`);
      const r = await run('parrot.convertDataset', { uri: vscode.Uri.file(src), format: to, output: ours });
      assert.equal(r.status, 'ok', r.message);
      const c = await cli(['--to', to, '-o', theirs, src]);
      const a = fs.readFileSync(ours);
      const b = fs.readFileSync(theirs);
      assert.ok(a.length > 0, `${rel}: nothing written`);
      assert.ok(a.equals(b), `${rel} -> ${to} (.${ext}): the command's bytes differ from parrot convert's`);
      // The report is the CLI's stderr without its summary line.
      assert.deepEqual(
        (r.report ?? []).map((e) => e.text),
        c.stderr.slice(0, -1),
        `${rel}: report lines differ`,
      );
      assert.equal(r.message, c.stderr[c.stderr.length - 1]?.replace(theirs, ours));
    }
  });

  it('reads a file through its dataset_info.json entry (renamed columns, keys and roles), as parrot convert does', async () => {
    const sub = fs.mkdtempSync(path.join(dir, 'renamed-'));
    for (const f of ['glaive_renamed.jsonl', 'dataset_info.json'])
      fs.copyFileSync(path.join(fixtures, 'llamafactory-renamed', f), path.join(sub, f));
    const src = path.join(sub, 'glaive_renamed.jsonl');
    const ours = path.join(sub, 'ours.openai.jsonl');
    const theirs = path.join(sub, 'cli.openai.jsonl');
    const r = await run('parrot.convertDataset', {
      uri: vscode.Uri.file(src),
      format: 'openai',
      output: ours,
    });
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.stats?.records, 100);
    assert.equal(r.stats?.invalid, 0);
    const c = await cli(['--to', 'openai', '-o', theirs, src]);
    assert.equal(c.code, 0);
    assert.ok(fs.readFileSync(ours).equals(fs.readFileSync(theirs)), 'the bytes parrot convert writes');
    const first = JSON.parse(fs.readFileSync(ours, 'utf8').split('\n')[0]) as {
      messages: { role: string }[];
    };
    assert.equal(first.messages[0].role, 'user');
  });

  it('a file of 8 MiB or more (converted in worker threads) gets the bytes and report of one thread', async () => {
    // Fixture records, repeated to 9 MiB, with an invalid line and ill-formed UTF-8 among them.
    const lines = fs
      .readFileSync(path.join(fixtures, 'fastchat_dummy_conversation.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const parts: Buffer[] = [];
    let size = 0;
    for (let i = 0; size < 9 << 20; i++) {
      const line =
        i % 997 === 5
          ? Buffer.from('{"broken": \n')
          : i % 1499 === 7
            ? Buffer.from([0x7b, 0xc3, 0x28, 0x7d, 0x0a])
            : Buffer.from(lines[i % lines.length] + '\n');
      parts.push(line);
      size += line.length;
    }
    const src = path.join(dir, 'big.jsonl');
    fs.writeFileSync(src, Buffer.concat(parts));
    const ours = path.join(dir, 'big.openai.jsonl');
    const r = await run('parrot.convertDataset', {
      uri: vscode.Uri.file(src),
      format: 'openai',
      output: ours,
    });
    assert.equal(r.status, 'ok', r.message);
    const one = path.join(dir, 'big.one.jsonl');
    const report: ConvertReportEntry[] = [];
    const stats = await convertFile(src, one, { to: 'openai', workers: 0, report: (e) => report.push(e) });
    assert.ok(stats.invalid > 0);
    assert.ok(fs.readFileSync(ours).equals(fs.readFileSync(one)), 'the bytes differ from one thread’s');
    assert.deepEqual(r.report, report);
    assert.deepEqual(r.stats, stats);
  });

  it('reports each loss at its record’s line (glaive tool calls into Alpaca)', async () => {
    const src = copy('llamafactory_glaive_toolcall_en_demo.jsonl');
    const out = path.join(dir, 'glaive.alpaca.jsonl');
    const r = await run('parrot.convertDataset', { uri: src, format: 'alpaca', output: out });
    assert.equal(r.status, 'ok', r.message);
    const lost = (r.report ?? []).filter((e) => e.kind === 'lost');
    assert.ok(lost.length > 0, 'tool calls into Alpaca must be reported lost');
    const lines = fs.readFileSync(src, 'utf8').split('\n');
    for (const e of lost) {
      assert.ok(e.text.startsWith(`${src}:${e.line}: lost: `), e.text);
      // The record at that line is one with tools (what Alpaca cannot hold).
      assert.match(lines[e.line - 1] ?? '', /"tools"|function_call|observation/, e.text);
    }
    assert.equal(r.stats?.lossy, new Set(lost.map((e) => e.line)).size);
  });

  it('does not replace an existing file unless told, and a cancel writes nothing', async () => {
    const src = copy('fastchat_dummy_conversation.jsonl');
    const out = path.join(dir, 'kept.openai.jsonl');
    fs.writeFileSync(out, 'precious\n');
    const refused = await run('parrot.convertDataset', {
      uri: src,
      format: 'openai',
      output: out,
      overwrite: false,
    });
    assert.equal(refused.status, 'cancelled');
    assert.equal(fs.readFileSync(out, 'utf8'), 'precious\n');

    const cts = new vscode.CancellationTokenSource();
    cts.cancel();
    const cancelled = await run('parrot.convertDataset', {
      uri: src,
      format: 'openai',
      output: out,
      overwrite: true,
      token: cts.token,
    });
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(fs.readFileSync(out, 'utf8'), 'precious\n', 'a cancelled conversion changed the output');
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
      'a temp file was left behind',
    );

    const replaced = await run('parrot.convertDataset', {
      uri: src,
      format: 'openai',
      output: out,
      overwrite: true,
    });
    assert.equal(replaced.status, 'ok', replaced.message);
    assert.equal(replaced.stats?.records, 500);
    assert.notEqual(fs.readFileSync(out, 'utf8'), 'precious\n');
  });

  it('Export for Training…: LLaMA-Factory data with its dataset_info.json entry, TRL and OpenAI as parrot convert writes them', async () => {
    const chat = copy('llamafactory_v1_sft_demo.jsonl');
    const lf = path.join(dir, 'sft.llamafactory.json');
    const r = await run('parrot.exportForTraining', {
      uri: chat,
      target: 'llamafactory',
      output: lf,
      name: 'parrot_sft',
    });
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.format, 'sharegpt');
    const lfCli = path.join(dir, 'sft.cli.json');
    await cli(['--to', 'sharegpt', '-o', lfCli, chat]);
    assert.ok(
      fs.readFileSync(lf).equals(fs.readFileSync(lfCli)),
      'LLaMA-Factory export differs from parrot convert',
    );
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'dataset_info.json'), 'utf8')) as Record<
      string,
      { file_name: string; formatting?: string }
    >;
    assert.equal(info.parrot_sft?.file_name, 'sft.llamafactory.json');
    assert.equal(info.parrot_sft?.formatting, 'sharegpt');
    assert.equal(r.registered?.name, 'parrot_sft');

    const pairs = copy('llamafactory_dpo_en_demo.jsonl');
    for (const [target, format] of [
      ['trl', 'trl-preference'],
      ['openai', 'openai-preference'],
    ] as const) {
      const out = path.join(dir, `dpo.${target}.jsonl`);
      const e = await run('parrot.exportForTraining', { uri: pairs, target, output: out });
      assert.equal(e.status, 'ok', e.message);
      assert.equal(e.format, format);
      assert.equal(e.registered, undefined);
      const theirs = path.join(dir, `dpo.${target}.cli.jsonl`);
      await cli(['--to', format, '-o', theirs, pairs]);
      assert.ok(fs.readFileSync(out).equals(fs.readFileSync(theirs)), `${target} export differs`);
    }
    // OpenAI fine-tuning reads JSONL only.
    const bad = await run('parrot.exportForTraining', {
      uri: pairs,
      target: 'openai',
      output: path.join(dir, 'dpo.openai.json'),
    });
    assert.equal(bad.status, 'error');
    assert.ok(!fs.existsSync(path.join(dir, 'dpo.openai.json')));
  });
});
