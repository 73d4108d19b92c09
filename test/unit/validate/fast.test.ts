// The byte-level fast path (src/core/validate/fast.ts) against the full check (JSON.parse, the
// schema, the lint rules): whenever the fast path accepts a line, the full check must find nothing
// to report and give the same facts; on whole files, validateFile (fast path) and validateText
// (full path only) must give the same diagnostics.
import * as assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { validateFile, validateText } from '../../../src/core/validate';
import { fastLine, hasControl, type FastFacts } from '../../../src/core/validate/fast';
import { RawLine } from '../../../src/core/validate/lines';
import { mayRepeatKeys, RecordChecker } from '../../../src/core/validate/record';
import { duplicateKeys } from '../../../src/core/formats/jsonKeep';
import { mulberry32 } from '../../support/random';
import { mutate, pick, randomRecord, rewrite } from '../../support/shareGptRandom';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const WORKER = join(ROOT, 'dist', 'validate.worker.js');
const DATASETS = join(ROOT, 'test', 'fixtures', 'datasets');

/** Whether checkRaw would hand this line to the fast path (see RecordChecker.checkRaw). */
function fastCandidate(buf: Buffer): boolean {
  return buf[0] !== 0xef && isUtf8(buf);
}

/** The line as forEachLine hands it over, alone in its block. */
function rawLine(buf: Buffer): RawLine {
  const l = new RawLine(buf);
  l.setBlock(buf, buf.toString('latin1'), isUtf8(buf));
  l.set(0, 0, 0, buf.length);
  return l;
}

const out: FastFacts = { idHash: 0, signature: 0, recStart: 0, recEnd: 0 };

/** Checks one line both ways; returns whether the fast path accepted it. */
function compare(written: string): boolean {
  const buf = Buffer.from(written, 'utf8');
  // The text as the file holds it (a lone surrogate of a mutated string is written as U+FFFD).
  const text = buf.toString('utf8');
  if (!fastCandidate(buf) || !fastLine(rawLine(buf), out)) return false;
  const full = new RecordChecker({}, 'signature').check(text, 1);
  assert.deepEqual(full.diagnostics, [], `accepted by the fast path, not by the full check: ${text}`);
  assert.deepEqual(
    full.facts,
    {
      format: 0,
      idHash: out.idHash,
      dialogueKey: out.signature,
      dialogueFull: NaN,
      kinds: 0,
      // Columns count UTF-16 units in the full check, bytes in the fast path: equal before the record.
      recStart: out.recStart,
      recEnd: full.facts ? full.facts.recEnd : -1,
    },
    text,
  );
  // The record's end, in bytes, is where the text's end is in UTF-16 units.
  assert.equal(Buffer.byteLength(text.slice(0, full.facts?.recEnd)), out.recEnd, text);
  return true;
}

