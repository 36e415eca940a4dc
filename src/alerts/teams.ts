/**
 * The Teams alert sink: one POST of the Workflows webhook message (shared/spec/outputs.md) to
 * `TEAMS_WEBHOOK_URL`. Graph cannot post channel messages with application permissions outside
 * migration, so a Workflows webhook ("Send webhook alerts to a channel") is the supported route;
 * the Office 365 connector URLs it replaces are being retired.
 *
 * What the Teams docs say, and what this does about it:
 * - "Create incoming webhooks": more than four requests in a second throttle the connection, and
 *   retry logic with exponential back-off is the remedy → posts are paced ({@link TeamsWebhookOptions.minIntervalMs},
 *   default 350 ms: under three a second) and 429/5xx are retried with back-off, honouring
 *   Retry-After (seconds or an HTTP date).
 * - The message limit is about 28 KB ("Microsoft Teams" connector, known limitations: "Request
 *   entity too large" past it) → the card builders keep every message under 28,672 bytes; a 413
 *   is still reported as a failure, never retried blindly.
 * - The Workflows trigger answers 202 Accepted with no body; the retired connectors answered
 *   200 `1`, and 200 with an error text (e.g. "Microsoft Teams endpoint returned HTTP error 429")
 *   when Teams refused the message → a 2xx whose body reports an error is a failure (retried when
 *   it names a 429).
 *
 * The URL is a secret (its query string carries the flow's signature): no message, log line or
 * record ever holds it; errors name `TEAMS_WEBHOOK_URL` and the status only.
 */
import { fetch } from 'undici';
import { SinkError } from '../errors';
import type { TeamsMessage } from './cards';

/** One alert going out: its id (on the card and in the ledger) and kind. */
export interface OutgoingAlert {
  alertId: string;
  /** A scan's card, the sign-in watch's, or the monthly digest's announcement. */
  kind: 'run' | 'signin' | 'digest';
  createdAt: string;
}

/** Where alert messages go: Teams, or files for a person to look at (no webhook configured). */
export interface AlertSink {
  /** The ledger's name for the sink's marks (`teams`, `file`). */
  readonly name: string;
  /**
   * True when sending the same alert twice has the effect of sending it once (a file named by
   * the alert id). Teams is not: a resend after an unknown outcome may show the card twice.
   */
  readonly idempotent: boolean;
  /** Delivers the message; throws {@link SinkError} when it was not (or not known to be) accepted. */
  send(message: TeamsMessage, alert: OutgoingAlert): Promise<void>;
}

