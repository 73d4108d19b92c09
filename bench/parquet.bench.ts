/**
 * Parquet benchmark: time to the first dialogues of a ~1 GiB Parquet file (written by pyarrow, the
 * way Hugging Face datasets are) against a small Parquet file and a small JSONL file opened through
 * the dataset store, all measured in the same run; plus rows/s of a full streaming read and the
 * peak memory of it (bounded by a few row groups, not by the file).
 * Size: PARROT_BENCH_PARQUET_BYTES (default 1 GiB). Needs python3 with pyarrow to generate the big
 * file (pip install pyarrow); without it the benchmark says so and measures the small files only.
 * Each time is the best of 9 cold opens (a new source each time; the OS page cache stays warm).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatasetStore, ParquetStore } from '../src/core/store';
import { ParquetRowSource } from '../src/core/store/containers/parquet';
import { repoRoot } from './synth';

const FIRST = 50;
const RUNS = 9;
const BYTES = Number(process.env.PARROT_BENCH_PARQUET_BYTES ?? 1024 ** 3);
const ROW_GROUP = 10_000;

/**
 * Writes a big file with pyarrow: ShareGPT rows of seeded random words, row groups of 10k rows, with
 * or without a page index (pyarrow's `write_page_index`; our own writer always writes one).
 */
const GENERATE = `
import random, sys, pyarrow as pa, pyarrow.parquet as pq
out, target, group, page_index = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
rnd = random.Random(42)
words = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9))) for _ in range(20000)]
def text(n): return " ".join(rnd.choice(words) for _ in range(n))
turn = pa.struct([("from", pa.string()), ("value", pa.string())])
schema = pa.schema([("id", pa.string()), ("conversations", pa.list_(turn))],
  metadata={b"huggingface": b'{"info": {"features": {"id": {"dtype": "string", "_type": "Value"}}}}'})
rows = []
for i in range(group or 10000):
  conv = []
  for t in range(rnd.choice([2, 4, 6, 8])):
    conv.append({"from": "human" if t % 2 == 0 else "gpt", "value": text(rnd.randint(5, 40) if t % 2 == 0 else rnd.randint(40, 300))})
  rows.append({"id": "", "conversations": conv})
import os
if group == 0:
  # pyarrow's defaults (what pandas' to_parquet writes): one row group of up to 1Mi rows.
  one = pa.Table.from_pylist(rows, schema=schema)
  pq.write_table(one, out + ".probe")
  copies = max(1, round(target / os.path.getsize(out + ".probe")))
  os.remove(out + ".probe")
  tables = []
  for g in range(copies):
    for i, r in enumerate(rows): r["id"] = f"synth_{g * len(rows) + i}"
    tables.append(pa.Table.from_pylist(rows, schema=schema))
  pq.write_table(pa.concat_tables(tables), out + ".partial")
  os.rename(out + ".partial", out)
  sys.exit(0)
w = pq.ParquetWriter(out + ".partial", schema, compression="snappy", write_page_index=page_index)
g = 0
while True:
  for i, r in enumerate(rows): r["id"] = f"synth_{g * group + i}"
  w.write_table(pa.Table.from_pylist(rows, schema=schema), row_group_size=group)
  g += 1
  if os.path.getsize(out + ".partial") >= target: break
w.close()
os.rename(out + ".partial", out)
`;

async function bigFile(pageIndex: boolean, oneGroup = false): Promise<string | undefined> {
  const dir = join(repoRoot(), 'bench-data');
  await mkdir(dir, { recursive: true });
  const kind = oneGroup ? '-one-group' : pageIndex ? '-page-index' : '';
  const file = join(dir, `synth-sharegpt-${BYTES}${kind}.parquet`);
  if (existsSync(file)) return file;
  const r = spawnSync(
    'python3',
    ['-c', GENERATE, file, String(BYTES), String(oneGroup ? 0 : ROW_GROUP), pageIndex ? '1' : '0'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'inherit', 'pipe'],
    },
  );
  if (r.status !== 0) {
    process.stdout.write(
      `skipped the ${(BYTES / 1024 ** 3).toFixed(2)} GiB file: python3 with pyarrow is needed to write it (pip install pyarrow)\n${r.stderr ?? ''}\n`,
    );
    return undefined;
  }
  return file;
}

