import { checkDatasetInfo } from '../../core/formats/datasetInfoFiles';
import type { CliIO } from '../io';
import { infoProblemLine } from './register';

/**
 * `parrot validate dataset_info.json`: every entry against the file it names. Appends to `report`
 * for --json. Returns the exit status (0, 1 with errors, 2 unreadable).
 */
export async function validateDatasetInfoFile(
  file: string,
  report: Record<string, unknown>[] | undefined,
  io: CliIO,
): Promise<number> {
  try {
    const problems = await checkDatasetInfo(file);
    const errors = problems.filter((p) => p.severity === 'error').length;
    if (report)
      report.push({ file, kind: 'dataset_info', errors, total: problems.length, diagnostics: problems });
    else {
      io.stdout.write(problems.map((p) => infoProblemLine(file, p)).join(''));
      io.stderr.write(
        `${file}: LLaMA-Factory dataset_info.json: ${errors} error(s), ${problems.length - errors} warning(s)\n`,
      );
    }
    return errors > 0 ? 1 : 0;
  } catch (e) {
    io.stderr.write(
      `parrot validate: ${file}: ${e instanceof Error ? e.message : String(e)}; validation stopped\n`,
    );
    return 2;
  }
}
