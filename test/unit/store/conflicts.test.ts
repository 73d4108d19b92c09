// Saving over a file that another program changed, links, permissions, ownership and the temporary
// files of killed saves. Every fault is made for real on real temp files.
import * as assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import {
  appendFile,
  chmod,
  chown,
  link,
  lstat,
  mkdir,
  open as openFile,
  readFile,
  readdir,
  rename,
  stat,
  symlink,
  truncate,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetStore, removeStaleTempFiles } from '../../../src/core/store';
import { tempDir } from './util';

/** The reason of a refused save (read without importing the error class). */
function refusedFor(reason: string, message?: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof Error, 'an Error');
    assert.equal((err as { reason?: string }).reason, reason, err.message);
    if (message) assert.match(err.message, message);
    return true;
  };
}

const LINES = Array.from({ length: 12 }, (_, i) => `{"id":${i},"text":"line number ${i}"}`);
const ORIGINAL = LINES.join('\n') + '\n';
/** The document after the edit each test makes: line 1 replaced. */
const MINE = [LINES[0], '{"id":1,"text":"mine"}', ...LINES.slice(2)].join('\n') + '\n';
const THEIRS = '{"id":0,"text":"their version"}\n';

describe('store: saving over a file another program changed', () => {
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

  async function edited(p: string): Promise<DatasetStore> {
    const s = await DatasetStore.open(p);
    open.push(s);
    await s.indexed;
    s.apply({ kind: 'replace', index: 1, texts: ['{"id":1,"text":"mine"}'] });
    return s;
  }

  async function original(name = 'd.jsonl', content = ORIGINAL): Promise<string> {
    const p = join(dir, name);
    await writeFile(p, content);
    return p;
  }

  /** Overwrites bytes at `pos` in place (same inode, same size unless it writes past the end). */
  async function writeInPlace(p: string, pos: number, bytes: string): Promise<void> {
    const fh = await openFile(p, 'r+');
    try {
      await fh.write(Buffer.from(bytes), 0, Buffer.byteLength(bytes), pos);
    } finally {
      await fh.close();
    }
  }

  /** A same-size rewrite that moves a newline: two lines become two others of the same total length. */
  function movedNewline(text: string): string {
    const a = text.indexOf('\n');
    return text.slice(0, a - 3) + '\n' + text.slice(a - 3, a) + text.slice(a + 1);
  }

  const faults: Array<{
    name: string;
    make: (p: string) => Promise<string>;
    reason: string;
    message: RegExp;
    saveAs: 'whole' | 'refused';
    gone?: boolean;
  }> = [
    {
      name: 'moved away (deleted)',
      make: async (p) => {
        await rename(p, p + '.moved');
        return '';
      },
      reason: 'deleted',
      message: /it was deleted or moved away since it was opened/,
      saveAs: 'whole',
      gone: true,
    },
    {
      name: 'replaced by rename',
      make: async (p) => {
        await writeFile(p + '.new', THEIRS);
        await rename(p + '.new', p);
        return THEIRS;
      },
      reason: 'replaced',
      message: /another program replaced it/,
      saveAs: 'whole',
    },
    {
      name: 'deleted and re-created',
      make: async (p) => {
        await unlink(p);
        await writeFile(p, THEIRS);
        return THEIRS;
      },
      reason: 'replaced',
      message: /another program replaced it/,
      saveAs: 'whole',
    },
    {
      name: 'appended to',
      make: async (p) => {
        await appendFile(p, THEIRS);
        return ORIGINAL + THEIRS;
      },
      reason: 'appended',
      message: new RegExp(`added ${THEIRS.length} bytes to its end`),
      saveAs: 'whole',
    },
    {
      name: 'truncated',
      make: async (p) => {
        await truncate(p, 100);
        return ORIGINAL.slice(0, 100);
      },
      reason: 'truncated',
      message: new RegExp(`shortened it from ${ORIGINAL.length} to 100 bytes`),
      saveAs: 'refused',
    },
    {
      name: 'rewritten in place at the same size (moved newline)',
      make: async (p) => {
        const theirs = movedNewline(ORIGINAL);
        assert.equal(theirs.length, ORIGINAL.length);
        await writeInPlace(p, 0, theirs);
        return theirs;
      },
      reason: 'rewritten',
      message: /changed its content in place/,
      saveAs: 'refused',
    },
  ];

  for (const f of faults) {
    it(`refuses to save over a file ${f.name}, keeps that version, and Save As writes my edits`, async () => {
      const p = await original();
      const s = await edited(p);
      const theirs = await f.make(p);
      assert.equal(await s.hasChangedOnDisk(), true);
      await assert.rejects(s.save(), refusedFor(f.reason, f.message));
      if (f.gone) await assert.rejects(stat(p), /ENOENT/, 'nothing is written at the path');
      else assert.equal(await readFile(p, 'utf8'), theirs, 'the other program’s version is kept');
      assert.equal(s.isDirty, true, 'the edits are kept');
      const copy = join(dir, 'copy.jsonl');
      if (f.saveAs === 'whole') {
        await s.saveAs(copy, { rebase: false });
        assert.equal(await readFile(copy, 'utf8'), MINE, 'Save As writes the opened version plus my edits');
        if (!f.gone) assert.equal(await readFile(p, 'utf8'), theirs);
      } else {
        await assert.rejects(
          s.saveAs(copy, { rebase: false }),
          refusedFor('unrecoverable', /overwritten them there since/),
        );
        await assert.rejects(stat(copy), /ENOENT/, 'no torn copy is written');
      }
      if (f.gone) return;
      // Reload takes the other program's version.
      await s.reload();
      await s.indexed;
      const want = (theirs.endsWith('\n') ? theirs.slice(0, -1) : theirs).split('\n');
      assert.deepEqual(await s.readLines(0, s.lineCount), want);
    });
  }

  it('saves over a file that was only touched (new times, same bytes)', async () => {
    const p = await original();
    const s = await edited(p);
    const later = new Date(Date.now() + 60_000);
    await utimes(p, later, later);
    assert.equal((await s.diskState()).change, 'touched');
    assert.equal(await s.hasChangedOnDisk(), false);
    await s.saveAs(join(dir, 'copy.jsonl'), { rebase: false });
    assert.equal(await readFile(join(dir, 'copy.jsonl'), 'utf8'), MINE);
    await s.save();
    assert.equal(await readFile(p, 'utf8'), MINE);
    // Touched again after a save (checked against the checksums read back after writing).
    s.apply({ kind: 'delete', index: 0, count: 1 });
    const later2 = new Date(Date.now() + 120_000);
    await utimes(p, later2, later2);
    await s.save();
    assert.equal(await readFile(p, 'utf8'), MINE.slice(MINE.indexOf('\n') + 1));
  });

  it('refuses a same-size rewrite after a save as well (the saved version is checked too)', async () => {
    const p = await original();
    const s = await edited(p);
    await s.save();
    s.apply({ kind: 'delete', index: 0, count: 1 });
    const theirs = movedNewline(MINE);
    await writeInPlace(p, 0, theirs);
    await assert.rejects(s.save(), refusedFor('rewritten'));
    assert.equal(await readFile(p, 'utf8'), theirs);
  });

  it('refuses to rename over a file that another program changed while the save was copying', async () => {
    const p = await original();
    const s = await edited(p);
    let changed = false;
    await assert.rejects(
      s.save({
        onProgress: () => {
          if (changed) return;
          changed = true;
          // Runs inside the save, after the check before writing.
          appendFileSync(p, THEIRS);
        },
      }),
      refusedFor('appended'),
    );
    assert.ok(changed, 'the change was made during the save');
    assert.equal(await readFile(p, 'utf8'), ORIGINAL + THEIRS);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.endsWith('.tmp')),
      [],
      'the temporary file is removed',
    );
  });

  it('refuses a same-size rewrite in the middle of a big file (outside its first and last 64 KiB)', async () => {
    const lines = Array.from({ length: 12_000 }, (_, i) => `{"id":${i},"text":"${'z'.repeat(200)}"}`);
    const text = lines.join('\n') + '\n';
    const p = await original('mid.jsonl', text);
    const s = await DatasetStore.open(p);
    open.push(s);
    await s.indexed;
    s.apply({ kind: 'replace', index: 0, texts: ['{"id":0,"text":"mine"}'] });
    // Move one newline by three bytes, 1 MiB into the file: two torn lines, same size.
    const at = text.indexOf('\n', 1024 * 1024);
    const theirs = movedNewline(text.slice(at - 100));
    await writeInPlace(p, at - 100, theirs.slice(0, 200));
    const now = await readFile(p, 'utf8');
    assert.equal(now.length, text.length);
    assert.notEqual(now, text);
    await assert.rejects(s.save(), refusedFor('rewritten'));
    assert.equal(await readFile(p, 'utf8'), now, 'their version is kept');
  });

  it('Save As after an in-place change writes every line it can still read, and names the others', async () => {
    // Three 1 MiB blocks and more; the other program shortens the file inside the last block.
    const line = (i: number) => `{"id":${i},"text":"${'x'.repeat(200)}"}`;
    const lines = Array.from({ length: 16_000 }, (_, i) => line(i));
    const text = lines.join('\n') + '\n';
    assert.ok(text.length > 3 * 1024 * 1024);
    const p = await original('big.jsonl', text);
    const s = await DatasetStore.open(p);
    open.push(s);
    await s.indexed;
    s.apply({ kind: 'replace', index: 0, texts: ['{"id":0,"text":"mine"}'] });
    await truncate(p, 3 * 1024 * 1024 + 500);
    await assert.rejects(s.save(), refusedFor('truncated'));
    const copy = join(dir, 'copy.jsonl');
    let lost: { first: number; last: number; count: number } | undefined;
    await assert.rejects(s.saveAs(copy, { rebase: false }), (err: unknown) => {
      refusedFor('unrecoverable', /lines \(from \d+ to \d+\) of the document/)(err);
      lost = (err as { lostLines?: typeof lost }).lostLines;
      return true;
    });
    assert.ok(lost, 'the lost lines are named');
    // Only lines at or after the block the truncation fell in are lost: those before are kept.
    let end = 0;
    const firstInBlock = lines.findIndex((l) => (end += l.length + 1) > 3 * 1024 * 1024);
    assert.equal(lost.first, firstInBlock);
    assert.equal(lost.last, lines.length - 1);
    assert.equal(lost.count, lines.length - lost.first);
    // Without those lines, the rest is written byte for byte from the opened version.
    s.apply({ kind: 'delete', index: lost.first, count: lost.count });
    await s.saveAs(copy, { rebase: false });
    const want = ['{"id":0,"text":"mine"}', ...lines.slice(1, lost.first)].join('\n') + '\n';
    assert.equal(await readFile(copy, 'utf8'), want);
  });

  it('an in-place rewrite loses to Save As only the records of the 64 KiB blocks it changed', async () => {
    const line = (i: number) => `{"id":${i},"text":"${'y'.repeat(100)}"}`;
    const lines = Array.from({ length: 8000 }, (_, i) => line(i));
    const text = lines.join('\n') + '\n';
    const p = await original('rewrite.jsonl', text);
    const s = await DatasetStore.open(p);
    open.push(s);
    await s.indexed;
    s.apply({ kind: 'replace', index: 0, texts: ['{"id":0,"text":"mine"}'] });
    assert.equal((await s.diskState()).change, 'none'); // the checksums of the opened version are ready
    // Another program moves one line break in the middle of the file, at the same size.
    const b = Buffer.from(text);
    const nl = b.indexOf(10, 400_000);
    b[nl] = 0x20;
    b[nl - 1] = 0x0a;
    await writeFile(p, b);
    let lost: { first: number; last: number; count: number } | undefined;
    await assert.rejects(s.saveAs(join(dir, 'rewrite-copy.jsonl'), { rebase: false }), (err: unknown) => {
      refusedFor('unrecoverable')(err);
      lost = (err as { lostLines?: typeof lost }).lostLines;
      return true;
    });
    assert.ok(lost);
    // The records that lie (even partly) in the changed 64 KiB block, and no others.
    const blockStart = Math.floor((nl - 1) / 65536) * 65536;
    const starts: number[] = [];
    let at = 0;
    for (const l of lines) {
      starts.push(at);
      at += l.length + 1;
    }
    const inBlock = lines
      .map((_l, i) => i)
      .filter((i) => starts[i] < blockStart + 65536 && starts[i] + lines[i].length + 1 > blockStart);
    assert.equal(lost.first, inBlock[0]);
    assert.equal(lost.last, inBlock[inBlock.length - 1]);
    assert.ok(lost.count < lines.length / 10, `${lost.count} of ${lines.length} records lost`);
  });

  it('Save As of a JSON array after another program shortened it in place writes its frame from memory', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => ({ id: i, text: 'z'.repeat(60) }));
    const text = JSON.stringify(items, null, 2) + '\n';
    const p = await original('array.json', text);
    const s = await DatasetStore.open(p);
    open.push(s);
    await s.indexed;
    s.apply({ kind: 'replace', index: 0, texts: [JSON.stringify({ id: 0, text: 'mine' })] });
    assert.equal((await s.diskState()).change, 'none');
    // The end of the array, `]` included, is cut off.
    await truncate(p, Math.floor(text.length * 0.7));
    await assert.rejects(s.save(), refusedFor('truncated'));
    const copy = join(dir, 'array-copy.json');
    let lost: { first: number; last: number; count: number } | undefined;
    await assert.rejects(s.saveAs(copy, { rebase: false }), (err: unknown) => {
      refusedFor('unrecoverable')(err);
      lost = (err as { lostLines?: typeof lost }).lostLines;
      return true;
    });
    assert.ok(lost && lost.last === items.length - 1);
    s.apply({ kind: 'delete', index: lost.first, count: lost.count });
    await s.saveAs(copy, { rebase: false });
    const want = [{ id: 0, text: 'mine' }, ...items.slice(1, lost.first)];
    const written = await readFile(copy, 'utf8');
    assert.deepEqual(JSON.parse(written), want);
    assert.ok(written.endsWith('\n]\n'), "the closing bytes are the opened version's");
  });
});

