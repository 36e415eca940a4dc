/**
 * Policy warnings: what is valid but almost certainly not meant, reported on the CLI's stderr
 * (never an error: the run goes on). An exception already past its `expiresOn` covers nothing
 * any more (findings it covered come back as open, with tickets); a policy naming no owner at all
 * (no ciso, no systemAdministrators, no departments) leaves every ticket without an assignee.
 */
import { DateTime } from 'luxon';
import type { Policy } from './policy';

/** The warnings of a validated policy at `now`, one `path: message` line each. */
export function policyWarnings(policy: Policy, now: Date = new Date()): string[] {
  const warnings: string[] = [];
  const zone = policy.organization.timeZone;
  const today = DateTime.fromJSDate(now, { zone }).toISODate() ?? '';
  policy.exceptions.forEach((e, i) => {
    // In force to the end of `expiresOn` in the organisation's time zone (findings/exceptions.ts).
    if (e.expiresOn < today) {
      warnings.push(
        `exceptions[${i}]: ${e.ruleId} for ${e.subject} expired on ${e.expiresOn} and excepts nothing any more — review it (section 12) and renew expiresOn, or remove the entry`,
      );
    }
  });
  const o = policy.organization;
  if (!o.ciso && o.systemAdministrators.length === 0 && o.departments.length === 0) {
    warnings.push(
      'organization: names no owner at all (no ciso, no systemAdministrators, no departments) — tickets will have no assignee; set at least organization.ciso',
    );
  }
  return warnings;
}
