// The typed-array tables stats finds repeated ids and samples by, against a Map and a Set of the
// same strings: random ids and digests with many repeats, through every growth of the tables.
import * as assert from 'node:assert/strict';
import { DigestSet, IdTable, KeyTable } from '../../../src/core/stats/keyTable';
import { mulberry32 } from '../../support/random';

describe('stats: key tables', () => {
  it('IdTable gives the first line of every id as a Map does', () => {
    const rnd = mulberry32(3);
    const table = new IdTable();
    const map = new Map<string, number>();
    const alphabet = ['a', 'b', 'é', '中', '\ud83d\ude00', '\ud800', '0', '-'];
    const pool: string[] = [];
    for (let line = 0; line < 60000; line++) {
      let id: string;
      if (pool.length > 0 && rnd() < 0.3) id = pool[Math.floor(rnd() * pool.length)];
      else {
        const n = Math.floor(rnd() * 12);
        id = Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
        if (rnd() < 0.5) id += String(line); // long runs of ids that differ in one character
        pool.push(id);
      }
      const want = map.get(id) ?? -1;
      if (want < 0) map.set(id, line);
      assert.equal(table.firstLine(id, line), want, `line ${line}: ${JSON.stringify(id)}`);
    }
  });

  it('DigestSet tells repeated digests as a Set does, kernel and SHA-1 ones', () => {
    const rnd = mulberry32(4);
    const set = new Set<string>();
    const digests = new DigestSet();
    const pool: string[] = [];
    const byte = () => String.fromCharCode(Math.floor(rnd() * 256));
    for (let i = 0; i < 60000; i++) {
      let h: string;
      if (pool.length > 0 && rnd() < 0.3) h = pool[Math.floor(rnd() * pool.length)];
      else {
        // A kernel digest (16 latin1 characters), one that differs from another in a single
        // character, or a SHA-1 one ('S' and base64).
        const r = rnd();
        if (r < 0.1 && pool.length > 0) {
          const base = pool[Math.floor(rnd() * pool.length)];
          const at = Math.floor(rnd() * base.length);
          h = base.slice(0, at) + byte() + base.slice(at + 1);
        } else if (r < 0.15)
          h = 'S' + Buffer.from(Array.from({ length: 20 }, byte).join(''), 'latin1').toString('base64');
        else h = Array.from({ length: 16 }, byte).join('');
        pool.push(h);
      }
      assert.equal(digests.seen(h), set.has(h), `digest ${i}`);
      set.add(h);
    }
  });

  it('KeyTable keeps every key and value through its growth, words differing in any bit', () => {
    const table = new KeyTable(4);
    const n = 20000;
    for (let i = 0; i < n; i++) assert.equal(table.addIfAbsent(i, i ^ 0x80000000, ~i, i * 7, i), -1);
    for (let i = 0; i < n; i++) {
      assert.equal(table.addIfAbsent(i, i ^ 0x80000000, ~i, i * 7, 0), i);
      assert.equal(table.addIfAbsent(i, i, ~i, i * 7, 0), -1); // one bit off in the second word
    }
    assert.equal(table.size, 2 * n);
  });
});
