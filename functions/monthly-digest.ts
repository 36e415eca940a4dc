/**
 * monthlyDigest: the CISO digest of the last full month, timer. Default schedule `0 0 0 1 * *` =
 * 00:00 UTC on the 1st = 09:00 JST on the 1st (M365_AUDIT_SCHEDULE_MONTHLY_DIGEST overrides it).
 * Kept in blob storage only (digests/<tenant>/<YYYY-MM>.html), mailed once to organization.ciso
 * from M365_AUDIT_MAIL_SENDER, announced in Teams when TEAMS_WEBHOOK_URL is set.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { scheduleFromEnv } from '../src/config/settings';
import { depsFromSettings, digestFromDeps, type ScanDeps } from '../src/runtime';

/** Builds the handler around its dependencies (tests pass the simulator's and the test Azurite). */
export function monthlyDigestHandler(deps: () => Promise<ScanDeps>) {
  return async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const d = await deps();
    const r = await digestFromDeps(d);
    // Ids and statuses only: the recipient's address is personal data and stays out of the log.
    const line = JSON.stringify({ event: 'm365-audit.digest', tenantId: d.tenantId, month: r.month, outcome: r.outcome, stored: r.stored.replace(/\?.*$/, ''), mail: r.mail.status, card: r.card?.status });
    if (r.outcome === 'complete') context.log(line);
    else context.warn(line);
  };
}

app.timer('monthlyDigest', { schedule: scheduleFromEnv('M365_AUDIT_SCHEDULE_MONTHLY_DIGEST'), handler: monthlyDigestHandler(() => depsFromSettings()) });
