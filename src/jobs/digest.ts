/**
 * The digest job: one entry point for the CLI's `digest` (and the demo's digest) and the
 * `monthlyDigest` Function. The CLI passes `outDir` (the file in `--out`, plus the blob copy); a
 * Function passes none, so the digest is kept in blob storage only. The outcome says what came of
 * it: `complete` when the digest was built, stored and mailed (or mailing is not configured, which
 * the lines say), `partial` when it was stored but the mail failed or its fate is uncertain.
 */
import { runDigestCommand, type DigestCommandOptions, type DigestCommandResult } from '../digest/command';
import type { ScanOutcome } from './scan';

export type DigestJobOptions = DigestCommandOptions;

export interface DigestJobResult extends DigestCommandResult {
  outcome: Exclude<ScanOutcome, 'failed'>;
}

/** Builds, stores, mails and announces one month's digest (see src/digest/command.ts). */
export async function runDigestJob(options: DigestJobOptions & { outDir: string }): Promise<DigestJobResult & { path: string }>;
export async function runDigestJob(options: DigestJobOptions): Promise<DigestJobResult>;
export async function runDigestJob(options: DigestJobOptions): Promise<DigestJobResult> {
  const r = await runDigestCommand(options);
  return { ...r, outcome: r.exitCode === 0 ? 'complete' : 'partial' };
}
