// Runs npm scripts side by side and fails if any of them fails; each one's output is printed
// whole, after it ends, so the logs do not interleave. Usage: node scripts/parallel.mjs lint typecheck
import { spawn } from 'node:child_process';

const scripts = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const results = await Promise.all(
  scripts.map(
    (name) =>
      new Promise((resolve) => {
        const child = spawn(npm, ['run', '-s', name], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('close', (code) => resolve({ name, code, out }));
      }),
  ),
);
for (const r of results) {
  process.stdout.write(`> ${r.name}: ${r.code === 0 ? 'ok' : `failed (exit ${r.code})`}\n${r.out}`);
}
process.exitCode = results.every((r) => r.code === 0) ? 0 : 1;
