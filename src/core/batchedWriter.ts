import { once } from 'node:events';
import type { FileHandle } from 'node:fs/promises';

/**
 * Output collected in memory and written in pieces of about `limit` bytes (1 MiB), so that a run
 * over millions of records makes a few hundred writes instead of one per record. `write` returns a
 * promise only when it wrote (wait for it); `flush` writes what is left. Strings are measured in
 * UTF-16 units, a close enough estimate of their bytes. One writer for every output of the project:
 * a stream (`toStream`) or an open file (`toFile`).
 */
export class BatchedWriter {
  private parts: string[] = [];
  private size = 0;

  constructor(
    private readonly put: (chunk: string | Buffer) => Promise<void>,
    private readonly limit = 1 << 20,
  ) {}

  /** Writes to a stream, waiting for 'drain' when it asks. */
  static toStream(sink: NodeJS.WritableStream): BatchedWriter {
    return new BatchedWriter(async (chunk) => {
      if (!sink.write(chunk)) await once(sink, 'drain');
    });
  }

  /** Writes to an open file (e.g. the temporary file of an atomic write). */
  static toFile(fh: FileHandle): BatchedWriter {
    return new BatchedWriter(async (chunk) => {
      await (typeof chunk === 'string' ? fh.write(chunk) : fh.write(chunk));
    });
  }

  write(chunk: string | Buffer): Promise<void> | undefined {
    if (typeof chunk !== 'string') return this.flush().then(() => this.put(chunk));
    this.parts.push(chunk);
    this.size += chunk.length;
    return this.size >= this.limit ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.length === 1 ? this.parts[0] : this.parts.join('');
    this.parts = [];
    this.size = 0;
    await this.put(text);
  }
}
