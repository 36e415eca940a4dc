/**
 * signInWatch: the incremental sign-in watch (area `signins`, from the stored watermark), timer.
 * Default schedule `0 *\/15 * * * *` = every 15 minutes (the same in JST); override with
 * M365_AUDIT_SCHEDULE_SIGNIN_WATCH (NCRONTAB in UTC). Its alerts use the sign-in card.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { scheduleFromEnv } from '../src/config/settings';
import { depsFromSettings, scanAndLog, type ScanDeps } from '../src/runtime';

/** Builds the handler around its dependencies (tests pass the simulator's and the test Azurite). */
export function signInWatchHandler(deps: () => Promise<ScanDeps>) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    const d = await deps();
    // Sign-ins come from the Event Hub (signInStream): two sources must never advance one watermark.
    if (d.signInSource === 'eventhub') {
      context.log(JSON.stringify({ event: 'm365-audit.signin-watch', outcome: 'skipped', reason: 'M365_AUDIT_SIGNIN_SOURCE=eventhub: signInStream reads sign-ins' }));
      return;
    }
    if (timer.isPastDue) context.warn('signInWatch: the timer is past due; reading from the stored watermark as usual');
    await scanAndLog(context, d, { kind: 'signin', areas: ['signins'] });
  };
}

app.timer('signInWatch', { schedule: scheduleFromEnv('M365_AUDIT_SCHEDULE_SIGNIN_WATCH'), handler: signInWatchHandler(() => depsFromSettings()) });