export interface TeamsWebhookOptions {
  url: string;
  /** Attempts per alert within one run (default 5); what is still refused goes on the next run. */
  maxAttempts?: number;
  /** Least time between two posts (default 350 ms: under Teams' four a second). */
  minIntervalMs?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Longest single wait, whatever Retry-After asks (default 60 s). */
  maxWaitMs?: number;
  /**
   * Most time spent waiting for one alert in one run (default 120 s): the run holds the ledger
   * lease meanwhile, and an alert still refused after that goes on the next run instead.
   */
  waitBudgetMs?: number;
  /** Injected in tests; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Told before each wait (the CLI prints it). */
  onWait?: (wait: { ms: number; reason: string; attempt: number; maxAttempts: number }) => void;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Whether a 2xx body reports an error: a JSON body with `error` or `ok: false`, or a text body
 * that says it failed (the connectors' 200 with "… returned HTTP error 429 …"). Empty, `1` and
 * other JSON are success. Returns the kind of error, or undefined.
 */
export function bodyError(text: string): { throttled: boolean } | undefined {
  const t = text.trim();
  if (t === '' || t === '1') return undefined;
  try {
    const json = JSON.parse(t) as unknown;
    if (json && typeof json === 'object') {
      const o = json as { error?: unknown; ok?: unknown; statusCode?: unknown };
      if (o.ok === false || (o.error !== undefined && o.error !== null && o.error !== false)) {
        return { throttled: /429|throttl|too many/i.test(JSON.stringify(o.error ?? '')) };
      }
      if (typeof o.statusCode === 'number' && o.statusCode >= 400) return { throttled: o.statusCode === 429 };
    }
    return undefined;
  } catch {
    // Not JSON: a text answer.
  }
  if (/error|fail|exception|denied|invalid/i.test(t)) return { throttled: /429|throttl|too many/i.test(t) };
  return undefined;
}

/** Posts alert messages to a Teams Workflows webhook. */
export class TeamsWebhookSink implements AlertSink {
  readonly name = 'teams';
  readonly idempotent = false;
  private lastPost = 0;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: TeamsWebhookOptions) {
    this.sleep = options.sleep ?? defaultSleep;
  }

  async send(message: TeamsMessage, alert: OutgoingAlert): Promise<void> {
    const body = JSON.stringify(message);
    const maxAttempts = this.options.maxAttempts ?? 5;
    const maxWait = this.options.maxWaitMs ?? 60_000;
    let budget = this.options.waitBudgetMs ?? 120_000;
    let lastProblem = '';
    const waitOrStop = async (ms: number, attempt: number): Promise<boolean> => {
      if (attempt >= maxAttempts || ms > budget) return false;
      budget -= ms;
      await this.wait(ms, lastProblem, attempt + 1, maxAttempts);
      return true;
    };
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      await this.pace();
      let status = 0;
      let text = '';
      let retryAfter: number | undefined;
      try {
        const res = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-M365Audit-Alert-Id': alert.alertId },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        });
        status = res.status;
        retryAfter = retryAfterMs(res.headers.get('retry-after'));
        text = await res.text();
      } catch (err) {
        // Network failure or timeout: not known to be delivered; retried (the URL is never quoted).
        lastProblem = `no answer (${scrub((err as Error).message, this.options.url)})`;
        if (await waitOrStop(backoff(attempt), attempt)) continue;
        break;
      }
      if (status >= 200 && status < 300) {
        const problem = bodyError(text);
        if (!problem) return;
        lastProblem = `answered ${status} with an error in its body`;
        if (!problem.throttled) break;
      } else if (status === 429 || status >= 500) {
        lastProblem = `answered ${status}`;
      } else {
        // 400 (the flow rejected the payload), 401/403/404 (a wrong or deleted flow), 413 (too
        // large): retrying now changes nothing.
        lastProblem = `answered ${status}${status === 404 || status === 401 || status === 403 ? ' (is the workflow still on, and TEAMS_WEBHOOK_URL its current URL?)' : ''}`;
        break;
      }
      if (!(await waitOrStop(Math.min(maxWait, retryAfter ?? backoff(attempt)), attempt))) break;
    }
    throw new SinkError(`Teams alert ${alert.alertId} not delivered: TEAMS_WEBHOOK_URL ${lastProblem}; it goes on the next run`);
  }

  private async pace(): Promise<void> {
    const gap = (this.options.minIntervalMs ?? 350) - (Date.now() - this.lastPost);
    if (gap > 0) await this.sleep(gap);
    this.lastPost = Date.now();
  }

  private async wait(ms: number, reason: string, attempt: number, maxAttempts: number): Promise<void> {
    this.options.onWait?.({ ms, reason: `Teams webhook ${reason}`, attempt, maxAttempts });
    await this.sleep(ms);
  }
}

/** 1 s, 2 s, 4 s, … capped at 60 s. */
function backoff(attempt: number): number {
  return Math.min(60_000, 1000 * 2 ** (attempt - 1));
}

/** An error message with the URL (and its query string) taken out, should a library quote it. */
function scrub(message: string, url: string): string {
  let out = message.split(url).join('TEAMS_WEBHOOK_URL');
  try {
    const u = new URL(url);
    if (u.search) out = out.split(u.search).join('?…');
    if (u.pathname.length > 1) out = out.split(u.pathname).join('/…');
  } catch {
    // not a URL: nothing more to take out
  }
  return out;
}
