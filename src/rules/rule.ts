/**
 * What a rule is: a typed object literal holding everything about it (id, clauses, kind,
 * severity, area, inputs, titles, remediation) and a pure `evaluate` over snapshot slices.
 */
import type { Policy } from '../config/policy';
import type { SliceData, SliceName } from '../collect/snapshot';
import type { LocalText, Subject } from '../findings/finding';
import type { Area, RuleId, Severity } from './ids';

/** What `evaluate` returns for each violation; the engine turns it into a {@link Finding}. */
export interface FindingDraft {
  subject: Subject;
  evidence: Record<string, unknown>;
  /** Only for rules whose severity depends on the case (MAIL-01, FILE-01/02). */
  severity?: Severity;
}

export interface RuleContext {
  policy: Policy;
  /** The scan's start time. */
  now: Date;
  tenantId: string;
}

export interface Rule<R extends SliceName = SliceName> {
  id: RuleId;
  clauses: readonly string[];
  kind: 'state' | 'event';
  /** Default severity (drafts may raise or lower it where controls.md says so). */
  severity: Severity;
  area: Area;
  /** Snapshot slices the rule reads; it does not run when one of them failed. */
  requires: readonly R[];
  /**
   * The inputs that must be complete for a finding's absence to be conclusive, so that the ledger
   * may resolve the rule's findings (default: all of `requires`). Narrower only where an input
   * can merely move a finding to another rule, never hide it (MFA-02 reads roles only to leave
   * privileged users to MFA-01).
   */
  resolvesOn?: readonly R[];
  title: LocalText;
  remediation: LocalText;
  evaluate(input: Pick<SliceData, R>, ctx: RuleContext): FindingDraft[];
  /**
   * Subjects the rule could not decide on this input (a record missing, a value it cannot class),
   * each as a short note naming the subject and why. The engine names them in the area's coverage
   * (then at best partial) and does not let the ledger resolve the rule's findings: not decided
   * is never a pass (MFA-05, ACCT-08).
   */
  undecided?(input: Pick<SliceData, R>, ctx: RuleContext): string[];
}

/** Declares a rule; the identity function exists for type inference of `requires`. */
export function defineRule<R extends SliceName>(rule: Rule<R>): Rule<R> {
  return rule;
}

/** Any rule, whatever its inputs. */
export type AnyRule = Rule<SliceName>;

const DAY_MS = 86_400_000;

/** Whole days (24-hour periods) from `iso` to `now`; controls.md "older than N days" is `> N`. */
export function daysSince(iso: string, now: Date): number {
  return (now.getTime() - Date.parse(iso)) / DAY_MS;
}

/** Case-insensitive membership of a UPN or object id in a list from the policy. */
export function listed(list: readonly string[], ...values: Array<string | null | undefined>): boolean {
  const set = new Set(list.map((v) => v.toLowerCase()));
  return values.some((v) => v !== null && v !== undefined && set.has(v.toLowerCase()));
}
