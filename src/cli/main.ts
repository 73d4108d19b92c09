function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write('Usage: parrot <validate|stats|convert> [options] FILE...\n');
    return Promise.resolve(0);
  }
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
