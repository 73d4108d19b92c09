import { redact } from '../core/llm/logger';
import { processIO, type CliIO } from './io';

type Command = (args: string[], io: CliIO) => Promise<number>;

/**
 * One line per command. Each command's code is loaded when it runs (`import()`), so that a command
 * does not pay for the start-up of the others' modules (the LLM client, Parquet, the overview...).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  extend: () => import('./commands/extend').then((m) => m.extendCommand),
  capo: () => import('./commands/capo').then((m) => m.capoCommand),
  batch: () => import('./commands/batch').then((m) => m.batchCommand),
  ask: () => import('./commands/ask').then((m) => m.askCommand),
  'asker-data': () => import('./commands/askerData').then((m) => m.askerDataCommand),
  filter: () => import('./commands/filter').then((m) => m.filterCommand),
  eval: () => import('./commands/eval').then((m) => m.evalCommand),
  convert: () => import('./commands/convert').then((m) => m.convertCommand),
  stats: () => import('./commands/stats').then((m) => m.statsCommand),
  validate: () => import('./commands/validate').then((m) => m.validateCommand),
  review: () => import('./commands/review').then((m) => m.reviewCommand),
  export: () => import('./commands/export').then((m) => m.exportCommand),
  register: () => import('./commands/register').then((m) => m.registerCommand),
};

function main(argv: string[]): Promise<number> {
  const io = processIO();
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    io.stdout.write(
      `Usage: parrot <${Object.keys(COMMANDS).join('|')}> [options] FILE...\nRun 'parrot COMMAND --help' for a command's options.\n`,
    );
    return Promise.resolve(0);
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, argv[0]) ? COMMANDS[argv[0]] : undefined;
  if (!command) {
    io.stderr.write(`parrot: unknown command '${argv[0]}' (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return Promise.resolve(2);
  }
  return command().then((run) => run(argv.slice(1), io));
}

let settled = false;
// A command whose work can no longer finish (nothing left to wait on, its promise still pending)
// must not end the process with status 0.
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write('parrot: the command stopped before finishing its work\n');
  process.exitCode = 2;
});
main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (err: unknown) => {
    settled = true;
    process.stderr.write(`parrot: ${redact(err instanceof Error ? err.message : String(err))}\n`);
    process.exitCode = 2;
  },
);
