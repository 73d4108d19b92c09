import * as assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetStore, type StoreBackup, type StoreEdit } from '../../../src/core/store';
import { RefModel, Rng, randomLineBytes, randomText, tempDir } from './util';

/** Random files per test; PARROT_RANDOM_SEEDS=500 for a longer soak (every seed is replayable). */
const SEEDS = Number(process.env.PARROT_RANDOM_SEEDS ?? 40);

function randomFile(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  if (rng.chance(0.3)) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
  const n = rng.int(0, 40);
  const crlfBias = rng.next();
  for (let i = 0; i < n; i++) {
    parts.push(randomLineBytes(rng));
    const last = i === n - 1;
    if (last && rng.chance(0.4)) break; // no final newline
    parts.push(Buffer.from(rng.chance(crlfBias) ? '\r\n' : '\n'));
  }
  return Buffer.concat(parts);
}

function randomTexts(rng: Rng, n: number): string[] {
  return Array.from({ length: n }, () => randomText(rng));
}

/** A random edit valid for a document of `len` lines, applied to the reference model too. */
function randomEdit(rng: Rng, ref: RefModel): StoreEdit {
  const len = ref.lines.length;
  const kind = len === 0 ? 'insert' : rng.pick(['replace', 'insert', 'delete', 'move'] as const);
  switch (kind) {
    case 'replace': {
      const index = rng.int(0, len - 1);
      const texts = randomTexts(rng, rng.int(1, Math.min(4, len - index)));
      ref.replace(index, texts);
      return { kind, index, texts };
    }
    case 'insert': {
      const index = rng.int(0, len);
      const texts = randomTexts(rng, rng.int(1, 4));
      ref.insert(index, texts);
      return { kind, index, texts };
    }
    case 'delete': {
      const index = rng.int(0, len - 1);
      const count = rng.int(1, Math.min(5, len - index));
      ref.delete(index, count);
      return { kind, index, count };
    }
    case 'move': {
      const from = rng.int(0, len - 1);
      const count = rng.int(1, Math.min(5, len - from));
      const to = rng.int(0, len - count);
      ref.move(from, count, to);
      return { kind, from, count, to };
    }
  }
}

