// The dialogue editor's pure parts, run in the extension host with the other editor tests: the
// webview message checker, edits on real records of every shared dataset, new records per format,
// search matching, and the word diff (against a brute-force reference on small inputs).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseRecord } from '../../src/core/formats';
import { contentText } from '../../src/core/model';
import { editedLine, newRecordLine, summarize } from '../../src/extension/editor/records';
import { matchLine } from '../../src/extension/editor/search';
import { parseWebviewMessage } from '../../src/protocol';
import { tokenize, wordDiff, type DiffOp } from '../../webview/diff';
import { mulberry32 } from '../support/random';
import { datasetsIn } from '../support/fixtures';

const EXTENSION_ID = 'parrot-studio.parrot-studio';

function datasetsDir(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext);
  return datasetsIn(ext.extensionPath);
}

function firstLines(name: string, n: number): string[] {
  return fs
    .readFileSync(path.join(datasetsDir(), name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(0, n);
}

/** The diff's kept and removed parts spell `a` again, its kept and added parts spell `b`. */
function assertRebuilds(ops: DiffOp[], a: string, b: string): void {
  const side = (skip: DiffOp['kind']): string =>
    ops
      .filter((o) => o.kind !== skip)
      .map((o) => o.text)
      .join('');
  assert.equal(side('added'), a);
  assert.equal(side('removed'), b);
}

describe('dialogue editor model', () => {
  describe('webview message checker', () => {
    it('accepts every well-formed message and returns only its known fields', () => {
      const good = [
        { type: 'ready' },
        { type: 'requestRows', lines: [0, 1, 2] },
        { type: 'openRecord', line: 4 },
        {
          type: 'query',
          id: 1,
          query: { text: 'x', regex: true, minTurns: 2, role: 'user', format: 'openai' },
        },
        { type: 'cancelQuery', id: 1 },
        { type: 'openLink', href: 'https://example.com' },
        { type: 'editTurn', line: 0, section: 'turns', turn: 1, text: 'hi' },
        { type: 'setRole', line: 0, section: 'chosen', turn: 0, role: 'assistant' },
        { type: 'addTurn', line: 0, section: 'prompt', after: -1, role: 'user' },
        { type: 'deleteTurn', line: 0, section: 'rejected', turn: 0 },
        { type: 'duplicateTurn', line: 0, section: 'turns', turn: 0 },
        { type: 'moveTurn', line: 0, section: 'turns', turn: 0, delta: -1 },
        { type: 'editSystem', line: 0, text: '' },
        { type: 'replaceRecord', line: 0, text: '{}' },
        { type: 'addDialogue', after: -1 },
        { type: 'duplicateDialogue', line: 3 },
        { type: 'deleteDialogue', line: 3 },
      ];
      for (const m of good)
        assert.deepEqual(parseWebviewMessage({ ...m, extra: '<script>' }), m, JSON.stringify(m));
    });

    it('refuses malformed messages, including random ones, without throwing', () => {
      const bad: unknown[] = [
        undefined,
        null,
        42,
        [],
        { type: 'openRecord', line: 1.5 },
        { type: 'openRecord', line: -1 },
        { type: 'openRecord', line: '1' },
        { type: 'requestRows', lines: new Array(501).fill(0) },
        { type: 'moveTurn', line: 0, section: 'turns', turn: 0, delta: 2 },
        { type: 'addTurn', line: 0, section: 'turns', after: -2, role: 'user' },
        { type: 'editTurn', line: 0, section: 'messages', turn: 0, text: '' },
        { type: 'query', id: 1, query: { role: 'root' } },
        { type: 'query', id: 1, query: { minTurns: -1 } },
        { type: '__proto__' },
      ];
      for (const b of bad) assert.equal(parseWebviewMessage(b), undefined, JSON.stringify(b));
      const r = mulberry32(7);
      const values = [0, -1, 1.5, 'x', null, true, [], {}, 'turns', 'user', 2 ** 60];
      const types = [
        'editTurn',
        'setRole',
        'addTurn',
        'moveTurn',
        'query',
        'requestRows',
        'openRecord',
        'zzz',
      ];
      const keys = ['line', 'section', 'turn', 'text', 'role', 'after', 'delta', 'id', 'query', 'lines'];
      for (let i = 0; i < 2000; i++) {
        const m: Record<string, unknown> = { type: types[Math.floor(r() * types.length)] };
        for (const k of keys) if (r() < 0.6) m[k] = values[Math.floor(r() * values.length)];
        const parsed = parseWebviewMessage(m);
        if (parsed) {
          // Whatever passes has the exact shape the host expects.
          assert.deepEqual(parseWebviewMessage(JSON.parse(JSON.stringify(parsed))), parsed);
        }
      }
    });
  });

  describe('record edits', () => {
    const files = [
      'fastchat_dummy_conversation.jsonl',
      'llamafactory_v1_sft_demo.jsonl',
      'llamafactory_glaive_toolcall_en_demo.jsonl',
      'llamafactory_alpaca_en_demo.jsonl',
      'mt_bench_questions.jsonl',
      'llamafactory_dpo_en_demo.jsonl',
    ];

    it('changes only the edited turn text, keeping the rest of the record as written', () => {
      for (const name of files) {
        for (const line of firstLines(name, 5)) {
          const before = parseRecord(line);
          assert.ok(before.ok, name);
          const section = before.sample.kind === 'dialogue' ? 'turns' : 'chosen';
          const text = 'New text with "quotes", \\ backslash and ünïcode\nsecond line';
          const after = editedLine(line, { type: 'editTurn', line: 0, section, turn: 0, text });
          const parsed = parseRecord(after);
          assert.ok(parsed.ok, `${name}: ${after}`);
          const turns = parsed.sample.kind === 'dialogue' ? parsed.sample.turns : parsed.sample.chosen;
          assert.equal(contentText(turns[0]?.content ?? ''), text, name);
          // Editing back gives the original bytes: nothing else was rewritten.
          const old = before.sample.kind === 'dialogue' ? before.sample.turns : before.sample.chosen;
          const back = editedLine(after, {
            type: 'editTurn',
            line: 0,
            section,
            turn: 0,
            text: contentText(old[0]?.content ?? ''),
          });
          assert.equal(back, line, `${name}: edit and edit back`);
        }
      }
    });

    it('writes a new record in the format of the file', () => {
      for (const name of files) {
        const template = firstLines(name, 1)[0];
        const line = newRecordLine(template);
        const parsed = parseRecord(line);
        const original = parseRecord(template ?? '');
        assert.ok(parsed.ok && original.ok, `${name}: ${line}`);
        assert.equal(parsed.layout.format, original.layout.format, `${name}: ${line}`);
      }
      assert.ok(parseRecord(newRecordLine(undefined)).ok);
    });

    it('summarises malformed lines with their error position', () => {
      const row = summarize(3, '{"messages": [}');
      assert.equal(row.ok, false);
      assert.match(row.error ?? '', /column 15/);
    });

    it('matches search and filters on records, and plain text on malformed lines', () => {
      const line = firstLines('fastchat_dummy_conversation.jsonl', 1)[0] ?? '';
      assert.ok(
        matchLine(0, line, { text: 'vicuna' }, (s) => (s.toLowerCase().includes('vicuna') ? 0 : undefined)),
      );
      assert.equal(matchLine(0, line, { invalidOnly: true }, undefined), undefined);
      assert.ok(matchLine(0, line, { role: 'assistant', minTurns: 2 }, undefined));
      assert.equal(matchLine(0, line, { format: 'openai' }, undefined), undefined);
      assert.ok(matchLine(1, '{"broken', { invalidOnly: true }, undefined));
    });
  });

  describe('word diff', () => {
    function lcsLength(a: string[], b: string[]): number {
      const dp: number[][] = Array.from({ length: a.length + 1 }, () =>
        new Array<number>(b.length + 1).fill(0),
      );
      for (let i = a.length - 1; i >= 0; i--)
        for (let j = b.length - 1; j >= 0; j--)
          dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
      return dp[0][0];
    }

    it('rebuilds both texts and keeps a longest common subsequence (random texts)', () => {
      const r = mulberry32(11);
      const words = ['the', 'fox', 'dog', 'red', 'brown', ' ', ', ', '.', 'über', '\n'];
      const text = () =>
        Array.from({ length: Math.floor(r() * 30) }, () => words[Math.floor(r() * words.length)]).join(' ');
      for (let i = 0; i < 300; i++) {
        const a = text();
        const b = text();
        const { ops, truncated } = wordDiff(a, b);
        assert.equal(truncated, false);
        assertRebuilds(ops, a, b);
        const same = ops.filter((o) => o.kind === 'same').reduce((n, o) => n + tokenize(o.text).length, 0);
        assert.equal(
          same,
          lcsLength(tokenize(a), tokenize(b)),
          'the common part is a longest common subsequence',
        );
      }
    });

    it('caps the work on long texts and still rebuilds them', () => {
      const a = 'start ' + 'alpha beta '.repeat(3000) + 'end';
      const b = 'start ' + 'beta gamma '.repeat(3000) + 'end';
      const { ops, truncated } = wordDiff(a, b, 100_000);
      assert.equal(truncated, true);
      assertRebuilds(ops, a, b);
      assert.equal(ops[0]?.kind, 'same');
    });
  });
});
