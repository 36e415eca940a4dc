/**
 * Running the built CLI as a child process, as a user would: its exit code and output, and the
 * checks every CLI test shares (no stack trace; is a process still alive).
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve(__dirname, '..', '..', 'dist', 'src', 'cli.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `m365-audit args…` (the built CLI) in `cwd`, with only PATH unless `env` is given. */
export function run(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: options.cwd, env: options.env ?? { PATH: process.env.PATH }, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** A stack trace line (`    at fn (file:line:col)`) or the CLI's catch-all prefix. */
export const STACK = /^\s+at .+[:(]|unexpected error/m;

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