describe('store: randomized edits against a reference model', () => {
  it('matches the reference after edits, undo, redo, save, backup and restore', async function () {
    this.timeout(120000);
    const { dir, cleanup } = await tempDir();
    try {
      for (let seed = 1; seed <= SEEDS; seed++) {
        const rng = new Rng(seed);
        const original = randomFile(rng);
        const p = join(dir, `f${seed}.jsonl`);
        await writeFile(p, original);
        const ref = RefModel.parse(original);
        const originalTexts = ref.texts();
        const store = await DatasetStore.open(p, { chunkSize: rng.int(8, 64) });
        try {
          await store.indexed;
          const msg = `seed ${seed}`;
          assert.equal(store.hasBom, ref.hasBom, msg);
          assert.equal(store.dominantEol, ref.dominant, msg);
          assert.equal(store.lineCount, ref.lines.length, msg);
          ref.lines.forEach((l, i) => {
            const info = store.lineInfo(i);
            assert.equal(info.invalidUtf8, !isUtf8(l.bytes), `${msg} line ${i} utf8`);
            assert.equal(info.byteLength, l.bytes.length, `${msg} line ${i} length`);
          });

          // Edits, mirrored on the reference model.
          const inverses: StoreEdit[] = [];
          const steps = rng.int(1, 25);
          for (let k = 0; k < steps; k++) {
            const edit = randomEdit(rng, ref);
            // Edits travel as JSON (backups, other processes).
            inverses.push(
              JSON.parse(
                JSON.stringify(store.apply(JSON.parse(JSON.stringify(edit)) as StoreEdit)),
              ) as StoreEdit,
            );
            assert.equal(store.lineCount, ref.lines.length, `${msg} step ${k}`);
          }
          assert.deepEqual(await store.readLines(0, store.lineCount), ref.texts(), `${msg} after edits`);
          const backup = JSON.parse(JSON.stringify(store.backup())) as Parameters<
            typeof DatasetStore.restore
          >[1];

          // Undo everything: back to the original lines, then redo.
          const redos: StoreEdit[] = [];
          for (const inv of inverses.slice().reverse()) redos.push(store.apply(inv));
          assert.deepEqual(await store.readLines(0, store.lineCount), originalTexts, `${msg} after undo`);
          for (let i = 0; i < store.lineCount; i++)
            assert.equal(store.lineInfo(i).edited, false, `${msg} undo line ${i}`);
          const undoneCopy = join(dir, `u${seed}.jsonl`);
          await store.saveAs(undoneCopy);
          assert.deepEqual(await readFile(undoneCopy), original, `${msg} undo restores the exact bytes`);
          await store.close();

          // Redo on a store whose base is the original file again.
          const again = await DatasetStore.open(p);
          await again.indexed;
          const replay = await DatasetStore.restore(p, backup);
          const expected = ref.serialize();
          await replay.saveAs(join(dir, `r${seed}.jsonl`));
          assert.deepEqual(await readFile(join(dir, `r${seed}.jsonl`)), expected, `${msg} restore + save`);
          await replay.close();

          for (const redo of redos.slice().reverse()) again.apply(redo); // from the original state to the edited one
          assert.deepEqual(await again.readLines(0, again.lineCount), ref.texts(), `${msg} after redo`);
          await again.save();
          assert.deepEqual(await readFile(p), expected, `${msg} saved bytes`);
          // The re-based index equals a fresh index of the saved file.
          const fresh = await DatasetStore.open(p);
          await fresh.indexed;
          assert.equal(again.lineCount, fresh.lineCount, msg);
          for (let i = 0; i < fresh.lineCount; i++) {
            assert.deepEqual(again.lineInfo(i), fresh.lineInfo(i), `${msg} re-based line ${i}`);
          }
          assert.deepEqual(
            await again.readLines(0, again.lineCount),
            await fresh.readLines(0, fresh.lineCount),
            msg,
          );
          await fresh.close();
          await again.close();
          await assert.rejects(DatasetStore.restore(p, backup), /changed after the backup/, msg);
        } finally {
          await store.close();
        }
      }
    } finally {
      await cleanup();
    }
  });

  it('undoes across saves back to the original bytes; backups in between restore exactly', async function () {
    this.timeout(120000);
    const { dir, cleanup } = await tempDir();
    try {
      for (let seed = 1001; seed <= 1000 + Math.ceil(SEEDS / 2); seed++) {
        const rng = new Rng(seed);
        const original = randomFile(rng);
        const p = join(dir, `s${seed}.jsonl`);
        await writeFile(p, original);
        const ref = RefModel.parse(original);
        const store = await DatasetStore.open(p, { chunkSize: rng.int(8, 64), maxRetiredBases: 1000 });
        const msg = `seed ${seed}`;
        try {
          await store.indexed;
          const history: { inverse: StoreEdit; texts: string[] }[] = [];
          let saves = 0;
          const steps = rng.int(1, 30);
          for (let k = 0; k < steps; k++) {
            const before = ref.texts();
            const edit = randomEdit(rng, ref);
            const inverse = JSON.parse(JSON.stringify(store.apply(edit))) as StoreEdit;
            history.push({ inverse, texts: before });
            if (rng.chance(0.25)) {
              await store.save();
              saves++;
              const saved = await readFile(p);
              assert.deepEqual(saved, ref.serialize(), `${msg} save at step ${k}`);
              ref.rebase(saved);
            }
          }
          assert.deepEqual(await store.readLines(0, store.lineCount), ref.texts(), `${msg} after edits`);

          // Undo step by step, saving now and then; a backup taken on the way restores exactly.
          const backupAt = rng.int(0, history.length - 1);
          for (let k = history.length - 1; k >= 0; k--) {
            store.apply(history[k].inverse);
            assert.deepEqual(await store.readLines(0, store.lineCount), history[k].texts, `${msg} undo ${k}`);
            if (k === backupAt) {
              const backup = JSON.parse(JSON.stringify(store.backup())) as StoreBackup;
              const expected = join(dir, `e${seed}.jsonl`);
              await store.saveAs(expected, { rebase: false });
              const restored = await DatasetStore.restore(p, backup);
              try {
                assert.deepEqual(
                  await restored.readLines(0, restored.lineCount),
                  history[k].texts,
                  `${msg} restored texts`,
                );
                const got = join(dir, `g${seed}.jsonl`);
                await restored.saveAs(got);
                assert.deepEqual(await readFile(got), await readFile(expected), `${msg} restored bytes`);
              } finally {
                await restored.close();
              }
            }
            if (rng.chance(0.15)) {
              await store.save();
              saves++;
            }
          }
          await store.save();
          assert.deepEqual(await readFile(p), original, `${msg} undone across ${saves} saves`);
          const fresh = await DatasetStore.open(p);
          await fresh.indexed;
          for (let i = 0; i < fresh.lineCount; i++) {
            assert.deepEqual(store.lineInfo(i), fresh.lineInfo(i), `${msg} line ${i}`);
          }
          await fresh.close();
          await store.releaseRetiredBases();
          assert.deepEqual(store.retiredBaseIds, [], msg);
        } finally {
          await store.close();
        }
      }
    } finally {
      await cleanup();
    }
  });
});
