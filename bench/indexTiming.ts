/**
 * Timing helpers of the index benchmarks on a shared machine: wall and CPU time of a run in this
 * process (all threads, workers included) or of a child process (`wc -l`), the load average, and
 * a file's pages dropped from the page cache (`dd iflag=nocache`, that file only) for cold-ish
 * rounds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

export interface Timed {
  wall: number;
  cpu: number;
}

/** CPU seconds of the waited-for children of this process (utime + stime of /proc/self/stat). */
function childCpu(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime (clock ticks, 100 Hz)
  } catch {
    return NaN;
  }
}

/** Wall and CPU time (this process, every thread) of `fn`. */
export async function timeHere(fn: () => Promise<void>): Promise<Timed> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

/** Wall and CPU time of a child process; its stdout. */
export function timeChild(cmd: string, args: string[]): Timed & { out: string } {
  const c0 = childCpu();
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return { wall, cpu: childCpu() - c0, out: r.stdout };
}

/** Drops `file`'s pages from the page cache (POSIX_FADV_DONTNEED through GNU dd); false when it cannot. */
export function dropFromCache(file: string): boolean {
  try {
    execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
    return true;
  } catch {
    return false;
  }
}

export const load = (): string => loadavg()[0].toFixed(1);

export const best = (xs: Timed[]): Timed => xs.reduce((a, b) => (b.wall < a.wall ? b : a));

export const fmtT = (t: Timed): string => `${t.wall.toFixed(3)} s (CPU ${t.cpu.toFixed(2)} s)`;
