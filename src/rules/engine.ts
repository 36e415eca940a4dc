/**
 * Runs the rules over a snapshot. A rule runs only when every slice it requires was collected
 * (complete or partial); otherwise it is skipped and its area's coverage (partial, or failed when
 * no rule of the area could run) says why — a failed collection is never read as "no findings"
 * (ScubaGear reports Error, not Pass).
 */
import { collapseCauses } from '../report/causes';
import type { Policy } from '../config/policy';
import type { Coverage, CoverageStatus, SliceName, Snapshot } from '../collect/snapshot';
import { AREA_PRIMARY_SLICE } from '../collect/snapshot';
import { fingerprint, type Finding } from '../findings/finding';
import type { Area, RuleId } from './ids';
import type { AnyRule } from './rule';

export interface Evaluation {
  findings: Finding[];
  coverage: Partial<Record<Area, Coverage>>;
  /** Rules that did not run, and why. */
  skipped: Array<{ ruleId: string; reason: string }>;
  /** Rules that ran on complete inputs: the ledger may resolve their findings (ledger.ts). */
  completeRules: RuleId[];
  /** Subject-id prefixes (ending in `/`) or whole subject ids the slices hold (`holds`): nothing under them resolves. */
  holds: string[];
}

/** Undecided subjects named per rule in the coverage detail; the rest are counted. */
const UNDECIDED_SHOWN = 10;

const RANK: Record<CoverageStatus, number> = { complete: 0, partial: 1, failed: 2 };

/** The slices that the rules of the given areas read. */
export function slicesFor(rules: readonly AnyRule[], areas: readonly Area[]): SliceName[] {
  return [...new Set(rules.filter((r) => areas.includes(r.area)).flatMap((r) => r.requires))];
}

/** The slices a rule requires that were not collected (absent or failed): it cannot run. */
function missingInputs(snapshot: Snapshot, rule: AnyRule): SliceName[] {
  return rule.requires.filter((name) => {
    const s = snapshot.slices[name];
    return !s || s.status === 'failed';
  });
}

/**
 * Coverage of each area. *failed* when none of its rules could run; otherwise the worst status
 * among the slices its runnable rules read (MFA-01 over roles without PIM data cannot vouch for
 * eligible admins, so mfa is partial then too), and at best *partial* when some of its rules
 * could not run (a tenant without Entra ID P1: ACCT-02/06 skipped, the other account rules run).
 * The detail names every slice that was not complete and every rule not evaluated.
 */
export function coverageOf(
  snapshot: Snapshot,
  rules: readonly AnyRule[],
  areas: readonly Area[],
  undecided: Partial<Record<Area, string[]>> = {},
): Partial<Record<Area, Coverage>> {
  const coverage: Partial<Record<Area, Coverage>> = {};
  for (const area of areas) {
    const slices = slicesFor(rules, [area]);
    if (!slices.length) continue;
    const areaRules = rules.filter((r) => r.area === area);
    const runnable = areaRules.filter((r) => missingInputs(snapshot, r).length === 0);
    const skipped = areaRules.filter((r) => missingInputs(snapshot, r).length > 0);
    let status: CoverageStatus = runnable.length ? 'complete' : 'failed';
    for (const name of slicesFor(runnable, [area])) {
      const s: CoverageStatus = snapshot.slices[name]?.status ?? 'failed';
      if (RANK[s] > RANK[status]) status = s;
    }
    if (skipped.length && status === 'complete') status = 'partial';
    const notDecided = undecided[area] ?? [];
    if (notDecided.length && status === 'complete') status = 'partial';
    // One line per cause: a refused token fails every slice alike (report/causes.ts).
    const failures: Array<{ label: string; message: string }> = [];
    for (const name of slices) {
      const slice = snapshot.slices[name];
      if (!slice) failures.push({ label: name, message: 'not collected' });
      else if (slice.detail) failures.push({ label: name, message: slice.detail });
    }
    const details: string[] = collapseCauses(failures);
    if (skipped.length && runnable.length) {
      details.push(`not evaluated: ${skipped.map((r) => `${r.id} (needs ${missingInputs(snapshot, r).join(', ')})`).join(', ')}`);
    }
    details.push(...notDecided);
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
  const completeRules: RuleId[] = [];
  const undecided: Partial<Record<Area, string[]>> = {};
  for (const rule of rules.filter((r) => areas.includes(r.area))) {
    const missing = missingInputs(snapshot, rule);
    if (missing.length) {
      skipped.push({ ruleId: rule.id, reason: `input not collected: ${missing.join(', ')}` });
      continue;
    }
    // Complete inputs; or partial ones whose every gap is held (a failed shard range: nothing
    // under its holds resolves, the rest does — findings/ledger.ts).
    const vouched = (name: SliceName): boolean => {
      const s = snapshot.slices[name];
      return s?.status === 'complete' || (s?.status === 'partial' && s.gapsHeld === true && (s.holds?.length ?? 0) > 0);
    };
    const input = Object.fromEntries(
      rule.requires.map((name) => [name, (snapshot.slices[name] as { data: unknown }).data]),
    ) as Parameters<AnyRule['evaluate']>[0];
    const ctx = { policy, now, tenantId: snapshot.tenantId };
    const notes = rule.undecided?.(input, ctx) ?? [];
    if (notes.length) {
      const shown = notes.slice(0, UNDECIDED_SHOWN);
      const more = notes.length - shown.length;
      (undecided[rule.area] ??= []).push(`${rule.id} not decided for ${notes.length}: ${shown.join('; ')}${more ? `; and ${more} more` : ''}`);
    } else if ((rule.resolvesOn ?? rule.requires).every(vouched)) completeRules.push(rule.id);
    const seen = new Set<string>();
    for (const draft of rule.evaluate(input, ctx)) {
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
  const holds = slicesFor(rules, areas).flatMap((name) => {
    const slice = snapshot.slices[name];
    return slice && slice.status !== 'failed' ? (slice.holds ?? []) : [];
  });
  return { findings, coverage: coverageOf(snapshot, rules, areas, undecided), skipped, completeRules, holds };
}
