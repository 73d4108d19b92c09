/** Wall and CPU time of one run (CPU: the whole process, every thread, from `process.cpuUsage`). */
export interface Run {
  wall: number;
  cpu: number;
}

export async function measure(f: () => unknown): Promise<Run> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await f();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

/** The best wall and the best CPU time of several runs (each taken on its own). */
export function bestRun(rs: readonly Run[]): Run {
  return { wall: Math.min(...rs.map((r) => r.wall)), cpu: Math.min(...rs.map((r) => r.cpu)) };
}
