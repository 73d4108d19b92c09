import { Writable } from 'node:stream';
import { redact } from '../core/llm/logger';
/** Where a CLI command writes; injected so tests can capture output. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Whether stderr is a terminal (progress lines are shown only then). */
  isTTY: boolean;
}

/**
 * The process's streams. Everything written to stderr (messages, errors, progress) goes through
 * `redact`: the key in use and anything that looks like a secret never reach the terminal or a log.
 */
export function processIO(): CliIO {
  endQuietlyOnBrokenPipe();
  const stderr = new Writable({
    write(chunk: Buffer | string, _enc, cb): void {
      process.stderr.write(redact(chunk.toString()), cb);
    },
  });
  return { stdout: process.stdout, stderr, isTTY: process.stderr.isTTY === true };
}

/** A carriage-return progress line on stderr, only when stderr is a terminal; throttled. */
export function progress(io: CliIO): { update(text: string): void; done(): void } {
  let last = 0;
  let shown = false;
  return {
    update(text: string): void {
      if (!io.isTTY) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      shown = true;
      io.stderr.write(`\r${text}\x1b[K`);
    },
    done(): void {
      if (shown) io.stderr.write('\r\x1b[K');
    },
  };
}

let pipeWatched = false;

/**
 * A reader that stops early (`parrot stats … | head`) closes the pipe: the next write fails with
 * EPIPE. That is no error of the command: the process ends at once, quietly, with status 0 (what the
 * reader wanted has been written). Other write errors keep their usual handling.
 */
function endQuietlyOnBrokenPipe(): void {
  if (pipeWatched) return;
  pipeWatched = true;
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      // As without this listener: an error nobody else handles is thrown.
      if (stream.listenerCount('error') === 1) throw e;
    });
}
