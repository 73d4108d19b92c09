// Runs tasks side by side and fails if any of them fails. A task is an npm script name, or a .js
// file run with node. By default each task's output is printed whole when it ends, so that the logs
// do not interleave; with --stream, lines are printed as they come, each after its task's name.
// Usage: node scripts/parallel.mjs [--stream] lint typecheck
//        node scripts/parallel.mjs --stream out/test/runner/integration.js out/test/e2e/run.js
import { spawn } from 'node:child_process';

const args = process.argv.slice(2);
const stream = args.includes('--stream');
const tasks = args.filter((a) => a !== '--stream');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const width = Math.max(...tasks.map((t) => label(t).length));

/** An npm script by its name; a file by its path, without out/test/ and .js ("e2e/run"). */
function label(task) {
  return task.endsWith('.js') ? task.replace(/^(\.\/)?out\/test\//, '').replace(/\.js$/, '') : task;
}

/** Calls `write` with each whole line of a stream (the last one at its end). */
function lines(readable, write) {
  let rest = '';
  readable.setEncoding('utf8');
  readable.on('data', (d) => {
    const parts = (rest + d).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) write(p);
  });
  readable.on('end', () => rest && write(rest));
}

const started = Date.now();
const results = await Promise.all(
  tasks.map(
    (task) =>
      new Promise((resolve) => {
        const [cmd, cmdArgs] = task.endsWith('.js') ? [process.execPath, [task]] : [npm, ['run', '-s', task]];
        const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
        const name = label(task);
        let out = '';
        const put = stream
          ? (line) => process.stdout.write(`${name.padEnd(width)} | ${line}\n`)
          : (line) => (out += line + '\n');
        lines(child.stdout, put);
        lines(child.stderr, put);
        child.on('close', (code) => resolve({ name, code, out, seconds: (Date.now() - started) / 1000 }));
      }),
  ),
);
for (const r of results) {
  const status = r.code === 0 ? 'ok' : `failed (exit ${r.code})`;
  process.stdout.write(`> ${r.name}: ${status} after ${r.seconds.toFixed(0)} s\n${r.out}`);
}
process.exitCode = results.every((r) => r.code === 0) ? 0 : 1;
