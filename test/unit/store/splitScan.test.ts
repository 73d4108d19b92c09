// The JSON array index split between two threads (containers/splitScan.ts, scanArrayPart.ts):
// at every split point of random arrays — strings full of brackets, quotes and escapes, nested
// arrays, pretty and compact, broken ones — the index, the errors and the checksums are those of
// the one-thread scan, and a valid array is always joined (the other thread's part is used).
import * as assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  JsonArrayError,
  scanJsonArray,
  type JsonArrayScanner,
} from '../../../src/core/store/containers/scanJsonArray';
import { BlockSums, SUM_BLOCK } from '../../../src/core/store/fingerprint';
import { LineIndex, scanLines, type ScanOptions } from '../../../src/core/store/lineIndex';
import { learnSplit, scanLinesSplit, splitShare } from '../../../src/core/store/containers/splitScan';
import { randomRecord, randomValue, serialise, trickyString } from './arrays';
import { Rng, tempDir } from './util';

const WORKER = resolve(__dirname, '..', '..', '..', '..', 'dist', 'index.worker.js');

interface Outcome {
  index?: LineIndex;
  error?: string;
  split?: JsonArrayScanner['split'];
  sums?: Uint32Array;
  tail?: Buffer;
}

async function scanWith(path: string, chunkSize: number, parallel?: ScanOptions['parallel'], sums = false) {
  const fh = await open(path, 'r');
  const out: Outcome = {};
  const checksums = sums ? new BlockSums() : undefined;
  try {
    const index = new LineIndex(0, 4, true);
    const size = (await fh.stat()).size;
    const sc = await scanJsonArray(
      fh,
      index,
      0,
      size,
      { chunkSize, onChunk: () => undefined, checksums, parallel },
      true,
    );
    out.index = index;
    out.split = sc.split;
  } catch (e) {
    if (!(e instanceof JsonArrayError)) throw e;
    out.error = `${e.message} @${e.offset}`;
  } finally {
    await fh.close();
  }
  out.sums = checksums?.finish();
  out.tail = checksums?.ends().tail;
  return out;
}

/** Everything the index holds, as plain numbers. */
function dump(index: LineIndex | undefined): unknown {
  if (!index) return undefined;
  const n = index.count;
  return {
    n,
    starts: Array.from(index.starts.subarray(0, n + 1)),
    flags: Array.from(index.flags.subarray(0, n)),
    ends: Array.from(index.contentEnds?.subarray(0, n) ?? []),
    lines: Array.from(index.startLines?.subarray(0, n) ?? []),
    frame: [index.openEnd, index.postStart, index.postLine, index.closeAt],
  };
}

/** Newline offsets of `bytes`: the split points (the split is just after the newline at or after `at`). */
function newlines(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) out.push(i);
  return out;
}

function randomArray(rng: Rng, pretty: boolean): Buffer {
  const items = Array.from({ length: rng.int(1, 7) }, () =>
    rng.chance(0.7) ? randomRecord(rng) : { nested: [[randomValue(rng, 1)], [[trickyString(rng)]]] },
  );
  let text = pretty ? JSON.stringify(items, null, rng.pick([1, 2, '\t'])) : serialise(rng, items);
  if (pretty && rng.chance(0.3)) text = text.replace(/\n/g, '\r\n');
  // A compact array with a line break between elements (a split point).
  if (!text.includes('\n'))
    text = `[${items.map((v) => JSON.stringify(v)).join(rng.pick([',\n', '\n,', ' ,\n ']))}]`;
  return Buffer.from(rng.pick(['', '\n', ' ']) + text + rng.pick(['', '\n', ' \n']), 'utf8');
}

/** Breaks a valid array in one of the ways a file gets broken. */
function breakArray(rng: Rng, bytes: Buffer): Buffer {
  const at = rng.int(1, bytes.length - 1);
  switch (rng.int(0, 6)) {
    case 0:
      return bytes.subarray(0, at); // cut
    case 1:
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]); // a byte dropped
    case 2: {
      const b = Buffer.from(bytes);
      b[at] = rng.pick([0x22, 0x5c, 0x5b, 0x5d, 0x7b, 0x7d, 0x2c, 0x0a, 0x78]);
      return b;
    }
    case 3: // a raw line break inside a string (physical lines all the same)
      return Buffer.from(bytes.toString('utf8').replace(/"([^"\\\n]*)"/, '"$1\n$1"'), 'utf8');
    case 4: // a trailing comma
      return Buffer.from(bytes.toString('utf8').replace(/\}(\s*)\]\s*$/, '},$1]'), 'utf8');
    case 5: // something after the closing bracket
      return Buffer.concat([bytes, Buffer.from('\n{"x": 1}\n')]);
    default: // a missing comma
      return Buffer.from(bytes.toString('utf8').replace(/\},/, '}'), 'utf8');
  }
}