async function best(fn: () => Promise<void>): Promise<number> {
  let b = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

async function parquetFirst(file: string): Promise<void> {
  const src = await ParquetRowSource.open(file);
  const rows = await src.rows(0, FIRST);
  if (rows.length !== Math.min(FIRST, src.rowCount)) throw new Error('short read');
  await src.close();
}

/** The dialogue editor's path: the Parquet document store, the first records as JSON texts. */
async function storeFirst(file: string): Promise<void> {
  const store = await ParquetStore.open(file);
  const texts = await store.readLines(0, FIRST);
  for (const t of texts) JSON.parse(t);
  if (texts.length !== Math.min(FIRST, store.lineCount)) throw new Error('short read');
  await store.close();
}

async function jsonlFirst(file: string): Promise<void> {
  const store = await DatasetStore.open(file);
  const lines = await store.readLines(0, FIRST);
  for (const l of lines) JSON.parse(l);
  await store.close();
}

function peakRssMiB(): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

async function main(): Promise<void> {
  const root = repoRoot();
  const smallPq = join(root, 'test/fixtures/datasets/containers/fastchat_dummy_conversation.parquet');
  const smallJl = join(root, 'test/fixtures/datasets/fastchat_dummy_conversation.jsonl');
  const big = await bigFile(false);
  const indexed = big ? await bigFile(true) : undefined;
  const oneGroup = big ? await bigFile(false, true) : undefined;
  const tSmallJl = await best(() => jsonlFirst(smallJl));
  const tSmallPq = await best(() => parquetFirst(smallPq));
  process.stdout.write(`first ${FIRST} records, best of ${RUNS}:\n`);
  process.stdout.write(
    `  small JSONL (${statSync(smallJl).size} B, dataset store): ${tSmallJl.toFixed(1)} ms\n`,
  );
  process.stdout.write(
    `  small Parquet (${statSync(smallPq).size} B): ${tSmallPq.toFixed(1)} ms (${(tSmallPq / tSmallJl).toFixed(2)}x small JSONL)\n`,
  );
  const tSmallStore = await best(() => storeFirst(smallPq));
  process.stdout.write(
    `  small Parquet in the dialogue editor's store: ${tSmallStore.toFixed(1)} ms (${(tSmallStore / tSmallJl).toFixed(2)}x small JSONL)\n`,
  );
  if (!big) return;
  const tBigStore = await best(() => storeFirst(big));
  process.stdout.write(
    `  big Parquet in the dialogue editor's store: ${tBigStore.toFixed(1)} ms (${(tBigStore / tSmallJl).toFixed(2)}x small JSONL)\n`,
  );
  const tBig = await best(() => parquetFirst(big));
  const src = await ParquetRowSource.open(big);
  const { rowCount } = src;
  const groups = src.info.rowGroups.length;
  await src.close();
  process.stdout.write(
    `  ${(statSync(big).size / 1024 ** 3).toFixed(2)} GiB Parquet (${rowCount} rows, ${groups} row groups): ${tBig.toFixed(1)} ms ` +
      `(${(tBig / tSmallPq).toFixed(2)}x small Parquet, ${(tBig / tSmallJl).toFixed(2)}x small JSONL)\n`,
  );
  if (indexed) {
    const tIdx = await best(() => parquetFirst(indexed));
    process.stdout.write(
      `  the same with a page index (${(statSync(indexed).size / 1024 ** 3).toFixed(2)} GiB): ${tIdx.toFixed(1)} ms ` +
        `(${(tIdx / tSmallPq).toFixed(2)}x small Parquet, ${(tIdx / tSmallJl).toFixed(2)}x small JSONL)\n`,
    );
  }
  if (oneGroup) {
    const before = peakRssMiB();
    const tOne = await best(() => storeFirst(oneGroup));
    const one = await ParquetRowSource.open(oneGroup);
    const shape = `${one.rowCount} rows, ${one.info.rowGroups.length} row group`;
    await one.close();
    process.stdout.write(
      `  pyarrow's defaults (${(statSync(oneGroup).size / 1024 ** 3).toFixed(2)} GiB, ${shape}, no page index), dialogue editor's store: ` +
        `${tOne.toFixed(1)} ms (${(tOne / tSmallJl).toFixed(2)}x small JSONL); peak RSS ${before.toFixed(0)} -> ${peakRssMiB().toFixed(0)} MiB\n`,
    );
  }
  // A full streaming read of the big file (what validate/stats/convert do), with its peak memory.
  const before = peakRssMiB();
  const t0 = performance.now();
  const s = await ParquetRowSource.open(big);
  let n = 0;
  for await (const r of s.records()) if (r.record) n++;
  await s.close();
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(
    `full read: ${n} rows in ${secs.toFixed(1)} s (${Math.round(n / secs)} rows/s, ${(statSync(big).size / 1024 ** 2 / secs).toFixed(0)} MiB/s); ` +
      `peak RSS ${before.toFixed(0)} -> ${peakRssMiB().toFixed(0)} MiB\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
