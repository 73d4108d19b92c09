import { askerDataCommand } from './commands/askerData';
import { extendCommand } from './commands/extend';
import { filterCommand } from './commands/filter';
import { capoCommand } from './commands/capo';
import { batchCommand } from './commands/batch';
import { askCommand } from './commands/ask';
import { evalCommand } from './commands/eval';
import { convertCommand } from './commands/convert';
import { statsCommand } from './commands/stats';
import { validateCommand } from './commands/validate';
import { exportCommand } from './commands/export';
import { reviewCommand } from './commands/review';
import { registerCommand } from './commands/register';
import { redact } from '../core/llm/logger';
import { processIO, type CliIO } from './io';

type Command = (args: string[], io: CliIO) => Promise<number>;

/** One line per command. */
const COMMANDS: Record<string, Command> = {
  extend: extendCommand,
  capo: capoCommand,
  batch: batchCommand,
  ask: askCommand,
  'asker-data': askerDataCommand,
  filter: filterCommand,
  eval: evalCommand,
  convert: convertCommand,
  stats: statsCommand,
  validate: validateCommand,
  review: reviewCommand,
  export: exportCommand,
  register: registerCommand,
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
  return command(argv.slice(1), io);
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
