/**
 * Runs the rules over a snapshot. A rule runs only when every slice it requires was collected
 * (complete or partial); otherwise it is skipped and its area's coverage says why — a failed
 * collection is never read as "no findings" (ScubaGear reports Error, not Pass).
 */
import type { Policy } from '../config/policy';
import type { Coverage, CoverageStatus, SliceName, Snapshot } from '../collect/snapshot';
import { AREA_PRIMARY_SLICE } from '../collect/snapshot';
import { fingerprint, type Finding } from '../findings/finding';
import type { Area } from './ids';
import type { AnyRule } from './rule';

export interface Evaluation {
  findings: Finding[];
  coverage: Partial<Record<Area, Coverage>>;
  /** Rules that did not run, and why. */
  skipped: Array<{ ruleId: string; reason: string }>;
}

const RANK: Record<CoverageStatus, number> = { complete: 0, partial: 1, failed: 2 };

/** The slices that the rules of the given areas read. */
export function slicesFor(rules: readonly AnyRule[], areas: readonly Area[]): SliceName[] {
  return [...new Set(rules.filter((r) => areas.includes(r.area)).flatMap((r) => r.requires))];
}

/**
 * Coverage of each area: the worst status among the slices its rules read (MFA-01 over roles
 * without PIM data cannot vouch for eligible admins, so mfa is partial then too), with the
 * details of every slice that was not complete.
 */
export function coverageOf(snapshot: Snapshot, rules: readonly AnyRule[], areas: readonly Area[]): Partial<Record<Area, Coverage>> {
  const coverage: Partial<Record<Area, Coverage>> = {};
  for (const area of areas) {
    const slices = slicesFor(rules, [area]);
    if (!slices.length) continue;
    let status: CoverageStatus = 'complete';
    const details: string[] = [];
    for (const name of slices) {
      const slice = snapshot.slices[name];
      const s: CoverageStatus = slice?.status ?? 'failed';
      if (RANK[s] > RANK[status]) status = s;
      if (!slice) details.push(`${name}: not collected`);
      else if (slice.detail) details.push(`${name}: ${slice.detail}`);
    }
    const primary = AREA_PRIMARY_SLICE[area] ?? slices[0];
    const items = primary ? (snapshot.slices[primary]?.items ?? 0) : 0;
    coverage[area] = { status, items, ...(details.length ? { detail: details.join('; ') } : {}) };
  }
  return coverage;
}

/** Evaluates the rules of `areas` over the snapshot. Findings come back `open`, dated `now`. */
export function evaluate(snapshot: Snapshot, rules: readonly AnyRule[], policy: Policy, areas: readonly Area[]): Evaluation {
  const now = snapshot.takenAt;
  const at = now.toISOString();
  const findings: Finding[] = [];
  const skipped: Evaluation['skipped'] = [];
  for (const rule of rules.filter((r) => areas.includes(r.area))) {
    const missing = rule.requires.filter((name) => {
      const s = snapshot.slices[name];
      return !s || s.status === 'failed';
    });
    if (missing.length) {
      skipped.push({ ruleId: rule.id, reason: `input not collected: ${missing.join(', ')}` });
      continue;
    }
    const input = Object.fromEntries(
      rule.requires.map((name) => [name, (snapshot.slices[name] as { data: unknown }).data]),
    ) as Parameters<AnyRule['evaluate']>[0];
    const seen = new Set<string>();
    for (const draft of rule.evaluate(input, { policy, now, tenantId: snapshot.tenantId })) {
      const id = fingerprint(rule.id, draft.subject);
      if (seen.has(id)) continue;
      seen.add(id);
      findings.push({
        id,
        ruleId: rule.id,
        clauses: rule.clauses,
        kind: rule.kind,
        severity: draft.severity ?? rule.severity,
        area: rule.area,
        subject: draft.subject,
        title: rule.title,
        evidence: draft.evidence,
        status: 'open',
        firstSeen: at,
        lastSeen: at,
      });
    }
  }
  return { findings, coverage: coverageOf(snapshot, rules, areas), skipped };
}
