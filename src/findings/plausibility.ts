/**
 * Plausibility before resolution (issue 9): a collection that Graph answered well-formed but that
 * cannot be right — no users at all, no sites, no mailbox read, or far fewer than the last scan
 * that read them completely — must not be taken as *complete*, or the ledger would resolve every
 * finding it did not see (an empty user list once resolved 17 findings and closed 16 tickets).
 *
 * Pure: {@link checkPlausibility} takes the collected slices and the counts of earlier scans and
 * returns the slices to treat as partial (with the reason, naming both counts); the pipeline marks
 * them so before the rules run, so that neither the area's coverage nor any rule reading them is
 * complete and nothing they feed resolves (ledger.ts). The share guard for mass resolution is in
 * ledger.ts (`reconcile`, `guard`).
 *
 * What is compared, per slice (the population measures of each area, not what remediation shrinks):
 * - `users`, `signInActivity`, `directory` (accounts; the same user list read three ways): zero is
 *   suspect — a tenant always has at least the administrator who consented to this application —
 *   and so is a drop below `plausibility.minFractionOfLast` of the last complete read. A
 *   `signInActivity` slice read incrementally (`slice.incremental`, collect/identity.ts) holds only
 *   the candidates of ACCT-02/06 — small, even zero, by design — so its count is neither checked
 *   nor kept as a baseline; the `users` and `directory` lists of the same scan still are.
 * - `mfaRegistration` (mfa): unfiltered, one record per user, so the same two checks. Filtered
 *   (`readFilter`, issue 13: the unregistered users plus the role holders' records), its count
 *   shrinks as users register — the remediation — and can legitimately be 0 unregistered, so
 *   there is no fraction check and the count is kept as no baseline. Zero is still suspect when
 *   role holders' records were asked for too: a tenant always has an enabled administrator, and
 *   the report holds every enabled user. A mass resolution is still held by ledger.ts's share
 *   guard.
 * - `roles` (roles): zero assignments and eligibilities is suspect (a tenant keeps at least one
 *   Global Administrator); no fraction, because removing surplus admins is the remediation of
 *   ACCT-04 and legitimately shrinks the count.
 * - `mailRules` (mail): no mailbox read is suspect; a drop below the fraction too.
 * - `appGrants` (apps): zero service principals is suspect (Microsoft's own are always there); a
 *   drop below the fraction too.
 * - `sites` (files): zero sites is suspect (a SharePoint tenant always has its root site); a drop
 *   below the fraction too. The files area's own count (`sharing`, shared items) is not compared:
 *   unsharing is the remediation and can legitimately bring it near zero. The sites count is the
 *   files measure, and `sharing` is suspect whenever the site list it was read from is.
 * - `signIns`: never (a quiet window reads zero sign-ins legitimately).
 */
import type { Area } from '../rules/ids';
import type { Slice, SliceName, Snapshot } from '../collect/snapshot';
import { AREA_PRIMARY_SLICE } from '../collect/snapshot';

/** The policy keys (`plausibility.*`, policy.ts). */
export interface PlausibilityPolicy {
  minFractionOfLast: number;
  maxResolvedShare: number;
  minOpenForShare: number;
}

interface Check {
  /** What the count counts, for the message. */
  noun: string;
  /** The request that answered. */
  endpoint: string;
  /** Why zero cannot be right. */
  zero: string;
  /** Whether a drop below the fraction of the last complete read is suspect. */
  fraction: boolean;
}

/** The slices checked, and how. */
export const PLAUSIBILITY_CHECKS: Partial<Record<SliceName, Check>> = {
  users: { noun: 'users', endpoint: 'GET /users', zero: 'a tenant always has at least its administrator', fraction: true },
  signInActivity: { noun: 'users', endpoint: 'GET /users (signInActivity)', zero: 'a tenant always has at least its administrator', fraction: true },
  directory: { noun: 'users', endpoint: 'GET /users (directory listing)', zero: 'a tenant always has at least its administrator', fraction: true },
  mfaRegistration: { noun: 'registration records', endpoint: 'GET userRegistrationDetails', zero: 'the report lists every user, and a tenant always has at least its administrator', fraction: true },
  roles: { noun: 'role assignments', endpoint: 'GET roleAssignments', zero: 'a tenant always keeps at least one Global Administrator', fraction: false },
  mailRules: { noun: 'mailboxes read', endpoint: 'GET /users/{id}/mailFolders/inbox/messageRules', zero: 'no mailbox at all was read', fraction: true },
  sites: { noun: 'sites', endpoint: 'GET /sites/getAllSites', zero: 'a SharePoint tenant always has its root site', fraction: true },
  // APP-01: every tenant holds Microsoft's first-party service principals (Microsoft Graph among them).
  appGrants: { noun: 'service principals', endpoint: 'GET /servicePrincipals', zero: "a tenant always holds Microsoft's own service principals (Microsoft Graph among them)", fraction: true },
};

/** Slices read from another slice: suspect when it is. */
const DERIVED: Partial<Record<SliceName, SliceName>> = { sharing: 'sites', mailRules: 'directory' };

/** A count seen by an earlier scan. */
export interface Baseline {
  items: number;
  scanId: string;
  startedAt: string;
}

