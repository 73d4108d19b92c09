/**
 * What the dialogue editor tells the user about saving Parquet: a codec this VS Code cannot write
 * (zstd needs Node.js 22.15 or later), which the save replaced by snappy; and that a JSON Lines or
 * JSON array document is not written as Parquet by Save As.
 */
import * as vscode from 'vscode';
import { isParquetPath } from '../../core/store/containers/parquet';
import type { RecordStore } from '../../core/store';

/** After a Parquet save: says plainly which columns' codec could not be written, and what was. */
export function reportCodecFallbacks(store: RecordStore, fileName: string): void {
  if (store.containerKind !== 'parquet') return;
  const fallbacks = store.lastWrite?.codecFallbacks ?? [];
  if (fallbacks.length === 0) return;
  const wanted = [...new Set(fallbacks.map((f) => f.wanted))].join(', ');
  const columns = fallbacks.map((f) => f.column).join(', ');
  void vscode.window.showWarningMessage(
    vscode.l10n.t(
      '{0} was saved with the SNAPPY codec instead of {1} (columns: {2}): this VS Code runs Node.js {3}, which cannot compress {1}. Every row, the schema and the metadata are kept; only the compression differs.',
      fileName,
      wanted,
      columns,
      process.versions.node,
    ),
  );
}

/** Refuses Save As of a JSON Lines / JSON array document to a `.parquet` name (it would write text). */
export function refuseTextAsParquet(store: RecordStore, target: string): void {
  if (store.containerKind === 'parquet' || !isParquetPath(target)) return;
  throw new Error(
    vscode.l10n.t(
      'Save As writes the same kind of file: a .parquet name would get JSON text. To write Parquet, convert the dataset (`parrot convert {0} -o {1}`).',
      store.path,
      target,
    ),
  );
}