describe('validate/fast path agrees with the full check', function () {
  this.timeout(120_000);

  it('accepts clean ShareGPT records, each with the full check’s facts', () => {
    const rnd = mulberry32(1);
    let accepted = 0;
    let clean = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = JSON.stringify(randomRecord(rnd));
      const ok = compare(text);
      if (ok) accepted++;
      if (new RecordChecker({}, 'signature').check(text, 1).diagnostics.length === 0) clean++;
    }
    // Most clean records take the fast path (the rest: \u-free lines with numbers as ids, ...).
    assert.ok(accepted > clean * 0.6, `${accepted} accepted of ${clean} clean records`);
  });

  it('never accepts a line the full check has something to say about (rewritten and mutated records)', () => {
    const rnd = mulberry32(2);
    let accepted = 0;
    for (let i = 0; i < 30_000; i++) {
      let text = rewrite(rnd, JSON.stringify(randomRecord(rnd)));
      const edits = Math.floor(rnd() * 3);
      for (let e = 0; e < edits; e++) text = mutate(rnd, text);
      if (compare(text)) accepted++;
    }
    assert.ok(accepted > 1000, `${accepted} accepted`);
  });

  it('finds control characters at any offset and alignment, as a regular expression does', () => {
    const rnd = mulberry32(3);
    const bytes = new Uint8Array(4096);
    for (let round = 0; round < 2000; round++) {
      for (let i = 0; i < bytes.length; i++) bytes[i] = 0x20 + Math.floor(rnd() * 0xe0);
      const hits = Math.floor(rnd() * 3);
      for (let h = 0; h < hits; h++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 0x20);
      const view = bytes.subarray(Math.floor(rnd() * 4));
      const start = Math.floor(rnd() * 200);
      const end = start + Math.floor(rnd() * (view.length - start));
      // eslint-disable-next-line no-control-regex
      const expected = /[\x00-\x1f]/.test(Buffer.from(view.subarray(start, end)).toString('latin1'));
      assert.equal(hasControl(view, start, end), expected, `round ${round}`);
    }
  });

  it('RawLine.hasControl finds the control characters of each line of a block', () => {
    const rnd = mulberry32(4);
    for (let round = 0; round < 500; round++) {
      const parts: string[] = [];
      const lines = 1 + Math.floor(rnd() * 12);
      for (let i = 0; i < lines; i++) {
        let t = '';
        const n = Math.floor(rnd() * 40);
        for (let k = 0; k < n; k++)
          t +=
            rnd() < 0.03
              ? String.fromCharCode(Math.floor(rnd() * 0x20)).replace('\n', '\r')
              : 'ab\u00e9'[k % 3];
        parts.push(t);
      }
      const buf = Buffer.from(parts.join('\n'), 'latin1');
      const l = new RawLine(buf);
      l.setBlock(buf, buf.toString('latin1'), true);
      let at = 0;
      parts.forEach((p, i) => {
        l.set(i, at, at, at + p.length);
        // A final CR is left out as the fast path leaves it out.
        const end = p.endsWith('\r') && rnd() < 0.5 ? p.length - 1 : p.length;
        // eslint-disable-next-line no-control-regex
        const expected = /[\x00-\x1f]/.test(p.slice(0, end));
        assert.equal(l.hasControl(at + end), expected, `round ${round}, line ${i}: ${JSON.stringify(p)}`);
        at += p.length + 1;
      });
    }
  });

  it('the duplicate-key pre-check says "maybe" for every text with a repeated key', () => {
    const rnd = mulberry32(5);
    let skipped = 0;
    let repeated = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = rewrite(rnd, JSON.stringify(randomRecord(rnd)));
      // Repeated keys at any depth, colons inside strings, `__proto__` keys.
      if (rnd() < 0.2) text = text.replace('{"from":', '{"from":"x","from":');
      if (rnd() < 0.1) text = text.replace('"value":"', '"value":"a: b ');
      if (rnd() < 0.05) text = text.replace('{', '{"__proto__":1,');
      if (rnd() < 0.05) text = text.replace('{', '{"__proto__":{"a":1},"__proto__":2,');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        continue;
      }
      const dups = duplicateKeys(text).length > 0;
      const maybe = mayRepeatKeys(text, value);
      if (dups) {
        repeated++;
        assert.ok(maybe, text);
      }
      if (!maybe) skipped++;
    }
    assert.ok(repeated > 1000, `${repeated} texts with repeated keys`);
    assert.ok(skipped > 10_000, `${skipped} texts skip the key scan`);
  });

  it('agrees on every line of the fixture datasets', () => {
    let accepted = 0;
    for (const name of readdirSync(DATASETS).filter((n) => n.endsWith('.jsonl'))) {
      for (const line of readFileSync(join(DATASETS, name), 'utf8').split('\n')) {
        if (line && compare(line)) accepted++;
      }
    }
    assert.ok(accepted > 0, 'the ShareGPT fixture takes the fast path');
  });

  it('validateFile gives validateText’s diagnostics on random files (duplicates included)', async function () {
    // Sixteen validations of four files, three with worker threads: slow on a loaded machine.
    this.timeout(600_000);
    const dir = mkdtempSync(join(tmpdir(), 'ps-fast-'));
    try {
      for (let seed = 10; seed < 14; seed++) {
        const rnd = mulberry32(seed);
        const lines: string[] = [];
        for (let i = 0; i < 3000; i++) {
          let text = rewrite(rnd, JSON.stringify(randomRecord(rnd)));
          if (rnd() < 0.05) text = mutate(rnd, text);
          lines.push(text);
          if (rnd() < 0.1) lines.push(pick(rnd, lines));
        }
        const text = lines.join('\n') + '\n';
        const path = join(dir, `r${seed}.jsonl`);
        writeFileSync(path, text);
        // The text as the file holds it (a lone surrogate of a mutated line is written as U+FFFD).
        const expected = validateText(readFileSync(path, 'utf8'), { maxDiagnostics: 1e6 });
        const one = await validateFile(path, { workers: 0, maxDiagnostics: 1e6 });
        const two = await validateFile(path, {
          workers: 2,
          workerScript: WORKER,
          minWorkerBytes: 0,
          maxDiagnostics: 1e6,
        });
        const shared = await validateFile(path, {
          workers: 3,
          inThread: true,
          workerScript: WORKER,
          minWorkerBytes: 0,
          maxDiagnostics: 1e6,
        });
        assert.deepEqual(shared.diagnostics, expected, `seed ${seed}, this thread and 2 workers`);
        assert.deepEqual(one.diagnostics, expected, `seed ${seed}, 1 thread`);
        assert.deepEqual(two.diagnostics, expected, `seed ${seed}, 2 workers`);
        assert.ok(expected.some((d) => d.code === 'duplicate/dialogue'));
        assert.ok(expected.some((d) => d.code === 'duplicate/id'));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