/** What an earlier scan left: its id, time, coverage and (from this release) its plausible slice counts. */
export interface BaselineSource {
  scanId: string;
  startedAt: string;
  coverage: Partial<Record<Area, { status: string; items: number }>>;
  slices?: Partial<Record<SliceName, number>>;
}

/**
 * The newest complete, plausible count of each checked slice among `records` (newest first).
 * Records written before slice counts were kept give the primary slice of each area whose coverage
 * was complete (AREA_PRIMARY_SLICE: users, mfaRegistration, mailRules, …) — like with like.
 */
export function baselinesFrom(records: readonly BaselineSource[]): Partial<Record<SliceName, Baseline>> {
  const out: Partial<Record<SliceName, Baseline>> = {};
  for (const r of records) {
    const counts: Partial<Record<SliceName, number>> = { ...(r.slices ?? {}) };
    if (!r.slices) {
      for (const [area, c] of Object.entries(r.coverage) as Array<[Area, { status: string; items: number }]>) {
        const primary = AREA_PRIMARY_SLICE[area];
        if (primary && c.status === 'complete') counts[primary] = c.items;
      }
    }
    for (const [name, items] of Object.entries(counts) as Array<[SliceName, number]>) {
      if (!PLAUSIBILITY_CHECKS[name] || out[name] || typeof items !== 'number') continue;
      out[name] = { items, scanId: r.scanId, startedAt: r.startedAt };
    }
  }
  return out;
}

/** A slice found implausible, and why. */
export interface Suspect {
  slice: SliceName;
  reason: string;
}

/**
 * Finds the complete slices whose counts are implausible. `confirmed` (the operator checked:
 * `--confirm-resolutions`) accepts a drop below the fraction — the tenant really shrank — but never
 * a zero, which no real tenant answers.
 */
export function checkPlausibility(
  slices: Snapshot['slices'],
  baselines: Partial<Record<SliceName, Baseline>>,
  policy: PlausibilityPolicy,
  confirmed = false,
): Suspect[] {
  const out: Suspect[] = [];
  for (const [name, check] of Object.entries(PLAUSIBILITY_CHECKS) as Array<[SliceName, Check]>) {
    const slice = slices[name];
    if (!slice || slice.status !== 'complete' || slice.incremental) continue;
    const n = slice.items;
    const last = baselines[name];
    const was = last ? `; the last complete scan (${last.startedAt}, ${last.scanId}) saw ${last.items}` : '';
    const filtered = slice.readFilter;
    if (filtered) {
      const asked = filtered.alsoRead?.length ?? 0;
      if (n === 0 && asked > 0) {
        out.push({ slice: name, reason: `suspect: ${check.endpoint} answered with 0 ${check.noun} under $filter=${filtered.filter}, though the records of ${asked} role holder(s) were asked for too, and a tenant always has an enabled administrator in the report; nothing is resolved from this answer — check the application's permissions and the tenant, then run again` });
      }
      continue;
    }
    if (n === 0) {
      out.push({ slice: name, reason: `suspect: ${check.endpoint} answered with 0 ${check.noun}${was}, and ${check.zero}; nothing is resolved from this answer — check the application's permissions and the tenant, then run again` });
    } else if (check.fraction && last && !confirmed && policy.minFractionOfLast > 0 && n < last.items * policy.minFractionOfLast) {
      out.push({
        slice: name,
        reason: `suspect: ${check.endpoint} answered with ${n} ${check.noun}, fewer than ${Math.round(policy.minFractionOfLast * 100)}% (plausibility.minFractionOfLast) of the ${last.items} the last complete scan saw (${last.startedAt}, ${last.scanId}); nothing is resolved from this answer — if the tenant really shrank, run again with --confirm-resolutions`,
      });
    }
  }
  for (const [name, source] of Object.entries(DERIVED) as Array<[SliceName, SliceName]>) {
    const slice = slices[name];
    if (!slice || slice.status !== 'complete' || out.some((s) => s.slice === name)) continue;
    if (out.some((s) => s.slice === source)) out.push({ slice: name, reason: `suspect: read from the ${source} slice, which is suspect` });
  }
  return out;
}

/** The slices with the suspects marked partial, their reason added to the detail. */
export function markSuspects(slices: Snapshot['slices'], suspects: readonly Suspect[]): Snapshot['slices'] {
  const out = { ...slices } as Record<string, Slice<unknown>>;
  for (const s of suspects) {
    const slice = out[s.slice];
    if (!slice || slice.status === 'failed') continue;
    out[s.slice] = { ...slice, status: 'partial', detail: slice.detail ? `${slice.detail}; ${s.reason}` : s.reason };
  }
  return out as Snapshot['slices'];
}

/** The counts of the checked slices that are complete (after marking): the next scans' baselines. */
export function plausibleCounts(slices: Snapshot['slices']): Partial<Record<SliceName, number>> {
  const out: Partial<Record<SliceName, number>> = {};
  for (const name of Object.keys(PLAUSIBILITY_CHECKS) as SliceName[]) {
    const slice = slices[name];
    // A filtered read counts what matched the filter, not the population: no baseline. Nor an
    // incremental signInActivity read: the next full read is compared with the last full one.
    if (slice?.status === 'complete' && !slice.readFilter && !slice.incremental) out[name] = slice.items;
  }
  return out;
}