describe('store: JSON array index split between two threads', function () {
  this.timeout(600000);
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(async () => cleanup());

  it('gives the one-thread index at every split point of random valid arrays, always joined', async () => {
    let joined = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const rng = new Rng(seed);
      const bytes = randomArray(rng, seed % 3 !== 0);
      const path = join(dir, `v${seed}.json`);
      await writeFile(path, bytes);
      const chunk = rng.pick([64, 100, 256, 4096]);
      const one = await scanWith(path, chunk);
      assert.equal(one.error, undefined, `seed ${seed}: valid`);
      for (const nl of newlines(bytes)) {
        if (nl + 1 >= bytes.length) continue;
        const two = await scanWith(path, chunk, { worker: 'in-thread', at: nl, minBytes: 0 });
        assert.deepEqual(dump(two.index), dump(one.index), `seed ${seed}, split after ${nl}`);
        // Before the first element nothing is known of the array yet, and after "]" nothing is
        // left: scanned here.
        const outside = nl < (one.index?.start(0) ?? 0) || nl > (one.index?.closeAt ?? 0);
        assert.equal(
          two.split ?? 'rescanned',
          outside ? 'rescanned' : 'joined',
          `seed ${seed}, split after ${nl}`,
        );
        if (two.split === 'joined') joined++;
      }
    }
    assert.ok(joined > 500, `${joined} splits joined`);
  });

  it('gives the one-thread errors and index at every split point of broken arrays', async () => {
    let rescanned = 0;
    let failures = 0;
    for (let seed = 1; seed <= 120; seed++) {
      const rng = new Rng(1000 + seed);
      const bytes = breakArray(rng, randomArray(rng, rng.chance(0.7)));
      const path = join(dir, `b${seed}.json`);
      await writeFile(path, bytes);
      const chunk = rng.pick([64, 128, 4096]);
      const one = await scanWith(path, chunk);
      if (one.error) failures++;
      for (const nl of newlines(bytes)) {
        if (nl + 1 >= bytes.length) continue;
        const two = await scanWith(path, chunk, { worker: 'in-thread', at: nl, minBytes: 0 });
        assert.equal(two.error, one.error, `seed ${seed}, split after ${nl}: error`);
        assert.deepEqual(dump(two.index), dump(one.index), `seed ${seed}, split after ${nl}: index`);
        if (two.split === 'rescanned') rescanned++;
      }
    }
    // Both paths were taken: broken parts scanned again here, and broken files reported.
    assert.ok(rescanned > 50, `${rescanned} parts scanned again`);
    assert.ok(failures > 60, `${failures} broken files`);
  });

  it('reports a bracket that closes one of the other kind opened before the split', async () => {
    const el = (i: number) =>
      `  {\n    "a": [\n      1,\n      {"b": "]}["},\n      [[\n2\n]]\n    ],\n    "n": ${i}\n  }`;
    const good = `[\n${[0, 1, 2, 3].map(el).join(',\n')}\n]\n`;
    // Each closing bracket outside strings, in turn, swapped for the other kind.
    const closes = [...good.matchAll(/^\s*([\]}])/gm)].map((m) => (m.index ?? 0) + m[0].length - 1);
    assert.ok(closes.length > 10);
    for (const at of closes) {
      const b = Buffer.from(good);
      b[at] = b[at] === 0x5d ? 0x7d : 0x5d;
      const path = join(dir, 'kinds.json');
      await writeFile(path, b);
      const one = await scanWith(path, 64);
      assert.ok(one.error, `swap at ${at}: an error`);
      for (const nl of newlines(b)) {
        if (nl >= at) break;
        const two = await scanWith(path, 64, { worker: 'in-thread', at: nl, minBytes: 0 });
        assert.equal(two.error, one.error, `swap at ${at}, split after ${nl}`);
      }
    }
  });

  it('marks the same records invalid UTF-8 on either side of the split', async () => {
    const parts = ['[\n'];
    for (let i = 0; i < 40; i++) parts.push(`${i ? ',\n' : ''}  {"a": "x${i}", "b": [1, {"c": "]}"}]}`);
    parts.push('\n]\n');
    const bytes = Buffer.from(parts.join(''), 'utf8');
    const bad = [3, 17, 18, 39].map((i) => bytes.indexOf(`"x${i}"`) + 2);
    for (const at of bad) bytes[at] = 0xff;
    const path = join(dir, 'utf8.json');
    await writeFile(path, bytes);
    const one = await scanWith(path, 64);
    const marked = Array.from(one.index?.flags.subarray(0, 40) ?? []).flatMap((f, i) => (f & 4 ? [i] : []));
    assert.deepEqual(marked, [3, 17, 18, 39]);
    for (const nl of newlines(bytes).slice(1, -1)) {
      const two = await scanWith(path, 64, { worker: 'in-thread', at: nl, minBytes: 0 });
      assert.equal(two.split, 'joined', `split after ${nl}`);
      assert.deepEqual(dump(two.index), dump(one.index), `split after ${nl}`);
    }
  });

  it('computes the same checksums when the other thread sums the second part', async () => {
    const rng = new Rng(7);
    const parts = ['['];
    let size = 1;
    for (let i = 0; size < 5 * SUM_BLOCK + 1234; i++) {
      const el = `${i ? ',' : ''}\n  ${JSON.stringify(randomRecord(rng))}`;
      parts.push(el);
      size += Buffer.byteLength(el);
    }
    parts.push('\n]\n');
    const path = join(dir, 'sums.json');
    await writeFile(path, parts.join(''));
    const one = await scanWith(path, SUM_BLOCK, undefined, true);
    for (const at of [SUM_BLOCK, 2 * SUM_BLOCK + 5, 4 * SUM_BLOCK]) {
      const two = await scanWith(path, SUM_BLOCK, { worker: 'in-thread', at, minBytes: 0 }, true);
      assert.equal(two.split, 'joined');
      assert.deepEqual(dump(two.index), dump(one.index));
      assert.deepEqual(two.sums, one.sums, `split at ${at}: checksums`);
      assert.deepEqual(two.tail, one.tail, `split at ${at}: kept last bytes`);
    }
  });

  it('runs the second part in the bundled worker, with the same index and checksums', async () => {
    const rng = new Rng(9);
    const parts = ['[\n'];
    for (let i = 0; i < 3000; i++)
      parts.push(`${i ? ',\n' : ''}${JSON.stringify(randomRecord(rng), null, 2)}`);
    parts.push('\n]\n');
    const path = join(dir, 'worker.json');
    await writeFile(path, parts.join(''));
    const one = await scanWith(path, SUM_BLOCK, undefined, true);
    const two = await scanWith(path, SUM_BLOCK, { worker: WORKER, minBytes: 0 }, true);
    assert.equal(two.split, 'joined');
    assert.deepEqual(dump(two.index), dump(one.index));
    assert.deepEqual(two.sums, one.sums);
    // The worker is kept for the next scan; a scan cancelled mid-way ends it, and the next starts one.
    const again = await scanWith(path, SUM_BLOCK, { worker: WORKER, minBytes: 0 }, true);
    assert.equal(again.split, 'joined');
    assert.deepEqual(dump(again.index), dump(one.index));
    const fh = await open(path, 'r');
    const ctl = new AbortController();
    const size = (await fh.stat()).size;
    await assert.rejects(
      scanJsonArray(fh, new LineIndex(0, 4, true), 0, size, {
        chunkSize: SUM_BLOCK,
        signal: ctl.signal,
        onChunk: () => ctl.abort(),
        parallel: { worker: WORKER, minBytes: 0 },
      }),
      /cancelled/,
    );
    await fh.close();
    const after = await scanWith(path, SUM_BLOCK, { worker: WORKER, minBytes: 0 }, true);
    assert.equal(after.split, 'joined');
    assert.deepEqual(dump(after.index), dump(one.index));
    // A compact array on one line has no safe split point: one thread.
    await writeFile(path, JSON.stringify(JSON.parse(parts.join(''))));
    const compact = await scanWith(path, SUM_BLOCK, { worker: WORKER, minBytes: 0 }, true);
    assert.equal(compact.split, undefined);
    assert.equal(compact.index?.count, 3000);
  });

  describe('JSON Lines', () => {
    async function lines(path: string, chunkSize: number, parallel?: ScanOptions['parallel'], sums = true) {
      const fh = await open(path, 'r');
      try {
        const index = new LineIndex(0, 4);
        const checksums = new BlockSums();
        const size = (await fh.stat()).size;
        const opts: ScanOptions = {
          chunkSize,
          onChunk: () => undefined,
          checksums: sums ? checksums : undefined,
          parallel,
        };
        const split = parallel
          ? await scanLinesSplit(fh, index, 0, size, opts)
          : await scanLines(fh, index, 0, size, opts);
        const n = index.count;
        return {
          split,
          starts: Array.from(index.starts.subarray(0, n + 1)),
          flags: Array.from(index.flags.subarray(0, n)),
          eols: [index.lfCount, index.crlfCount],
          sums: Array.from(checksums.finish()),
          tail: checksums.ends().tail,
        };
      } finally {
        await fh.close();
      }
    }

    function randomLines(rng: Rng, bytes: number): Buffer {
      const parts: Buffer[] = [];
      let n = 0;
      while (n < bytes) {
        const kind = rng.int(0, 9);
        const line =
          kind === 0
            ? Buffer.alloc(0)
            : kind === 1
              ? Buffer.from([0x7b, 0xff, 0xc3, 0x22, 0xe4, 0xb8]) // invalid UTF-8
              : Buffer.from(JSON.stringify(randomRecord(rng)), 'utf8');
        parts.push(line, Buffer.from(rng.chance(0.3) ? '\r\n' : '\n'));
        n += line.length + 2;
      }
      if (rng.chance(0.5)) parts.push(Buffer.from('{"last": "no newline"}'));
      return Buffer.concat(parts);
    }

    it('gives the one-thread line index and checksums at every split point', async () => {
      for (let seed = 1; seed <= 15; seed++) {
        const rng = new Rng(500 + seed);
        const bytes = randomLines(rng, rng.int(200, 3000));
        const path = join(dir, `l${seed}.jsonl`);
        await writeFile(path, bytes);
        const chunk = rng.pick([64, 100, 4096]);
        const one = await lines(path, chunk, undefined, false);
        for (const nl of newlines(bytes)) {
          if (nl + 1 >= bytes.length || nl === 0) continue;
          const two = await lines(path, chunk, { worker: 'in-thread', at: nl, minBytes: 0 }, false);
          assert.equal(two.split, 'joined', `seed ${seed}, split after ${nl}`);
          assert.deepEqual({ ...two, split: undefined }, one, `seed ${seed}, split after ${nl}`);
        }
      }
    });

    it('splits at checksum blocks in the bundled worker, with the same index and checksums', async () => {
      const bytes = randomLines(new Rng(77), 6 * SUM_BLOCK);
      const path = join(dir, 'big.jsonl');
      await writeFile(path, bytes);
      const one = await lines(path, SUM_BLOCK);
      for (const at of [SUM_BLOCK, 3 * SUM_BLOCK + 17]) {
        const two = await lines(path, SUM_BLOCK, { worker: 'in-thread', at, minBytes: 0 });
        assert.equal(two.split, 'joined');
        assert.deepEqual({ ...two, split: undefined }, one, `split at ${at}`);
      }
      const worker = await lines(path, SUM_BLOCK, { worker: WORKER, minBytes: 0 });
      assert.equal(worker.split, 'joined');
      assert.deepEqual({ ...worker, split: undefined }, one);
    });

    it("balances the next split by the two threads' measured speeds, with the same index", async () => {
      const bytes = randomLines(new Rng(78), 16 * SUM_BLOCK);
      const path = join(dir, 'balanced.jsonl');
      await writeFile(path, bytes);
      const one = await lines(path, SUM_BLOCK);
      // The bundled worker reports its time; the share moves off where it was.
      const before = splitShare('lines');
      const first = await lines(path, SUM_BLOCK, { worker: WORKER, minBytes: 0 });
      assert.equal(first.split, 'joined');
      assert.deepEqual({ ...first, split: undefined }, one);
      assert.notEqual(splitShare('lines'), before);
      const second = await lines(path, SUM_BLOCK, { worker: WORKER, minBytes: 0 });
      assert.equal(second.split, 'joined');
      assert.deepEqual({ ...second, split: undefined }, one);
      // The rule: halfway to the share at which both would have ended together, within [0.25, 0.75].
      const job = { at: 0, split: 1000, size: 3000, chunkSize: 1, probe: new Uint8Array(0), sums: false };
      const s0 = splitShare('array');
      learnSplit('array', job, 0, 10, 10); // here 100 B/ms, there 200 B/ms: balanced at 1/3
      assert.ok(Math.abs(splitShare('array') - (s0 + 1 / 3) / 2) < 1e-12);
      learnSplit('array', job, 0, 10, undefined); // no time from the worker: unchanged
      assert.ok(Math.abs(splitShare('array') - (s0 + 1 / 3) / 2) < 1e-12);
      for (let i = 0; i < 20; i++) learnSplit('array', job, 0, 1000, 1);
      assert.equal(splitShare('array'), 0.25);
      for (let i = 0; i < 20; i++) learnSplit('array', job, 0, 1, 1000);
      assert.equal(splitShare('array'), 0.75);
    });
  });
});
