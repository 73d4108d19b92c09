import { extendCommand } from './commands/extend';
import { capoCommand } from './commands/capo';
import { batchCommand } from './commands/batch';
import { askCommand } from './commands/ask';
import { evalCommand } from './commands/eval';
import { convertCommand } from './commands/convert';
import { statsCommand } from './commands/stats';
import { validateCommand } from './commands/validate';
import { processIO, type CliIO } from './io';

type Command = (args: string[], io: CliIO) => Promise<number>;

/** One line per command. */
const COMMANDS: Record<string, Command> = {
  extend: extendCommand,
  capo: capoCommand,
  batch: batchCommand,
  ask: askCommand,
  eval: evalCommand,
  convert: convertCommand,
  stats: statsCommand,
  validate: validateCommand,
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`parrot: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
