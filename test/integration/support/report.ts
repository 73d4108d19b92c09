import * as fs from 'node:fs';

/**
 * Prints a line in the test report: appended to the file the runner streams (PARROT_TEST_OUTPUT)
 * when there is one, else to the console (desktop runs through @vscode/test-cli).
 */
export function report(line: string): void {
  const file = process.env.PARROT_TEST_OUTPUT;
  if (file) fs.appendFileSync(file, line + '\n');
  else console.log(line);
}
