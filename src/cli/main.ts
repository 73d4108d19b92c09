import { validateCommand } from './commands/validate';
import { processIO, type CliIO } from './io';

/** The command table: one line per command. */
const COMMANDS: Record<string, (args: string[], io: CliIO) => Promise<number>> = {
  validate: validateCommand,
};

function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(`Usage: parrot <${Object.keys(COMMANDS).join('|')}> [options] FILE...\n`);
    return Promise.resolve(0);
  }
  const command = COMMANDS[argv[0]];
  if (command) return command(argv.slice(1), processIO());
  process.stderr.write(`parrot: unknown command '${argv[0]}'\n`);
  return Promise.resolve(2);
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
