/**
 * The second thread of a JSON array index: scans the part of the file after a newline (which in
 * valid JSON is never inside a string) without knowing the depth there. Depths are relative to
 * the start; the kernel's `scanRel` writes out the brackets that cross between the lowest level
 * reached and the one above, and the kinds that the levels opened before the start must have. Once
 * the first part is scanned, its depth at the split says which level is the array's: the main
 * thread then takes the elements from that level's list (`JsonArrayScanner.adoptPart`), or scans
 * the part itself when anything does not fit (invalid JSON, text between elements that is not a
 * comma and whitespace, a string open at the split), so that errors are reported exactly as
 * without the split.
 */
import { BlockSums, type KeptEnds } from '../fingerprint';
import { KERNEL_REQ, releaseKernel } from '../kernel';
import {
  LineIndex,
  chunkBuffers,
  forEachChunk,
  invalidUtf8Offsets,
  scanLines,
  type ChunkReader,
} from '../lineIndex';

/** What the main thread gives the part's scan. */
export interface PartJob {
  /** Where the part's checksums start (a multiple of the checksum block when `sums`). */
  at: number;
  /** Where the scan starts: just after the first newline at or after `at`. */
  split: number;
  size: number;
  chunkSize: number;
  /** The bytes of [at, split) (checksummed, not scanned). */
  probe: Uint8Array;
  /** Whether to compute the checksums of [at, size). */
  sums: boolean;
  /** The part of a JSON Lines file (its lines) rather than of a JSON array. */
  lines?: boolean;
}

/** The lines of a part of a JSON Lines file, as `scanLines` indexed them (from the split). */
export interface LinesPartResult {
  ok: boolean;
  starts: Float64Array;
  flags: Uint8Array;
  count: number;
  sums?: Uint32Array;
  tail?: Uint8Array;
  fed: number;
  /** The index worker's time for the part, in ms (what the next split is balanced by). */
  ms?: number;
}

/** Indexes the lines of the part described by `job`, reading through `fh`. */
export async function scanLinesPart(fh: ChunkReader, job: PartJob): Promise<LinesPartResult> {
  const sums = job.sums ? new BlockSums() : undefined;
  sums?.feed(job.probe);
  const index = new LineIndex(job.split);
  await scanLines(fh, index, job.split, job.size, {
    chunkSize: job.chunkSize,
    onChunk: () => undefined,
    checksums: sums,
  });
  const n = index.count;
  return {
    ok: true,
    starts: index.starts.slice(0, n + 1),
    flags: index.flags.slice(0, n),
    count: n,
    sums: sums?.finish(),
    tail: sums?.ends().tail,
    fed: job.probe.length + (job.size - job.split),
  };
}

/** The brackets at one level of a part: their file offsets, lines (from the split) and types. */
export interface LevelList {
  pos: Float64Array;
  line: Float64Array;
  /** 0 opens from the level, 1 closes to it, 2 closes to it as a new lowest level. */
  type: Uint8Array;
  count: number;
  /** Some text between a close and the next open is not exactly one comma and whitespace. */
  bad: boolean;
  /** The text before the first event, when the list starts before any bracket: commas, bad. */
  leadCommas: number;
  leadBad: boolean;
  /** The text after the last event, up to the next lowest level or the end: commas, bad. */
  tailCommas: number;
  tailBad: boolean;
}

export interface PartResult {
  /** False when the part cannot be taken as scanned (a kernel error): the main thread scans it. */
  ok: boolean;
  /** The list of the lowest level reached, and of the level above it (before the last new low). */
  cur?: LevelList;
  prev?: LevelList;
  /** The lowest relative level and the relative depth at the end. */
  relMin: number;
  relDepth: number;
  /** Bit i: the kind (set: "[") the opener of relative level -1-i must have. */
  reqs?: Uint8Array;
  /** Lines in the part. */
  lines: number;
  /** Offsets of invalid UTF-8 sequences, in order. */
  bad: number[];
  /** Checksums of [at, size) and the last bytes (for BlockSums.append). */
  sums?: Uint32Array;
  tail?: Uint8Array;
  fed: number;
  /** The index worker's time for the part, in ms (what the next split is balanced by). */
  ms?: number;
}

const WS = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x0d, 0x09]) WS[c] = 1;
/** Room for the events of one call (a block has at most 64). */
const EVENTS = 1 << 16;

function newList(): LevelList {
  return {
    pos: new Float64Array(1024),
    line: new Float64Array(1024),
    type: new Uint8Array(1024),
    count: 0,
    bad: false,
    leadCommas: -1,
    leadBad: false,
    tailCommas: 0,
    tailBad: false,
  };
}

function pushEvent(l: LevelList, pos: number, line: number, type: number): void {
  if (l.count === l.pos.length) {
    const n = l.count * 2;
    const p = new Float64Array(n);
    p.set(l.pos);
    const li = new Float64Array(n);
    li.set(l.line);
    const t = new Uint8Array(n);
    t.set(l.type);
    l.pos = p;
    l.line = li;
    l.type = t;
  }
  l.pos[l.count] = pos;
  l.line[l.count] = line;
  l.type[l.count] = type;
  l.count++;
}

