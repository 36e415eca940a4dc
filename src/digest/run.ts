/**
 * Building and keeping a month's digest: reads the ledger, the scan records and the month's
 * inventory from the store, computes the model and the HTML (pure), writes
 * `<out>/digest-YYYY-MM.html` (under a temp name, then renamed, so no reader sees half a file)
 * and keeps a copy in blob storage. Mailing is separate ({@link mailDigest}), so that a run can
 * regenerate any month without mailing it again.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import type { Policy } from '../config/policy';
import { ConfigError } from '../errors';
import type { Lang } from '../report/labels';
import type { DigestPort, EvidencePort, LedgerPort, ScanPort, StatePort } from '../store/ports';
import { monthHead } from '../store/evidence';
import { loadInventory } from './inventory';
import { digestModel, monthBounds, type DigestModel } from './model';
import { digestSubject, renderDigestHtml } from './render';

/** Scan records read for a digest: six months of daily scans plus the 15-minute sign-in watch. */
export const DIGEST_SCAN_LIMIT = 50_000;

export interface BuiltDigest {
  model: DigestModel;
  html: string;
  subject: string;
}

/**
 * Checks a `--month` value: `YYYY-MM`, a real month, not after the current month in the
 * organisation's time zone.
 * @throws ConfigError naming `--month` and the fix.
 */
export function checkMonth(month: string, now: Date, timeZone: string): string {
  const ok = /^\d{4}-(0[1-9]|1[0-2])$/.test(month);
  if (!ok) throw new ConfigError('--month is invalid:', [`month: ${JSON.stringify(month)} is not a month written YYYY-MM, e.g. 2026-11`]);
  const current = DateTime.fromJSDate(now, { zone: timeZone }).toFormat('yyyy-MM');
  if (month > current) throw new ConfigError('--month is invalid:', [`month: ${month} has not begun yet in ${timeZone} (it is ${current} there); pick ${current} or earlier`]);
  monthBounds(month, timeZone);
  return month;
}

/** Computes a month's digest from what the store holds. */
export async function buildDigest(o: {
  store: LedgerPort & ScanPort & Pick<StatePort, 'getStateBlob'> & Partial<EvidencePort>;
  policy: Policy;
  tenantId: string;
  month: string;
  now: Date;
  lang: Lang;
}): Promise<BuiltDigest> {
  const { listEvidence, getEvidence } = o.store;
  const evidence = listEvidence && getEvidence
    ? { listEvidence: listEvidence.bind(o.store), getEvidence: getEvidence.bind(o.store), createEvidence: async () => false }
    : undefined;
  const [ledger, scans, inventory, evidenceHead] = await Promise.all([
    o.store.getLedger(o.tenantId),
    o.store.listScans(o.tenantId, DIGEST_SCAN_LIMIT),
    loadInventory({ getStateBlob: (t, k) => o.store.getStateBlob(t, k), putStateBlob: async () => undefined }, o.tenantId, o.month),
    evidence ? monthHead(evidence, o.tenantId, monthBounds(o.month, o.policy.organization.timeZone)) : Promise.resolve(undefined),
  ]);
  const model = digestModel({ month: o.month, tenantId: o.tenantId, entries: ledger.values(), scans, ...(inventory ? { inventory } : {}), ...(evidenceHead ? { evidenceHead } : {}), policy: o.policy, now: o.now });
  const html = await renderDigestHtml(model, o.lang);
  return { model, html, subject: digestSubject(model, o.lang) };
}

/** The digest's file name in `--out`. */
export function digestFileName(month: string): string {
  return `digest-${month}.html`;
}

/** Writes the digest to `<outDir>/digest-YYYY-MM.html` atomically; returns the path. */
export async function writeDigestFile(outDir: string, month: string, html: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, digestFileName(month));
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, html, 'utf8');
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return path;
}

/** Keeps the digest in blob storage (`digests/<tenant>/YYYY-MM.html`); returns its URL or name. */
export async function keepDigest(store: DigestPort, tenantId: string, month: string, html: string): Promise<string> {
  return store.putDigest(tenantId, month, html);
}