describe('store: links, permissions, ownership, temporary files', () => {
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

  async function edited(p: string): Promise<DatasetStore> {
    const s = await DatasetStore.open(p);
    open.push(s);
    await s.indexed;
    s.apply({ kind: 'replace', index: 1, texts: ['{"id":1,"text":"mine"}'] });
    return s;
  }

  it('saves through a symbolic link: the target gets the edit and the link stays a link', async () => {
    const sub = join(dir, 'sub');
    await mkdir(sub);
    const real = join(sub, 'real.jsonl');
    const viaLink = join(dir, 'link.jsonl');
    await writeFile(real, ORIGINAL);
    await symlink('sub/real.jsonl', viaLink);
    const s = await edited(viaLink);
    await s.save();
    assert.ok((await lstat(viaLink)).isSymbolicLink(), 'still a link');
    assert.equal(await readFile(real, 'utf8'), MINE);
    // And again (the store is now based on the new target file, still through the link).
    s.apply({ kind: 'delete', index: 0, count: 1 });
    await s.save();
    assert.ok((await lstat(viaLink)).isSymbolicLink());
    assert.equal(await readFile(real, 'utf8'), MINE.slice(MINE.indexOf('\n') + 1));
    assert.deepEqual((await readdir(dir)).sort(), ['link.jsonl', 'sub']);
    assert.deepEqual(await readdir(sub), ['real.jsonl'], 'no temporary file left in either folder');
  });

  it('refuses to save through a link that another program pointed at another file', async () => {
    await writeFile(join(dir, 'one.jsonl'), ORIGINAL);
    await writeFile(join(dir, 'two.jsonl'), THEIRS);
    const viaLink = join(dir, 'link.jsonl');
    await symlink('one.jsonl', viaLink);
    const s = await edited(viaLink);
    await unlink(viaLink);
    await symlink('two.jsonl', viaLink);
    await assert.rejects(s.save(), refusedFor('replaced'));
    assert.equal(await readFile(join(dir, 'one.jsonl'), 'utf8'), ORIGINAL);
    assert.equal(await readFile(join(dir, 'two.jsonl'), 'utf8'), THEIRS);
  });

  it('says so before breaking a hard link, and breaks it only when asked', async () => {
    const p = join(dir, 'a.jsonl');
    const other = join(dir, 'b.jsonl');
    await writeFile(p, ORIGINAL);
    await link(p, other);
    const s = await edited(p);
    await assert.rejects(s.save(), refusedFor('hardlink', /1 other name \(hard link\)/));
    assert.equal(await readFile(p, 'utf8'), ORIGINAL);
    assert.equal((await stat(p)).nlink, 2, 'the link is intact');
    await s.save({ breakHardLinks: true });
    assert.equal(await readFile(p, 'utf8'), MINE);
    assert.equal(await readFile(other, 'utf8'), ORIGINAL, 'the other name keeps the old content');
  });

  it('refuses to replace a read-only file and leaves it as it was', async () => {
    const p = join(dir, 'ro.jsonl');
    await writeFile(p, ORIGINAL);
    await chmod(p, 0o444);
    const before = await stat(p);
    const s = await edited(p);
    await assert.rejects(s.save(), refusedFor('readonly', /read-only \(mode 0444\)/));
    const after = await stat(p);
    assert.equal(after.ino, before.ino, 'not replaced');
    assert.equal(after.mode & 0o777, 0o444);
    assert.equal(await readFile(p, 'utf8'), ORIGINAL);
    await s.saveAs(join(dir, 'copy.jsonl'), { rebase: false });
    assert.equal(await readFile(join(dir, 'copy.jsonl'), 'utf8'), MINE);
  });

  it('keeps mode, owner and group (where the process may set them)', async function () {
    const p = join(dir, 'o.jsonl');
    await writeFile(p, ORIGINAL);
    await chmod(p, 0o640);
    const root = process.getuid?.() === 0;
    if (root) await chown(p, 1234, 5678);
    const before = await stat(p);
    const s = await edited(p);
    await s.save();
    const after = await stat(p);
    assert.notEqual(after.ino, before.ino, 'an atomic save writes a new file');
    assert.equal(after.mode & 0o7777, 0o640);
    assert.equal(after.uid, before.uid);
    assert.equal(after.gid, before.gid);
    if (!root) this.skip(); // as an ordinary user the owner is ours anyway
  });

  it('names the temporary file of a killed save recognisably and removes it once stale', async function () {
    this.timeout(60_000);
    const p = join(dir, 'k.jsonl');
    const big =
      Array.from({ length: 40_000 }, (_, i) => `{"id":${i},"text":"${'y'.repeat(500)}"}`).join('\n') + '\n';
    await writeFile(p, big);
    const child = fork(join(__dirname, 'killedSave.js'), [p], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const said = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the child did not start writing')), 30_000);
      child.on('message', (m) => {
        clearTimeout(timer);
        resolve(typeof m === 'string' ? m : JSON.stringify(m));
      });
    });
    assert.equal(said, 'writing');
    child.kill('SIGKILL');
    await exited;
    const pid = child.pid as number;
    const left = (await readdir(dir)).filter((n) => n !== 'k.jsonl');
    assert.equal(left.length, 1, `left behind: ${left.join(', ')}`);
    assert.match(left[0], new RegExp(`^\\.k\\.jsonl\\.parrot-save-${pid}-[0-9a-f]{12}\\.tmp$`));
    assert.equal(await readFile(p, 'utf8'), big, 'the original is whole');
    // Fresh: kept (a save on another machine sharing the folder could still be writing it).
    const s1 = await DatasetStore.open(p);
    assert.deepEqual(await s1.staleTempFilesRemoved, []);
    await s1.close();
    // Not written for ten minutes and its process gone: removed when the file is opened.
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(join(dir, left[0]), old, old);
    const s2 = await DatasetStore.open(p);
    open.push(s2);
    assert.deepEqual(await s2.staleTempFilesRemoved, [left[0]]);
    assert.deepEqual(await readdir(dir), ['k.jsonl']);
  });

  it('removes only its own stale temporary files', async () => {
    const p = join(dir, 'c.jsonl');
    await writeFile(p, ORIGINAL);
    const dead = 2 ** 22 + 7; // above Linux's pid_max default: no such process
    const hex = 'ab12cd34ef56';
    const files: Record<string, { ageMin: number; removed: boolean }> = {
      [`.c.jsonl.parrot-save-${dead}-${hex}.tmp`]: { ageMin: 10, removed: true },
      [`.c.jsonl.parrot-save-${dead}-${hex.replace('a', 'b')}.tmp`]: { ageMin: 1, removed: false },
      [`.c.jsonl.parrot-save-${process.pid}-${hex}.tmp`]: { ageMin: 10, removed: false },
      [`.c.jsonl.parrot-save-${process.ppid}-${hex}.tmp`]: { ageMin: 10, removed: false },
      [`.c.jsonl.${hex}.tmp`]: { ageMin: 2 * 24 * 60, removed: true },
      [`.c.jsonl.${hex.replace('b', 'c')}.tmp`]: { ageMin: 10, removed: false },
      [`.other.jsonl.parrot-save-${dead}-${hex}.tmp`]: { ageMin: 10, removed: false },
      [`.c.jsonl.parrot-save-${dead}-${hex}.tmp.bak`]: { ageMin: 10, removed: false },
      [`c.jsonl.parrot-save-${dead}-${hex}.tmp`]: { ageMin: 10, removed: false },
    };
    for (const [name, f] of Object.entries(files)) {
      await writeFile(join(dir, name), 'partial');
      const t = new Date(Date.now() - f.ageMin * 60_000);
      await utimes(join(dir, name), t, t);
    }
    // A link with our name is not followed or removed.
    const linkName = `.c.jsonl.parrot-save-${dead}-${'0'.repeat(12)}.tmp`;
    await symlink('c.jsonl', join(dir, linkName));
    const removed = await removeStaleTempFiles(p);
    const want = Object.entries(files)
      .filter(([, f]) => f.removed)
      .map(([n]) => n)
      .sort();
    assert.deepEqual(removed.sort(), want);
    const present = new Set(await readdir(dir));
    for (const [name, f] of Object.entries(files)) assert.equal(present.has(name), !f.removed, name);
    assert.ok(present.has(linkName));
    assert.equal(await readFile(p, 'utf8'), ORIGINAL);
    // A save cleans up too.
    const name = `.c.jsonl.parrot-save-${dead}-${'f'.repeat(12)}.tmp`;
    await writeFile(join(dir, name), 'partial');
    const t = new Date(Date.now() - 10 * 60_000);
    await utimes(join(dir, name), t, t);
    const s = await edited(p);
    await s.save();
    assert.ok(!(await readdir(dir)).includes(name));
    assert.equal(await readFile(p, 'utf8'), MINE);
  });
});