function trimList(l: LevelList): LevelList {
  return {
    ...l,
    pos: l.pos.slice(0, l.count),
    line: l.line.slice(0, l.count),
    type: l.type.slice(0, l.count),
  };
}

/** Scans the part described by `job`, reading through `fh`. */
export async function scanArrayPart(fh: ChunkReader, job: PartJob): Promise<PartResult> {
  const bufs = chunkBuffers(job.chunkSize, 128 + EVENTS * 8);
  const sums = job.sums ? new BlockSums() : undefined;
  sums?.feed(job.probe);
  const bad: number[] = [];
  if (!bufs) return { ok: false, relMin: 0, relDepth: 0, lines: 0, bad, fed: 0 };
  const { kernel, io, spare } = bufs;
  const k = kernel.exports;
  const mem = kernel.mem;
  k.beginRel();
  let cur = newList();
  let prev: LevelList | undefined;
  // The text since the last close at the lowest level (from the start: the lead), from `gapFrom`.
  let gapFrom = job.split;
  let gapOpen = true;
  let commas = 0;
  let gapBad = false;
  let lines = 0;
  let failed = false;
  let carryFrom = 0;
  let carryLen = 0;
  const outAt = spare + 128;
  const outEnd = outAt + EVENTS * 8;

  /** Checks the text of [gapFrom, to) (file offsets), `base` being the address of file offset `pos`. */
  const gap = (to: number, base: number, pos: number): void => {
    if (!gapOpen || gapBad || cur.bad || to <= gapFrom) {
      gapFrom = Math.max(gapFrom, to);
      return;
    }
    for (let a = base + (gapFrom - pos), e = base + (to - pos); a < e; a++) {
      const b = mem[a];
      if (WS[b] === 1) continue;
      if (b === 0x2c) commas++;
      else {
        gapBad = true;
        break;
      }
    }
    gapFrom = to;
  };

  /** Scans mem[base, base + n), file offset `pos`; leaves less than a block carried. */
  const feed = (base: number, n: number, pos: number): void => {
    let p = base;
    for (;;) {
      const r = k.scanRel(p, base + n, outAt, outEnd);
      if (r < -1 && r !== -5) {
        failed = true;
        return;
      }
      for (let e = outAt, end = k.outAt(); e < end; e += 8) {
        const addr = mem.readInt32LE(e);
        const word = mem.readInt32LE(e + 4);
        const type = word & 3;
        const at = pos + (addr - base);
        const line = lines + (word >>> 2);
        gap(at, base, pos);
        if (type === 0) {
          if (cur.count === 0 && cur.leadCommas < 0) {
            cur.leadCommas = commas;
            cur.leadBad = gapBad;
          } else if (commas !== 1 || gapBad) cur.bad = true;
          gapOpen = false;
        } else {
          if (type === 2) {
            // A new lowest level: the list so far was one level up.
            if (gapOpen) {
              cur.tailCommas = commas;
              cur.tailBad = gapBad;
            }
            prev = cur;
            cur = newList();
          }
          gapOpen = true;
          gapFrom = at + 1;
          commas = 0;
          gapBad = false;
        }
        pushEvent(cur, at, line, type);
      }
      lines += k.lines();
      p = k.stop();
      if (r === -1) break;
    }
    gap(pos + (p - base), base, pos);
    carryFrom = p;
    carryLen = base + n - p;
  };

  io.arrive = (buf) => {
    if (carryLen > 0) mem.copyWithin(buf.byteOffset - carryLen, carryFrom, carryFrom + carryLen);
  };
  try {
    const { end } = await forEachChunk(
      fh,
      job.split,
      job.size,
      { chunkSize: job.chunkSize, onChunk: () => undefined, onData: sums ? (b) => sums.feed(b) : undefined },
      (c) => {
        if (failed) return;
        const { view, pos } = c;
        const n = view.length;
        if (!c.headValid) bad.push(c.lead > 0 ? pos : pos - 1);
        if (!c.bodyValid) invalidUtf8Offsets(view, c.lead, n - c.tail, pos, bad);
        const carried = carryLen;
        feed(view.byteOffset - carried, n + carried, pos - carried);
      },
      io,
    );
    if (!failed && carryLen > 0) {
      // The last bytes, less than a block, padded with spaces.
      const len = carryLen;
      const at = end - len;
      mem.copyWithin(spare, carryFrom, carryFrom + len);
      mem.fill(0x20, spare + len, spare + 64);
      feed(spare, 64, at);
    }
    if (gapOpen) {
      cur.tailCommas = commas;
      cur.tailBad = gapBad;
    }
    const relMin = k.relMin();
    const count = -relMin;
    const ends: KeptEnds | undefined = sums?.ends();
    return {
      ok: !failed,
      cur: trimList(cur),
      prev: prev && trimList(prev),
      relMin,
      relDepth: k.relDepth(),
      reqs: Buffer.from(mem.subarray(KERNEL_REQ, KERNEL_REQ + Math.ceil(count / 8))),
      lines,
      bad,
      sums: sums?.finish(),
      tail: ends?.tail,
      fed: ends ? job.probe.length + (end - job.split) : 0,
    };
  } finally {
    releaseKernel(kernel);
  }
}
