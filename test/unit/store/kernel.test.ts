// The SIMD kernels of the index scans against independent references: the checksum against a
// BigInt implementation of the same construction, the JSON array scan against the JavaScript scan
// (index and errors identical) and JSON.parse, on adversarial inputs built around the kernel's
// 64-byte blocks and the chunk boundaries.
import * as assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonArrayError, scanJsonArray } from '../../../src/core/store/containers/scanJsonArray';
import { BlockSums, blockChecksum, KEEP_ENDS, SUM_BLOCK, sumFile } from '../../../src/core/store/fingerprint';
import { keyDigest, keyRaw, keyStart, kernelSum, kernelsAvailable } from '../../../src/core/store/kernel';
import { LineIndex } from '../../../src/core/store/lineIndex';
import { Rng, tempDir } from './util';

const M = (1n << 64n) - 1n;

function secret(): Buffer {
  const out = Buffer.alloc(192);
  let x = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < 192; i += 8) {
    x = (x + 0x9e3779b97f4a7c15n) & M;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    out.writeBigUInt64LE(z ^ (z >> 31n), i);
  }
  return out;
}

function fmix(h: bigint): bigint {
  h = ((h ^ (h >> 33n)) * 0xff51afd7ed558ccdn) & M;
  h = ((h ^ (h >> 33n)) * 0xc4ceb9fe1a85ec53n) & M;
  return h ^ (h >> 33n);
}

const ACC0 = [
  0xc2b2ae3d27d4eb4fn,
  0xc2b2ae3d27d4eb4fn,
  0x165667b19e3779f9n,
  0x165667b19e3779f9n,
  0x85ebca77c2b2ae63n,
  0x85ebca77c2b2ae63n,
  0x27d4eb2f165667c5n,
  0x27d4eb2f165667c5n,
];

/**
 * The lanes of the kernel's `hash` (XXH3-like stripes) or `sum` (NH-like stripes) of `data`, then
 * their fold, written out with BigInts lane by lane: the 32-bit checksum and both 64-bit folds.
 */
function reference(data: Buffer, stripe: 'hash' | 'sum'): { sum: number; folds: [bigint, bigint] } {
  const key = secret();
  const acc = [...ACC0];
  const word32 = (b: Buffer, at: number): bigint => BigInt(b.readUInt32LE(at));
  let n = 0;
  for (let p = 0; p < data.length; p += 64) {
    const s = Buffer.alloc(64);
    data.copy(s, 0, p, Math.min(data.length, p + 64));
    for (let j = 0; j < 8; j++) {
      if (stripe === 'hash') {
        const d = s.readBigUInt64LE(8 * j);
        const dk = d ^ key.readBigUInt64LE(n * 8 + 8 * j);
        const swapped = s.readBigUInt64LE(8 * (j ^ 1));
        acc[j] = (acc[j] + (dk & 0xffffffffn) * (dk >> 32n) + swapped) & M;
      } else {
        // Lane j (64-bit lane j % 2 of vector j >> 1): words w and w + 4 of its 32 bytes.
        const half = 32 * (j >> 2);
        const w = 4 * (j & 3);
        const x = (word32(s, half + w) + word32(key, n * 8 + half + w)) & 0xffffffffn;
        const y = (word32(s, half + 16 + w) + word32(key, n * 8 + half + 16 + w)) & 0xffffffffn;
        // The vector's own words: lanes 0-1 add v0 or v2, lanes 2-3 add v1 or v3 (64 bits each).
        const own = s.readBigUInt64LE(half + 16 * ((j >> 1) & 1) + 8 * (j & 1));
        acc[j] = (acc[j] + x * y + own) & M;
      }
    }
    if (++n === 16) {
      n = 0;
      for (let j = 0; j < 8; j++) {
        let a = acc[j];
        a ^= a >> 47n;
        a ^= key.readBigUInt64LE(128 + 8 * j);
        acc[j] = (a * 0x9e3779b1n) & M;
      }
    }
  }
  let h = (BigInt(data.length) * 0x9e3779b185ebca87n) & M;
  for (let j = 0; j < 8; j++) h = ((h ^ fmix(acc[j])) * 0xc2b2ae3d27d4eb4fn) & M;
  h = fmix(h);
  let h2 = (BigInt(data.length) * 0xc2b2ae3d27d4eb4fn) & M;
  for (let j = 7; j >= 0; j--) h2 = ((h2 ^ fmix(acc[j])) * 0x9e3779b185ebca87n) & M;
  return { sum: Number((h ^ (h >> 32n)) & 0xffffffffn), folds: [h, fmix(h2)] };
}

