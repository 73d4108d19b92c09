/** The reviewer's name: a configured one, else `git config user.name`, else the OS user name. */
import { execFile } from 'node:child_process';
import * as os from 'node:os';

/** `git config user.name` in `cwd`, undefined when git or the setting is missing. */
export function gitUserName(cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['config', 'user.name'], { cwd, timeout: 5000, windowsHide: true }, (err, stdout) => {
      const name = err ? '' : stdout.trim();
      resolve(name === '' ? undefined : name);
    });
  });
}

export async function reviewerName(configured: string | undefined, cwd: string): Promise<string> {
  const name = configured?.trim();
  if (name) return name;
  const git = await gitUserName(cwd);
  if (git) return git;
  try {
    return os.userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
