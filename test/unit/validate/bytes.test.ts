// validateFile checks most lines as their raw bytes (read as Latin-1, see RawLine) and decodes only
// lines with problems; validateText checks UTF-16 text. These tests hold the two to the same
// verdicts, messages and columns on the inputs where bytes and text differ.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { validateFile, validateText, type Diagnostic } from '../../../src/core/validate';
import { mulberry32 } from '../../support/random';

const WORKER = resolve(__dirname, '..', '..', '..', '..', 'dist', 'validate.worker.js');
const SCHEMAS = resolve(__dirname, '..', '..', '..', '..', 'schemas');

/** JSON.stringify with every non-ASCII character written as a \u escape (as Python's json.dumps). */
const escaped = (v: unknown): string =>
  JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const raw = (v: unknown): string => JSON.stringify(v);
const oa = (...msgs: [string, string][]): Record<string, unknown> => ({
  messages: msgs.map(([role, content]) => ({ role, content })),
});

describe('validate/raw bytes and text agree', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ps-bytes-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Validates `lines` as a file (in-process and with workers) and as text; returns the diagnostics. */
  async function agree(name: string, lines: string[], maxDiagnostics = 100_000): Promise<Diagnostic[]> {
    const path = join(dir, `${name}.jsonl`);
    const text = lines.join('\n') + '\n';
    writeFileSync(path, text);
    const inText = validateText(text, { maxDiagnostics });
    const one = await validateFile(path, { workers: 0, maxDiagnostics });
    const two = await validateFile(path, {
      workers: 2,
      workerScript: WORKER,
      minWorkerBytes: 0,
      maxDiagnostics,
    });
    assert.deepEqual(one.diagnostics, inText, `${name}: file (1 thread) vs text`);
    assert.deepEqual(two.diagnostics, inText, `${name}: file (workers) vs text`);
    assert.equal(one.total, validateText(text).length);
    return inText;
  }

  it('content of Unicode spaces only is empty, written raw or escaped', async () => {
    const blanks = ['\u00a0', '\u3000', '\u2000\u200b', ' \u2003\t'];
    const lines = blanks.flatMap((b) => [
      raw(oa(['user', 'Hi'], ['assistant', b])),
      escaped(oa(['user', 'Hi'], ['assistant', b])),
    ]);
    lines.push(raw(oa(['user', 'Hi'], ['assistant', '\u00a0x']))); // not blank
    const ds = await agree('blank', lines);
    assert.deepEqual(
      ds.filter((d) => d.code === 'content/empty').map((d) => d.line),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
  });

  it('duplicates are found across raw and escaped writing, NBSP and emoji included', async () => {
    const texts = ['Wie geht\u2019s? \u4e2d\u6587 \ud83e\udd9c', 'caf\u00e9\u00a0au lait', '\u00e0 la carte'];
    const lines: string[] = [];
    for (const t of texts) lines.push(raw(oa(['user', t], ['assistant', `${t}!`])));
    for (const t of texts) lines.push(escaped(oa(['user', t], ['assistant', `${t}!`])));
    // NBSP is whitespace for the comparison: "café au lait" with a plain space is the same dialogue.
    lines.push(raw(oa(['user', 'caf\u00e9 au  lait'], ['assistant', 'caf\u00e9 au lait!'])));
    // One character different in the middle of a long text: not a duplicate.
    const long = (c: string) => `${'\u4e2d'.repeat(80)}${c}${'\u6587'.repeat(80)}`;
    lines.push(
      raw(oa(['user', long('a')], ['assistant', 'x'])),
      raw(oa(['user', long('b')], ['assistant', 'x'])),
    );
    const ds = await agree('dups', lines);
    const dups = ds.filter((d) => d.code === 'duplicate/dialogue');
    assert.deepEqual(
      dups.map((d) => [d.line, d.message]),
      [
        [3, 'duplicate dialogue: same content as line 1'],
        [4, 'duplicate dialogue: same content as line 2'],
        [5, 'duplicate dialogue: same content as line 3'],
        [6, 'duplicate dialogue: same content as line 2'],
      ],
    );
  });

  it('non-ASCII ids, roles and values: the same messages and UTF-16 columns', async () => {
    const lines = [
      raw({ id: '\u4f8b-1', ...oa(['user', 'x'], ['assistant', 'y']) }),
      escaped({ id: '\u4f8b-1', ...oa(['user', 'z'], ['assistant', 'w']) }), // duplicate id
      raw(oa(['\u7528\u6237', '\ud83e\udd9c\u4e2d'], ['assistant', 'y'])), // unknown role
      raw({
        messages: [
          { role: 'user', content: '\u00e9\u00e9\ud83e\udd9c' },
          { role: 'assistant', content: 5 },
        ],
      }),
      raw({
        messages: [
          { role: 'user', content: '\u00e9' },
          { role: 'assistant', content: 'ok' },
        ],
        x: '\u00e9',
      }) + ' {',
      raw({ instruction: '\u4e2d\u6587', output: '\u00e9' }), // another format
    ];
    const ds = await agree('positions', lines);
    const mixed = ds.find((d) => d.code === 'format/mixed');
    assert.deepEqual(mixed && [mixed.line, mixed.startCol, mixed.endCol], [5, 0, lines[5].length]);
    assert.ok(ds.some((d) => d.code === 'duplicate/id' && d.line === 1));
    assert.ok(ds.some((d) => d.code === 'role/invalid' && d.message.includes('"\u7528\u6237"')));
    const schema = ds.find((d) => d.line === 3 && d.code.startsWith('schema/'));
    assert.ok(schema);
    assert.equal(lines[3].slice(schema.startCol, schema.endCol), '5');
    assert.ok(ds.some((d) => d.code === 'json/syntax' && d.line === 4));
  });

  it('a BOM, invalid UTF-8 and CRLF lines', async () => {
    const path = join(dir, 'odd.jsonl');
    const good = raw(oa(['user', '\u00e9t\u00e9'], ['assistant', 'oui']));
    const bad = Buffer.concat([
      Buffer.from('{"messages":[{"role":"user","content":"a'),
      Buffer.from([0xff, 0xfe]), // not UTF-8: the text reads U+FFFD twice
      Buffer.from('"},{"role":"assistant","content":"b"}]}'),
    ]);
    writeFileSync(
      path,
      Buffer.concat([Buffer.from('\uFEFF' + good + '\r\n'), bad, Buffer.from('\n' + good + '\n')]),
    );
    const text = readFileSync(path, 'utf8');
    const r = await validateFile(path, { workers: 0 });
    // The text has lost the bad bytes (U+FFFD); the file reports them, and agrees on the rest.
    assert.deepEqual(
      r.diagnostics.filter((d) => d.code !== 'json/encoding'),
      validateText(text),
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.line, d.startCol, d.code]),
      [
        [1, 40, 'json/encoding'],
        [2, 0, 'duplicate/dialogue'],
      ],
    );
  });

  it('random records: the file and text paths agree', async () => {
    const rnd = mulberry32(7);
    const pieces = [
      'a',
      'b',
      ' ',
      '  ',
      '\n',
      '\t',
      '\u00a0',
      '\u00e9',
      '\u4e2d',
      '\ud83e\udd9c',
      '\u3000',
      '\u2019',
      '"',
      '\\',
      'x',
    ];
    const textOf = () =>
      Array.from(
        { length: 1 + Math.floor(rnd() * 12) },
        () => pieces[Math.floor(rnd() * pieces.length)],
      ).join('');
    const pool = Array.from({ length: 40 }, textOf);
    const pick = () => (rnd() < 0.5 ? pool[Math.floor(rnd() * pool.length)] : textOf());
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const roles = rnd() < 0.1 ? ['user', 'user'] : ['user', 'assistant'];
      const rec =
        rnd() < 0.2
          ? { id: pick(), ...oa([roles[0], pick()], [roles[1], pick()]) }
          : oa([roles[0], pick()], [roles[1], pick()]);
      lines.push(rnd() < 0.3 ? escaped(rec) : raw(rec));
    }
    const ds = await agree('random', lines);
    // Capped, the first diagnostics by position, the same both ways.
    assert.deepEqual(await agree('random-capped', lines, 50), ds.slice(0, 50));
    for (const code of ['duplicate/dialogue', 'content/empty', 'duplicate/id', 'role/alternation']) {
      assert.ok(
        ds.some((d) => d.code === code),
        `the random file has no ${code}`,
      );
    }
  });

  it('the built-in schemas constrain strings only in ways bytes and text agree on', () => {
    // Checking raw bytes relies on this: a string is empty as bytes exactly when it is empty as text,
    // and ASCII constants compare the same; maxLength, pattern or a non-ASCII enum would not.
    const seen = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (
            [
              'maxLength',
              'pattern',
              'patternProperties',
              'propertyNames',
              'format',
              'contentEncoding',
            ].includes(k)
          )
            seen.add(k);
          if (k === 'minLength' && x !== 1) seen.add(`minLength ${String(x)}`);
          if ((k === 'const' || k === 'enum') && /[^ -~]/.test(JSON.stringify(x))) seen.add(`${k} non-ASCII`);
          walk(x);
        }
      }
    };
    const files = readdirSync(SCHEMAS).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 9);
    for (const f of files) walk(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')));
    assert.deepEqual([...seen], []);
  });
});
