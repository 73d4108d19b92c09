import * as assert from 'node:assert/strict';
import {
  chmod,
  readFile,
  readdir,
  rm,
  stat,
  writeFile,
  appendFile,
  open as openFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetStore, type StoreBackup, type StoreEdit } from '../../../src/core/store';
import { RefModel, datasetsDir, tempDir } from './util';

describe('store: DatasetStore', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const open: DatasetStore[] = [];

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await cleanup();
  });

  async function fileWith(name: string, content: Buffer | string): Promise<string> {
    const p = join(dir, name);
    await writeFile(p, content);
    return p;
  }
  async function openIndexed(p: string, chunkSize?: number): Promise<DatasetStore> {
    const s = await DatasetStore.open(p, chunkSize ? { chunkSize } : {});
    open.push(s);
    await s.indexed;
    return s;
  }
  async function all(s: DatasetStore): Promise<string[]> {
    return s.readLines(0, s.lineCount);
  }

  it('reads LF lines, blank lines included', async () => {
    const s = await openIndexed(await fileWith('a.jsonl', '{"a":1}\n\n\n{"b":2}\n'));
    assert.equal(s.lineCount, 4);
    assert.deepEqual(await all(s), ['{"a":1}', '', '', '{"b":2}']);
    assert.equal(await s.readLine(3), '{"b":2}');
    assert.equal(s.dominantEol, 'lf');
    assert.equal(s.lineInfo(0).eol, 'lf');
    assert.equal(s.lineInfo(0).byteLength, 7);
    assert.equal(s.isDirty, false);
  });

  it('reads CRLF lines without the CR and saves them unchanged', async () => {
    const p = await fileWith('a.jsonl', 'one\r\ntwo\r\n');
    const s = await openIndexed(p);
    assert.deepEqual(await all(s), ['one', 'two']);
    assert.equal(s.dominantEol, 'crlf');
    s.apply({ kind: 'insert', index: 1, texts: ['mid'] });
    await s.save();
    assert.equal(await readFile(p, 'utf8'), 'one\r\nmid\r\ntwo\r\n');
  });

  it('keeps each line ending in a mixed file and uses the dominant one for new lines', async () => {
    const p = await fileWith('m.jsonl', 'a\r\nb\nc\r\nd\r\n');
    const s = await openIndexed(p);
    assert.equal(s.dominantEol, 'crlf');
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => s.lineInfo(i).eol),
      ['crlf', 'lf', 'crlf', 'crlf'],
    );
    s.apply({ kind: 'replace', index: 2, texts: ['C'] });
    assert.equal(s.lineInfo(2).edited, true);
    await s.save();
    assert.equal(await readFile(p, 'latin1'), 'a\r\nb\nC\r\nd\r\n');
  });

  it('marks as edited a line that undo brings back from before a save (it is no longer on disk)', async () => {
    const p = await fileWith('u.jsonl', 'a\nb\n');
    const s = await openIndexed(p);
    const inverse = s.apply({ kind: 'replace', index: 1, texts: ['B'] });
    await s.save();
    assert.deepEqual([s.lineInfo(0).edited, s.lineInfo(1).edited], [false, false], 'saved: both on disk');
    s.apply(inverse);
    assert.equal(await s.readLine(1), 'b');
    assert.equal(s.lineInfo(1).edited, true, 'the old "b" is not what the file holds');
    assert.equal(s.lineInfo(0).edited, false);
  });

  it('strips a UTF-8 BOM from line 0 and keeps it on save', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const p = await fileWith('b.jsonl', Buffer.concat([bom, Buffer.from('{"x":"é"}\nz\n')]));
    const s = await openIndexed(p);
    assert.equal(s.hasBom, true);
    assert.equal(await s.readLine(0), '{"x":"é"}');
    s.apply({ kind: 'replace', index: 0, texts: ['first'] });
    await s.save();
    assert.deepEqual(await readFile(p), Buffer.concat([bom, Buffer.from('first\nz\n')]));
    assert.equal(await s.readLine(0), 'first');
  });

  it('keeps a last line without newline, and gives it one when it is no longer last', async () => {
    const p = await fileWith('n.jsonl', 'a\nb');
    const s = await openIndexed(p);
    assert.equal(s.lineCount, 2);
    assert.equal(s.lineInfo(1).eol, 'none');
    await s.save();
    assert.equal(await readFile(p, 'utf8'), 'a\nb');
    s.apply({ kind: 'insert', index: 2, texts: ['c'] });
    assert.equal(s.lineInfo(1).eol, 'lf');
    assert.equal(s.lineInfo(2).eol, 'none');
    await s.save();
    assert.equal(await readFile(p, 'utf8'), 'a\nb\nc');
    s.apply({ kind: 'replace', index: 2, texts: ['C'] });
    await s.save();
    assert.equal(await readFile(p, 'utf8'), 'a\nb\nC');
  });

  it('handles an empty file and a file that is one newline', async () => {
    const e = await openIndexed(await fileWith('e.jsonl', ''));
    assert.equal(e.lineCount, 0);
    e.apply({ kind: 'insert', index: 0, texts: ['x'] });
    await e.save();
    assert.equal(await readFile(e.path, 'utf8'), 'x\n');
    const n = await openIndexed(await fileWith('nl.jsonl', '\n'));
    assert.deepEqual(await all(n), ['']);
  });

  it('reports invalid UTF-8 per line and saves untouched lines byte for byte', async () => {
    const bytes = Buffer.concat([
      Buffer.from('ok\n'),
      Buffer.from([0x61, 0xff, 0x62, 0x0a]),
      Buffer.from([0x63, 0x61, 0x66, 0xc3, 0x0d, 0x0a]),
      Buffer.from('fine é\n'),
    ]);
    const p = await fileWith('bad.jsonl', bytes);
    // Tiny chunks put chunk boundaries inside lines and inside UTF-8 sequences.
    for (const chunkSize of [8, 9, 11, 1 << 20]) {
      const s = await openIndexed(p, chunkSize);
      assert.deepEqual(
        [0, 1, 2, 3].map((i) => s.lineInfo(i).invalidUtf8),
        [false, true, true, false],
        `chunk size ${chunkSize}`,
      );
      assert.equal(await s.readLine(1), 'a\ufffdb');
      assert.equal(await s.readLine(3), 'fine é');
    }
    const s = await openIndexed(p);
    s.apply({ kind: 'replace', index: 0, texts: ['OK'] });
    await s.save();
    assert.deepEqual(await readFile(p), Buffer.concat([Buffer.from('OK'), bytes.subarray(2)]));
  });

  it('reads and saves a 50+ MB single line without corrupting it', async function () {
    this.timeout(120000);
    const big = Buffer.alloc(52 * 1024 * 1024, 'x');
    big.write('{"start":"é', 0, 'utf8');
    big.write('end"}', big.length - 5, 'latin1');
    const p = join(dir, 'big.jsonl');
    const fh = await openFile(p, 'w');
    await fh.write(Buffer.from('small\n'));
    await fh.write(big);
    await fh.write(Buffer.from('\ntail'));
    await fh.close();
    const s = await openIndexed(p);
    assert.equal(s.lineCount, 3);
    assert.equal(s.lineInfo(1).byteLength, big.length);
    const line = await s.readLine(1);
    assert.equal(Buffer.byteLength(line), big.length);
    assert.ok(line.startsWith('{"start":"é') && line.endsWith('end"}'));
    s.apply({ kind: 'replace', index: 2, texts: ['TAIL'] });
    await s.save();
    const st = await stat(p);
    assert.equal(st.size, 6 + big.length + 1 + 4);
    const check = await openFile(p, 'r');
    const head = Buffer.alloc(32);
    await check.read(head, 0, 32, 6);
    const tail = Buffer.alloc(10);
    await check.read(tail, 0, 10, st.size - 10);
    await check.close();
    assert.deepEqual(head, big.subarray(0, 32));
    assert.equal(tail.toString('utf8'), 'end"}\nTAIL');
  });

  it('serves the first lines while indexing is still running', async function () {
    this.timeout(60000);
    const lines = Array.from({ length: 200000 }, (_, i) => JSON.stringify({ i, text: 'x'.repeat(i % 90) }));
    const p = await fileWith('many.jsonl', lines.join('\n') + '\n');
    const seen: number[] = [];
    const s = await DatasetStore.open(p, { chunkSize: 64 * 1024, onProgress: (pr) => seen.push(pr.lines) });
    open.push(s);
    assert.equal(s.isIndexing, true);
    const first = await s.readLines(0, 3);
    const stillIndexing = s.isIndexing;
    const knownThen = s.lineCount;
    assert.deepEqual(first, lines.slice(0, 3));
    assert.ok(stillIndexing, 'the first lines were readable before indexing finished');
    assert.ok(knownThen < lines.length);
    // Reading a line not indexed yet waits for it.
    assert.equal(await s.readLine(150000), lines[150000]);
    await s.indexed;
    assert.equal(s.isIndexing, false);
    assert.equal(s.lineCount, lines.length);
    assert.ok(seen.length > 2 && seen[seen.length - 1] === lines.length);
  });

  it('refuses edits at the not-yet-indexed end, and can be cancelled', async () => {
    const p = await fileWith('c.jsonl', 'x\n'.repeat(100000));
    const ctl = new AbortController();
    const s = await DatasetStore.open(p, { chunkSize: 4096, signal: ctl.signal });
    open.push(s);
    assert.throws(() => s.apply({ kind: 'insert', index: s.lineCount, texts: ['y'] }), /still being indexed/);
    ctl.abort();
    await assert.rejects(s.indexed, /cancelled/);
    assert.equal(s.isIndexing, false);
    assert.ok(s.lineCount < 100000);
  });

  it('tracks version and dirtiness', async () => {
    const s = await openIndexed(await fileWith('v.jsonl', 'a\nb\n'));
    assert.equal(s.version, 0);
    const inv = s.apply({ kind: 'delete', index: 0, count: 1 });
    assert.equal(s.isDirty, true);
    assert.equal(s.version, 1);
    s.markSaved();
    assert.equal(s.isDirty, false);
    s.apply(inv);
    assert.equal(s.isDirty, true);
    assert.deepEqual(await all(s), ['a', 'b']);
  });

  it('rejects bad edits with clear messages', async () => {
    const s = await openIndexed(await fileWith('x.jsonl', 'a\nb\n'));
    assert.throws(() => s.apply({ kind: 'replace', index: 0, texts: ['a\nb'] }), /line break/);
    assert.throws(() => s.apply({ kind: 'delete', index: 1, count: 5 }), /outside the document/);
    assert.throws(() => s.apply({ kind: 'move', from: 0, count: 1, to: 2 }), /outside/);
    await assert.rejects(s.readLine(7), /does not exist/);
    assert.equal(s.version, 0);
  });

  it('opens and saves every shared dataset byte for byte', async () => {
    const names = (await readdir(datasetsDir())).filter((n) => n.endsWith('.jsonl'));
    assert.ok(names.length >= 5, 'datasets are present');
    for (const name of names) {
      const original = await readFile(join(datasetsDir(), name));
      const p = await fileWith(name, original);
      const s = await openIndexed(p);
      assert.equal(
        s.lineCount,
        original.toString('latin1').split('\n').length - (original.at(-1) === 10 ? 1 : 0),
      );
      JSON.parse(await s.readLine(s.lineCount - 1));
      await s.save();
      assert.deepEqual(await readFile(p), original, name);
    }
  });

  it('keeps the file mode on save', async () => {
    const p = await fileWith('mode.jsonl', 'a\n');
    for (const mode of [0o640, 0o755]) {
      await chmod(p, mode);
      const s = await openIndexed(p);
      s.apply({ kind: 'insert', index: 0, texts: ['z'] });
      await s.save();
      assert.equal((await stat(p)).mode & 0o777, mode);
    }
  });

  it('saves edits near the end of a big file from a copy of its unchanged start', async function () {
    this.timeout(60000);
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const lines = Array.from({ length: 60000 }, (_, i) => `{"i":${i},"t":"${'é'.repeat(i % 80)}"}`);
    const body = lines.map((l, i) => l + (i % 7 === 0 ? '\r\n' : '\n')).join('');
    const original = Buffer.concat([bom, Buffer.from(body.slice(0, -1), 'utf8')]); // no final newline
    const ref = RefModel.parse(original);
    const p = await fileWith('seed.jsonl', original);
    const s = await openIndexed(p);
    const n = s.lineCount;
    const steps: [StoreEdit, () => void][] = [
      [{ kind: 'replace', index: n - 1, texts: ['last'] }, () => ref.replace(n - 1, ['last'])],
      [{ kind: 'insert', index: n, texts: ['added'] }, () => ref.insert(n, ['added'])],
      [{ kind: 'delete', index: n - 3, count: 2 }, () => ref.delete(n - 3, 2)],
      [{ kind: 'insert', index: 40000, texts: ['mid'] }, () => ref.insert(40000, ['mid'])],
    ];
    const undo: StoreEdit[] = [];
    for (const [edit, mirror] of steps) {
      undo.push(s.apply(edit));
      mirror();
      await s.save();
      const saved = await readFile(p);
      assert.deepEqual(saved, ref.serialize(), JSON.stringify(edit));
      ref.rebase(saved);
    }
    for (const inv of undo.reverse()) s.apply(inv);
    await s.save();
    assert.deepEqual(await readFile(p), original);
    const fresh = await openIndexed(p);
    assert.equal(s.lineCount, fresh.lineCount);
    for (const i of [0, 1, 30000, n - 2, n - 1]) assert.deepEqual(s.lineInfo(i), fresh.lineInfo(i));
    assert.deepEqual(await readdir(dir), ['seed.jsonl']);
  });

  it('copies long untouched runs chunk by chunk to the right places', async function () {
    // Runs of 4 MiB or more are copied by several reads and writes in flight: every line is unique,
    // so a chunk written to the wrong place, twice or not at all shows in the comparison.
    this.timeout(60000);
    const lines = Array.from({ length: 200000 }, (_, i) => `{"n":${i},"t":"${'abcdé'.repeat(i % 23)}"}`);
    const original = Buffer.from(lines.join('\n') + '\n', 'utf8');
    const ref = RefModel.parse(original);
    const p = await fileWith('long.jsonl', original);
    const s = await openIndexed(p);
    const steps: [StoreEdit, () => void][] = [
      [{ kind: 'replace', index: 3, texts: ['first'] }, () => ref.replace(3, ['first'])],
      [{ kind: 'delete', index: 90000, count: 5 }, () => ref.delete(90000, 5)],
      [{ kind: 'insert', index: 150000, texts: ['x', 'y'] }, () => ref.insert(150000, ['x', 'y'])],
    ];
    for (const [edit, mirror] of steps) {
      s.apply(edit);
      mirror();
    }
    const reported: number[] = [];
    await s.save({ onProgress: (pr) => reported.push(pr.bytes) });
    const saved = await readFile(p);
    assert.deepEqual(saved, ref.serialize());
    // Chunks finish in any order; the progress reported still only grows, up to the whole file.
    assert.ok(reported.length > 2);
    assert.ok(
      reported.every((b, i) => i === 0 || b >= reported[i - 1]),
      reported.join(' '),
    );
    assert.ok(
      reported.at(-1)! >= saved.length - 1024 * 1024,
      `progress reached ${reported.at(-1)} of ${saved.length}`,
    );
  });

  it('fails a save into a missing folder clearly and leaves no temp file', async () => {
    const p = await fileWith('o.jsonl', 'a\n');
    const s = await openIndexed(p);
    s.apply({ kind: 'replace', index: 0, texts: ['b'] });
    await assert.rejects(
      s.saveAs(join(dir, 'missing', 'o.jsonl')),
      /Could not save .*: the folder .* does not exist\. No file was written\./,
    );
    await writeFile(join(dir, 'afile'), 'x');
    await assert.rejects(s.saveAs(join(dir, 'afile', 'o.jsonl')), /is not a folder/);
    await assert.rejects(s.saveAs(dir), /is a folder/);
    assert.equal(await readFile(p, 'utf8'), 'a\n');
    assert.deepEqual((await readdir(dir)).sort(), ['afile', 'o.jsonl']);
    assert.equal(s.isDirty, true);
    assert.equal(await s.readLine(0), 'b');
  });

  it('leaves the original intact when a save is cancelled midway', async function () {
    this.timeout(60000);
    const content = Buffer.alloc(40 * 1024 * 1024, `${'y'.repeat(99)}\n`);
    const p = await fileWith('big.jsonl', content);
    const s = await openIndexed(p);
    s.apply({ kind: 'replace', index: 0, texts: ['changed'] });
    const ctl = new AbortController();
    await assert.rejects(s.save({ signal: ctl.signal, onProgress: () => ctl.abort() }), /cancelled/);
    assert.deepEqual(await readFile(p), content);
    assert.deepEqual(await readdir(dir), ['big.jsonl']);
    await s.save();
    assert.equal((await readFile(p, 'latin1')).slice(0, 10), 'changed\nyy');
  });

  it('fails a save clearly when the folder is gone', async () => {
    const sub = join(dir, 'sub');
    await (await import('node:fs/promises')).mkdir(sub);
    const p = join(sub, 'g.jsonl');
    await writeFile(p, 'a\n');
    const s = await openIndexed(p);
    s.apply({ kind: 'insert', index: 0, texts: ['b'] });
    await rm(sub, { recursive: true });
    await assert.rejects(s.save(), /deleted since it was opened: the folder .* does not exist/);
  });

  it('saves as another file and re-bases on it', async () => {
    const p = await fileWith('src.jsonl', 'a\nb\n');
    const s = await openIndexed(p);
    const inv = s.apply({ kind: 'delete', index: 0, count: 1 });
    const target = join(dir, 'dst.jsonl');
    await s.saveAs(target);
    assert.equal(s.path, target);
    assert.equal(await readFile(target, 'utf8'), 'b\n');
    assert.equal(await readFile(p, 'utf8'), 'a\nb\n');
    assert.equal(s.isDirty, false);
    // The inverse refers to lines of the old file, which stays readable: undo works after saveAs.
    s.apply(inv);
    assert.deepEqual(await all(s), ['a', 'b']);
    await s.save();
    assert.equal(await readFile(target, 'utf8'), 'a\nb\n');
    assert.equal(await readFile(p, 'utf8'), 'a\nb\n');
  });

  it('undoes deletes, replaces and moves across saves, byte for byte', async () => {
    const original = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('one\r\n'),
      Buffer.from([0x62, 0xff, 0x0a]), // invalid UTF-8, LF in a CRLF file
      Buffer.from('three\r\nfour'),
    ]);
    const p = await fileWith('u.jsonl', original);
    const s = await openIndexed(p);
    const undo: ReturnType<DatasetStore['apply']>[] = [];
    undo.push(s.apply({ kind: 'delete', index: 1, count: 1 }));
    await s.save();
    undo.push(s.apply({ kind: 'replace', index: 0, texts: ['ONE'] }));
    undo.push(s.apply({ kind: 'insert', index: 3, texts: ['five'] }));
    await s.save();
    assert.equal((await readFile(p)).subarray(3).toString('latin1'), 'ONE\r\nthree\r\nfour\r\nfive');
    undo.push(s.apply({ kind: 'move', from: 0, count: 1, to: 3 }));
    await s.save();
    assert.equal(s.retiredBaseIds.length, 3);
    for (const inv of undo.reverse()) s.apply(inv);
    assert.equal(s.lineInfo(1).invalidUtf8, true);
    assert.equal(s.lineInfo(3).eol, 'none');
    await s.save();
    assert.deepEqual(await readFile(p), original);
    // A fresh index of the file agrees with the re-based one.
    const fresh = await openIndexed(p);
    for (let i = 0; i < fresh.lineCount; i++) assert.deepEqual(s.lineInfo(i), fresh.lineInfo(i));
  });

  it('backs up lines of an earlier version after an undo across a save and restores them', async () => {
    const original = Buffer.concat([
      Buffer.from('a\n'),
      Buffer.from([0xc3, 0x28, 0x0a]),
      Buffer.from('c\r\nd'),
    ]);
    const p = await fileWith('bk.jsonl', original);
    const s = await openIndexed(p);
    const inv1 = s.apply({ kind: 'delete', index: 1, count: 3 });
    const inv2 = s.apply({ kind: 'insert', index: 1, texts: ['new'] });
    await s.save();
    assert.equal(await readFile(p, 'utf8'), 'a\nnew'); // the file ends without a newline
    s.apply(inv2);
    s.apply(inv1);
    const backup = JSON.parse(JSON.stringify(s.backup())) as StoreBackup;
    assert.equal(backup.version, 2);
    const embedded = backup.segments.filter((g) => g.kind === 'embedded');
    assert.equal(embedded.length, 1);
    assert.equal(embedded[0].kind === 'embedded' && embedded[0].encoding, 'base64');
    await s.close();
    // A restart: the earlier version is gone, the backup alone brings the lines back.
    const r = await DatasetStore.restore(p, backup);
    open.push(r);
    assert.equal(r.isDirty, true);
    assert.deepEqual(await all(r), ['a', '\ufffd(', 'c', 'd']);
    assert.equal(r.lineInfo(1).invalidUtf8, true);
    assert.equal(r.lineInfo(3).eol, 'none');
    await r.save();
    assert.deepEqual(await readFile(p), original);
  });

  it('keeps a line without newline of its own last again after an undo, also from a backup', async () => {
    const p = await fileWith('nl.jsonl', 'a\nb');
    const s = await openIndexed(p);
    const inv = s.apply({ kind: 'insert', index: 2, texts: ['c'] });
    await s.save();
    assert.equal(await readFile(p, 'utf8'), 'a\nb\nc');
    s.apply(inv);
    assert.equal(s.lineInfo(1).eol, 'none');
    const backup = JSON.parse(JSON.stringify(s.backup())) as StoreBackup;
    assert.deepEqual(backup.eolAdded, [1]);
    const r = await DatasetStore.restore(p, backup);
    open.push(r);
    await r.saveAs(join(dir, 'copy.jsonl'), { rebase: false });
    assert.equal(await readFile(join(dir, 'copy.jsonl'), 'utf8'), 'a\nb');
    await s.save();
    assert.equal(await readFile(p, 'utf8'), 'a\nb');
  });

  it('refuses malformed edits with their reason, naming lines: ranges, segments, texts, closed store', async () => {
    const p = await fileWith('bad-edits.jsonl', 'a\nb\nc\n');
    const s = await DatasetStore.open(p);
    await s.indexed;
    const id = s.baseId;
    assert.throws(
      () => s.apply({ kind: 'delete', index: 3, count: 1 }),
      /lines 3\.\.3 are outside the document \(3 lines\)/,
    );
    await assert.rejects(s.readLine(3), /Line 3 does not exist \(the document has 3 lines\)/);
    const splice = (insert: unknown) =>
      s.apply({ kind: 'splice', index: 0, deleteCount: 0, insert } as never);
    assert.throws(
      () => splice([{ kind: 'original', base: id, start: 2, count: 2 }]),
      /segment 0 refers to original lines that do not exist/,
    );
    assert.throws(
      () => splice([{ kind: 'original', base: 'gone', start: 0, count: 1 }]),
      /refers to lines of an earlier version .* no longer kept/,
    );
    assert.throws(() => splice([{ kind: 'text', texts: ['x\ny'] }]), /text 0 contains a line break/);
    const inverse = splice([{ kind: 'original', base: id, start: 2, count: 1 }]);
    assert.equal(await s.readLine(0), 'c');
    s.apply(inverse);
    assert.equal(s.lineCount, 3);
    await s.close();
    assert.throws(() => s.apply({ kind: 'delete', index: 0, count: 1 }), /is closed/);
  });

  it('releases earlier versions on request and beyond the limit, then refuses edits that need them', async () => {
    const p = await fileWith('rel.jsonl', 'a\nb\nc\n');
    const s = await DatasetStore.open(p, { maxRetiredBases: 2 });
    open.push(s);
    await s.indexed;
    const invs: StoreEdit[] = [];
    for (let k = 0; k < 3; k++) {
      invs.push(s.apply({ kind: 'replace', index: k, texts: [`x${k}`] }));
      await s.save();
    }
    assert.equal(s.retiredBaseIds.length, 2);
    // The oldest version was released: its inverse is refused with a clear message.
    assert.throws(() => s.apply(invs[0]), /earlier version .* no longer kept/);
    s.apply(invs[2]);
    assert.equal(await s.readLine(2), 'c');
    // Versions the document shows lines of are kept.
    assert.equal(await s.releaseRetiredBases(), 1);
    assert.equal(s.retiredBaseIds.length, 1);
    assert.equal(await s.readLine(2), 'c');
    assert.throws(() => s.apply(invs[1]), /no longer kept/);
    await s.save();
    assert.equal(await readFile(p, 'utf8'), 'x0\nx1\nc\n');
    assert.equal(s.retiredBaseIds.length, 2); // the one shown before, and the one just replaced
    assert.equal(await s.releaseRetiredBases(), 2);
    assert.deepEqual(s.retiredBaseIds, []);
  });

  it('refuses to save lines of an earlier version that another program changed', async () => {
    const p = await fileWith('chg.jsonl', 'a\nb\n');
    const s = await openIndexed(p);
    const inv = s.apply({ kind: 'delete', index: 0, count: 1 });
    const target = join(dir, 'other.jsonl');
    await s.saveAs(target);
    s.apply(inv);
    await writeFile(p, 'A\nB\nC\n'); // rewritten in place: the earlier version's bytes are gone
    await assert.rejects(s.save(), /earlier version .* was changed on disk by another program/);
    assert.equal(await readFile(target, 'utf8'), 'b\n');
  });

  it('saves a copy without moving onto it', async () => {
    const p = await fileWith('src.jsonl', 'a\nb\n');
    const s = await openIndexed(p);
    const inv = s.apply({ kind: 'delete', index: 0, count: 1 });
    const target = join(dir, 'copy.jsonl');
    await s.saveAs(target, { rebase: false });
    assert.equal(await readFile(target, 'utf8'), 'b\n');
    assert.equal(s.path, p);
    assert.equal(s.isDirty, true);
    s.apply(inv);
    assert.deepEqual(await all(s), ['a', 'b']);
  });

  it('backs up the overlay as JSON and restores it; refuses a changed file', async () => {
    const p = await fileWith('h.jsonl', 'a\r\nb\r\nc\r\n');
    const s = await openIndexed(p);
    s.apply({ kind: 'move', from: 2, count: 1, to: 0 });
    s.apply({ kind: 'replace', index: 1, texts: ['A'] });
    s.apply({ kind: 'delete', index: 2, count: 1 });
    const backup = JSON.parse(JSON.stringify(s.backup())) as StoreBackup;
    assert.ok(JSON.stringify(backup).length < 1000, 'the backup is the overlay, not a copy');
    const r = await DatasetStore.restore(p, backup);
    open.push(r);
    assert.equal(r.isDirty, true);
    assert.deepEqual(await all(r), ['c', 'A']);
    const out = join(dir, 'restored.jsonl');
    await r.saveAs(out);
    assert.equal(await readFile(out, 'latin1'), 'c\r\nA\r\n');
    await appendFile(p, 'd\r\n');
    await assert.rejects(
      DatasetStore.restore(p, backup),
      /changed after the backup was made .*size is 12 bytes instead of 9/,
    );
    await assert.rejects(
      DatasetStore.restore(p, { format: 'nope' } as unknown as StoreBackup),
      /not a Parrot Studio store backup/,
    );
  });

  it('backs up edits made while indexing and restores them over the whole file', async () => {
    const lines = Array.from({ length: 50000 }, (_, i) => `{"n":${i}}`);
    const p = await fileWith('early.jsonl', lines.join('\n') + '\n');
    const s = await DatasetStore.open(p, { chunkSize: 4096 });
    open.push(s);
    await s.readLine(10);
    assert.equal(s.isIndexing, true);
    s.apply({ kind: 'replace', index: 1, texts: ['{"n":"one"}'] });
    const backup = JSON.parse(JSON.stringify(s.backup())) as StoreBackup;
    assert.equal(typeof backup.tailFrom, 'number');
    await s.indexed;
    const r = await DatasetStore.restore(p, backup);
    open.push(r);
    assert.equal(r.lineCount, lines.length);
    assert.deepEqual(await r.readLines(0, 3), ['{"n":0}', '{"n":"one"}', '{"n":2}']);
    assert.equal(await r.readLine(lines.length - 1), lines[lines.length - 1]);
  });

  it('detects external changes and reloads', async () => {
    const p = await fileWith('r.jsonl', 'a\n');
    const s = await openIndexed(p);
    assert.equal(await s.hasChangedOnDisk(), false);
    const fp = await s.fingerprint();
    assert.equal(fp.size, 2);
    s.apply({ kind: 'insert', index: 0, texts: ['mine'] });
    await appendFile(p, 'b\n');
    assert.equal(await s.hasChangedOnDisk(), true);
    await assert.rejects(s.save(), /another program added 2 bytes to its end since it was opened/);
    await s.reload();
    await s.indexed;
    assert.equal(s.isDirty, false);
    assert.deepEqual(await all(s), ['a', 'b']);
    assert.equal(await s.hasChangedOnDisk(), false);
  });
});