function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(0, 255);
  return b;
}

describe('store: SIMD kernels', function () {
  before(function () {
    if (!kernelsAvailable()) this.skip(); // the JavaScript paths are then the only ones
  });

  it('the block checksum and the key digest equal lane-by-lane BigInt references, for every stripe and tail length', () => {
    const rng = new Rng(7);
    const lengths = [0, 1, 7, 63, 64, 65, 127, 128, 1023, 1024, 1025, 2048 + 17, 5000];
    for (let i = 0; i < 40; i++) lengths.push(rng.int(0, 4200));
    // Words near 2^32 - 1: the sums of data and secret carry out of their 32 bits.
    const high = Buffer.alloc(2048, 0xff);
    for (const n of lengths) {
      for (const data of [randomBytes(rng, n), high.subarray(0, Math.min(n, high.length))]) {
        assert.equal(kernelSum(data), reference(data, 'sum').sum, `sum, length ${data.length}`);
        assert.ok(keyStart());
        keyRaw(data, 0, data.length);
        const [h, h2] = reference(data, 'hash').folds;
        const want = Buffer.alloc(16);
        want.writeBigUInt64LE(h, 0);
        want.writeBigUInt64LE(h2, 8);
        assert.equal(keyDigest(), want.toString('latin1'), `digest, length ${data.length}`);
      }
    }
  });

  it('the block checksum changes with every one-byte change, swap and length change of a block', () => {
    const rng = new Rng(11);
    const data = randomBytes(rng, 3000);
    const sum = blockChecksum(data);
    for (let i = 0; i < data.length; i++) {
      const changed = Buffer.from(data);
      changed[i] ^= 1 << rng.int(0, 7);
      assert.notEqual(blockChecksum(changed), sum, `byte ${i}`);
    }
    for (let k = 0; k < 500; k++) {
      const i = rng.int(0, data.length - 1);
      const j = rng.int(0, data.length - 1);
      if (data[i] === data[j]) continue;
      const swapped = Buffer.from(data);
      swapped[i] = data[j];
      swapped[j] = data[i];
      assert.notEqual(blockChecksum(swapped), sum, `swap ${i} ${j}`);
    }
    assert.notEqual(blockChecksum(Buffer.concat([data, Buffer.alloc(1)])), sum, 'a zero byte appended');
  });

  it('block sums fed in pieces of any size equal the sums of a file read whole', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const rng = new Rng(3);
      const data = randomBytes(rng, 3 * SUM_BLOCK + 12345);
      const path = join(dir, 'sums.bin');
      await writeFile(path, data);
      const fh = await open(path, 'r');
      const whole = (await sumFile(fh, data.length)).finish();
      await fh.close();
      assert.equal(whole.length, 4);
      for (let b = 0; b < 4; b++) {
        const block = data.subarray(b * SUM_BLOCK, (b + 1) * SUM_BLOCK);
        assert.equal(whole[b], reference(Buffer.from(block), 'sum').sum, `block ${b}`);
      }
      for (const piece of [1, 3, 4096, SUM_BLOCK - 1, SUM_BLOCK, SUM_BLOCK + 5]) {
        const sums = new BlockSums();
        for (let at = 0; at < data.length; at += piece) sums.feed(data.subarray(at, at + piece));
        assert.deepEqual([...sums.finish()], [...whole], `pieces of ${piece}`);
        // The kept ends are the first and last KEEP_ENDS bytes, however the bytes came.
        const ends = sums.ends();
        assert.ok(ends.head.equals(data.subarray(0, KEEP_ENDS)), `head, pieces of ${piece}`);
        assert.ok(ends.tail.equals(data.subarray(data.length - KEEP_ENDS)), `tail, pieces of ${piece}`);
        assert.equal(ends.tailStart, data.length - KEEP_ENDS);
        assert.ok(ends.range(10, 20)?.equals(data.subarray(10, 20)));
        assert.ok(ends.range(data.length - 5, data.length)?.equals(data.subarray(data.length - 5)));
        assert.equal(ends.range(KEEP_ENDS - 1, KEEP_ENDS + 1), undefined);
      }
    } finally {
      await cleanup();
    }
  });

  describe('JSON array scan: kernel against the JavaScript scan', () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    before(async () => ({ dir, cleanup } = await tempDir()));
    after(async () => cleanup());

    type Outcome =
      | { ok: true; index: Record<string, unknown> }
      | { ok: false; message: string; line: number; column: number };

    async function outcome(path: string, from: number, chunkSize: number, simd: boolean): Promise<Outcome> {
      const fh = await open(path, 'r');
      try {
        const index = new LineIndex(from, 4, true);
        const size = (await fh.stat()).size;
        await scanJsonArray(fh, index, from, size, { chunkSize, onChunk: () => undefined }, true, simd);
        const n = index.count;
        return {
          ok: true,
          index: {
            starts: [...index.starts.subarray(0, n + 1)],
            flags: [...index.flags.subarray(0, n)],
            contentEnds: [...(index.contentEnds ?? []).slice(0, n)],
            startLines: [...(index.startLines ?? []).slice(0, n)],
            openEnd: index.openEnd,
            postStart: index.postStart,
            postLine: index.postLine,
            closeAt: index.closeAt,
          },
        };
      } catch (e) {
        if (!(e instanceof JsonArrayError)) throw e;
        return { ok: false, message: e.message, line: e.line, column: e.column };
      } finally {
        await fh.close();
      }
    }

    /** A string value with backslash runs, escaped quotes and multi-byte characters. */
    function nastyString(rng: Rng): string {
      const parts: string[] = [];
      for (let n = rng.int(0, 10); n > 0; n--) {
        const r = rng.int(0, 9);
        if (r === 0) parts.push('\\'.repeat(rng.int(1, 9)));
        else if (r === 1) parts.push('"');
        else if (r === 2) parts.push(rng.pick(['{', '}', '[', ']', ',', ':']));
        else if (r === 3) parts.push(rng.pick(['é', '中', '🦜', '\u2028']));
        else if (r === 4) parts.push('\n');
        else parts.push('x'.repeat(rng.int(1, 70)));
      }
      return parts.join('');
    }

    function nastyValue(rng: Rng, depth: number): unknown {
      const r = rng.int(0, depth > 6 ? 2 : 5);
      if (r === 0) return nastyString(rng);
      if (r === 1) return rng.pick([0, -1.5, 1e21, true, false, null]);
      if (r === 2) return 'x'.repeat(rng.int(0, 130)) + '\\'.repeat(rng.int(0, 4));
      if (r === 3) return Array.from({ length: rng.int(0, 4) }, () => nastyValue(rng, depth + 1));
      const o: Record<string, unknown> = {};
      for (let n = rng.int(0, 4); n > 0; n--) o[nastyString(rng) + n] = nastyValue(rng, depth + 1);
      return o;
    }

    function nastyArray(rng: Rng): Buffer {
      const items = Array.from({ length: rng.int(0, 7) }, () => {
        const o: Record<string, unknown> = { v: nastyValue(rng, 0) };
        if (rng.chance(0.3)) {
          const depth = rng.int(1, 90);
          o.deep = JSON.parse('['.repeat(depth) + '1' + ']'.repeat(depth));
        }
        return o;
      });
      let text = rng.chance(0.5)
        ? JSON.stringify(items, null, rng.pick([1, 2, 4, '\t']))
        : JSON.stringify(items);
      if (rng.chance(0.3)) text = text.replace(/\n/g, '\r\n');
      text = rng.pick(['', '\n', '  ']) + text + rng.pick(['', '\n', ' \r\n']);
      return Buffer.from((rng.chance(0.2) ? '\uFEFF' : '') + text, 'utf8');
    }

    /** Breaks a valid file: cut short, a byte replaced by a structural one, or one dropped. */
    function breakIt(rng: Rng, bytes: Buffer): Buffer {
      if (bytes.length < 4) return bytes;
      const at = rng.int(1, bytes.length - 1);
      const r = rng.int(0, 2);
      if (r === 0) return bytes.subarray(0, at);
      if (r === 1) {
        const b = Buffer.from(bytes);
        b[at] = rng.pick([0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x0a]);
        return b;
      }
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    }

    it('gives the same index and the same errors as the JavaScript scan, at every chunk size', async () => {
      let broken = 0;
      for (let seed = 1; seed <= 220; seed++) {
        const rng = new Rng(seed);
        const good = nastyArray(rng);
        const bytes = seed % 2 === 0 ? breakIt(rng, good) : good;
        const path = join(dir, `k${seed}.json`);
        await writeFile(path, bytes);
        const from = bytes[0] === 0xef ? 3 : 0;
        const chunk = rng.pick([1, 2, 5, 63, 64, 65, 100, 200, 4096]);
        const js = await outcome(path, from, chunk, false);
        const simd = await outcome(path, from, chunk, true);
        assert.deepEqual(simd, js, `seed ${seed}, chunk ${chunk}`);
        if (!js.ok) broken++;
        if (bytes === good) {
          // The valid files: the elements are JSON.parse's.
          assert.ok(js.ok, `seed ${seed}: ${JSON.stringify(js)}`);
          const parsed = JSON.parse(bytes.toString('utf8', from)) as unknown[];
          const idx = js.index as { starts: number[]; contentEnds: number[] };
          assert.equal(idx.contentEnds.length, parsed.length, `seed ${seed}: count`);
          idx.contentEnds.forEach((end, i) =>
            assert.deepEqual(
              JSON.parse(bytes.toString('utf8', idx.starts[i], end)),
              parsed[i],
              `seed ${seed}: element ${i}`,
            ),
          );
        }
      }
      assert.ok(broken > 40, `broken files among them: ${broken}`);
    });

    it('keeps backslash runs, quotes and brackets exact across 64-byte blocks and chunks', async () => {
      // Every run length of backslashes, followed by a quote or a bracket, at every offset around a
      // 64-byte block boundary and a chunk boundary.
      for (let run = 0; run <= 5; run++) {
        for (let shift = 0; shift < 70; shift++) {
          const pad = 'p'.repeat(shift);
          const value = `${pad}${'\\'.repeat(run)}${run % 2 === 1 ? '"' : ''}]}{[`;
          const text = `[{"a":"${value}","b":[{"c":"${'\\\\'.repeat(run)}"}]},\n {"d":1}]`;
          let ok = true;
          try {
            JSON.parse(text);
          } catch {
            ok = false;
          }
          const path = join(dir, 'edge.json');
          await writeFile(path, text);
          for (const chunk of [64, 67, 128]) {
            const js = await outcome(path, 0, chunk, false);
            const simd = await outcome(path, 0, chunk, true);
            assert.deepEqual(simd, js, `run ${run}, shift ${shift}, chunk ${chunk}`);
            assert.equal(js.ok, ok, `run ${run}, shift ${shift}: ${JSON.stringify(js)}`);
          }
        }
      }
    });

    it('skips whole blocks inside long strings without losing an escape, a quote or a line', async () => {
      // A backslash run ending a block, then blocks of plain text (skipped), then a quote, a
      // bracket or a raw line break at the start of the next block; at every alignment.
      for (let run = 1; run <= 2; run++) {
        for (let shift = 0; shift < 130; shift++) {
          for (const after of ['"', ']', '\n', 'x']) {
            const text = `[{"a":"${'p'.repeat(shift)}${'\\'.repeat(run)}${'t'.repeat(127)}${after}"},\n {"b":"${after}"}]`;
            const path = join(dir, 'long.json');
            await writeFile(path, text);
            for (const chunk of [64, 200]) {
              const js = await outcome(path, 0, chunk, false);
              const simd = await outcome(path, 0, chunk, true);
              assert.deepEqual(
                simd,
                js,
                `run ${run}, shift ${shift}, then ${JSON.stringify(after)}, chunk ${chunk}`,
              );
            }
          }
        }
      }
    });

    it('marks exactly the records whose bytes are invalid UTF-8, whatever the chunks', async () => {
      const bads = [
        [0xff],
        [0xc3],
        [0xe4, 0xb8],
        [0x80],
        [0xf0, 0x9f, 0xa6],
        [0xed, 0xa0, 0x80],
        [0xc0, 0xaf],
      ];
      for (let seed = 1; seed <= 60; seed++) {
        const rng = new Rng(1000 + seed);
        const parts: Buffer[] = [Buffer.from('[\n')];
        const count = rng.int(1, 12);
        for (let r = 0; r < count; r++) {
          const text = Buffer.from(
            `{"t": "${'中é'.repeat(rng.int(0, 30))}${'x'.repeat(rng.int(0, 90))}`,
            'utf8',
          );
          const broken = rng.chance(0.3)
            ? Buffer.concat([text, Buffer.from(rng.pick(bads)), Buffer.from('🦜')])
            : text;
          parts.push(broken, Buffer.from(`"}${r < count - 1 ? ',\n' : '\n'}`));
        }
        parts.push(Buffer.from(']\n'));
        const bytes = Buffer.concat(parts);
        const path = join(dir, `u${seed}.json`);
        await writeFile(path, bytes);
        for (const chunk of [1, 3, 64, 77, 4096]) {
          for (const simd of [false, true]) {
            const o = await outcome(path, 0, chunk, simd);
            assert.ok(o.ok, JSON.stringify(o));
            const idx = o.index as { starts: number[]; contentEnds: number[]; flags: number[] };
            idx.contentEnds.forEach((end, i) =>
              assert.equal(
                (idx.flags[i] & 4) !== 0,
                !isUtf8(bytes.subarray(idx.starts[i], end)),
                `seed ${seed}, chunk ${chunk}, simd ${simd}: record ${i}`,
              ),
            );
          }
        }
      }
    });

    it('reports a bracket that closes the wrong one, and nesting, as the JavaScript scan does', async () => {
      const texts = [
        '[{"a": [1}]',
        `[{"a": "${'x'.repeat(100)}", "b": [1, {"c": 2]}]`,
        '[' + '{"a":['.repeat(200) + '1' + ']}'.repeat(200) + ']',
        '[' + '{"a":['.repeat(200) + '1' + ']}'.repeat(199) + '}}]',
        '[{"a": 1}, {"b": "' + 'y'.repeat(200) + '"',
        '[{"a": 1}, {"b": [' + '"z",'.repeat(100),
      ];
      for (const text of texts) {
        const path = join(dir, 'nest.json');
        await writeFile(path, text);
        for (const chunk of [7, 64, 4096]) {
          const js = await outcome(path, 0, chunk, false);
          assert.deepEqual(await outcome(path, 0, chunk, true), js, `${text.slice(0, 40)}, chunk ${chunk}`);
        }
      }
    });
  });
});
