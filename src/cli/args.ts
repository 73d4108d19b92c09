/** The one argument parser every `parrot` command uses (node:util parseArgs), with a uniform --help. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CliIO } from './io';

type Options = NonNullable<ParseArgsConfig['options']>;

export type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O; allowPositionals: true; strict: true; args: string[] }>
>;

/**
 * Parses `args` for `command`. Returns the parsed values, or an exit code: 0 after printing `help`
 * for -h/--help, 2 after printing a usage error.
 */
export function parseCommandArgs<O extends Options>(
  command: string,
  args: string[],
  options: O,
  help: string,
  io: CliIO,
): Parsed<O> | number {
  if (args.includes('-h') || args.includes('--help')) {
    io.stdout.write(help);
    return 0;
  }
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    io.stderr.write(
      `parrot ${command}: ${e instanceof Error ? e.message : String(e)}\nRun 'parrot ${command} --help' for usage.\n`,
    );
    return 2;
  }
}

export function usageError(command: string, message: string, io: CliIO): number {
  io.stderr.write(`parrot ${command}: ${message}\nRun 'parrot ${command} --help' for usage.\n`);
  return 2;
}
