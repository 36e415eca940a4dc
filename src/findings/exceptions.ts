/**
 * Exceptions — 例外措置 (standard 9; controls.md "Exceptions"). An unexpired exception that
 * covers a finding marks it `excepted` (no ticket, no alert; the digest lists it). An exception
 * is in force from the start of `approvedOn` to the end of `expiresOn`, in the organisation's
 * time zone; an expired one covers nothing.
 */
import { DateTime } from 'luxon';
import type { Policy, PolicyException } from '../config/policy';
import type { Finding } from './finding';

/** True while the exception is in force at `now`. */
export function inForce(e: PolicyException, now: Date, timeZone: string): boolean {
  const start = DateTime.fromISO(e.approvedOn, { zone: timeZone }).startOf('day');
  const end = DateTime.fromISO(e.expiresOn, { zone: timeZone }).endOf('day');
  const t = DateTime.fromJSDate(now);
  return t >= start && t <= end;
}

/** Whether an exception's subject covers a finding: `*`, the subject id, its UPN/name, or a URL prefix. */
export function covers(e: PolicyException, finding: Finding): boolean {
  if (e.ruleId !== finding.ruleId) return false;
  const want = e.subject.trim().toLowerCase();
  if (want === '*') return true;
  const { id, name, url } = finding.subject;
  if (want === id.toLowerCase() || want === name.toLowerCase()) return true;
  if (want.startsWith('https://')) {
    // Whole path segments, as the asset register matches: /sites/jinji is not /sites/jinji2.
    const target = (url ?? name).toLowerCase().replace(/\/+$/, '');
    const prefix = want.replace(/\/+$/, '');
    return target === prefix || target.startsWith(`${prefix}/`);
  }
  return false;
}

/** What a finding's evidence (and the digest's exception list) records of the exception covering it. */
export function exceptionRecord(e: PolicyException): Pick<PolicyException, 'subject' | 'reason' | 'approvedBy' | 'compensatingControl' | 'approvedOn' | 'expiresOn'> {
  return { subject: e.subject, reason: e.reason, approvedBy: e.approvedBy, compensatingControl: e.compensatingControl, approvedOn: e.approvedOn, expiresOn: e.expiresOn };
}

/** Marks findings covered by an exception in force as `excepted`, with the exception in evidence. */
export function applyExceptions(findings: readonly Finding[], policy: Policy, now: Date): Finding[] {
  const active = policy.exceptions.filter((e) => inForce(e, now, policy.organization.timeZone));
  return findings.map((f) => {
    const e = active.find((x) => covers(x, f));
    if (!e) return f;
    return {
      ...f,
      status: 'excepted',
      evidence: {
        ...f.evidence,
        exception: exceptionRecord(e),
      },
    };
  });
}
