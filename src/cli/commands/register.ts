import * as path from 'node:path';
import {
  checkDatasetInfo,
  registerDataset,
  type PositionedProblem,
} from '../../core/formats/datasetInfoFiles';
import { parseCommandArgs, usageError } from '../args';
import type { CliIO } from '../io';

const HELP = `Usage: parrot register [--name NAME] FILE

Adds an entry for the dataset FILE (JSONL or a JSON array) to LLaMA-Factory's dataset_info.json in
the same folder (created when there is none), so that LLaMA-Factory reads it with
dataset: NAME. The format is detected from the first 200 records; the entry names its formatting,
ranking, columns (system, tools, images/videos/audios, kto_tag when present) and the role/content
tags of role/content messages. Every other byte of dataset_info.json is kept; the write is atomic.

Then checks the new entry against the file, as 'parrot validate dataset_info.json' does.

Options:
  --name NAME   entry name (default: the file name without .json/.jsonl)
  -h, --help    show this help

Exit status: 0 registered, 1 registered but the check found errors, 2 not registered.
`;

const OPTIONS = { name: { type: 'string' } } as const;

/** One problem of dataset_info.json in the FILE:LINE:COL form of parrot validate. */
export function infoProblemLine(file: string, p: PositionedProblem): string {
  return `${file}:${p.line + 1}:${p.startCol + 1}: ${p.severity} ${p.code}: ${p.message}\n`;
}

export async function registerCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('register', args, OPTIONS, HELP, io);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usageError('register', 'exactly one dataset FILE is needed', io);
  const file = positionals[0];
  let r;
  try {
    r = await registerDataset(file, values.name);
  } catch (e) {
    io.stderr.write(`parrot register: ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const rel = path.relative(process.cwd(), r.infoPath) || r.infoPath;
  io.stderr.write(
    `${rel}: ${r.created ? 'created with' : 'added'} entry "${r.name}" (${r.format}): ${JSON.stringify(r.entry)}\n`,
  );
  const problems = (await checkDatasetInfo(r.infoPath)).filter((p) =>
    p.message.startsWith(`entry "${r.name}"`),
  );
  for (const p of problems) io.stdout.write(infoProblemLine(rel, p));
  return problems.some((p) => p.severity === 'error') ? 1 : 0;
}
