/**
 * Alert delivery: what was alerted is recorded in the ledger, as for the ticket sinks, so that a
 * rerun never sends the same news twice and news that could not be delivered goes on the next
 * card (issue "Teams adaptive-card alerts").
 *
 * - Each ledger entry carries, per alert sink, a mark: the *news key* it was last alerted for
 *   (opened; reopened n times; for an event finding, the sign-ins behind it) and the alert that
 *   carried it. News = an open entry at or above `alerts.minSeverity` (every SIGN-* event
 *   whatever its severity) whose news key differs from its mark. One card carries all of it:
 *   "… and N more" still counts as alerted (the report lists them). Excepted and resolved
 *   entries are not news.
 * - Before the call, the intent is on record in the tenant's alert outbox (a state blob per
 *   sink): the alert id, the entries and news keys it carries, and the exact message. After the
 *   sink accepted it, the marks are written to the ledger, then the outbox entry is cleared.
 * - A run that finds an intent still in the outbox resolves it first: if every entry it carries
 *   already has its mark, it was delivered (the run stopped before clearing it). Otherwise its
 *   outcome is unknown: the run stopped between the call and the marks. An idempotent sink (the
 *   preview files, named by alert id) gets the same message again. Teams is not idempotent —
 *   a Workflows webhook has no idempotency key and reading the channel back would need
 *   ChannelMessage.Read.All, a protected API over every channel of the tenant — so the same
 *   alert is resent with the same id and a note saying it may be a repeat of the card sent at
 *   that time. A lost alert is worse than a repeated one; the window is the milliseconds between
 *   the webhook's answer and the ledger write.
 * - A delivery that failed (the sink answered, and not with success) leaves its news unmarked:
 *   the next run's card carries it, with whatever is new by then. A failure never fails the scan.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { LedgerEntry } from '../findings/ledger';
import { SEVERITIES, type Severity } from '../rules/ids';
import type { StatePort } from '../store/ports';
import { buildRunCard, buildSignInCard, envelope, type AlertInput, type AlertPolicy, type TeamsMessage } from './cards';
import type { AlertSink } from './teams';

/** An intent in the outbox: sent, outcome not on record yet. */
export interface PendingAlert {
  alertId: string;
  kind: 'run' | 'signin';
  createdAt: string;
  /** The entries it carries and the news key of each. */
  items: Array<{ id: string; key: string }>;
  message: TeamsMessage;
  /** The same card marked as a possible repeat, sent if the outcome of the first is unknown. */
  resendMessage: TeamsMessage;
}

interface Outbox {
  version: 1;
  pending: PendingAlert[];
}

export interface AlertOptions {
  sinks: readonly AlertSink[];
  /** `run`: a scan's card; `signin`: the 15-minute sign-in watch's card (SIGN-* entries only). */
  kind: 'run' | 'signin';
  organization: string;
  tenantId: string;
  policy: AlertPolicy;
  /** M365_AUDIT_REPORT_URL. */
  reportUrl?: string | undefined;
}

export interface AlertContext extends AlertOptions {
  now: Date;
  store: StatePort;
  /** Ledger write (under the lease): the marks. */
  persist: (entries: LedgerEntry[]) => Promise<void>;
  /** Makes what was written durable before the call (the embedded Azurite saves every 5 s). */
  ensureSaved?: () => Promise<void>;
}

export interface AlertSummary {
  /** Alert ids delivered this run (`sink: id`). */
  sent: string[];
  /** Alerts resent because an earlier run's outcome was unknown (`sink: id`). */
  resent: string[];
  /** Deliveries that failed (`sink: message`): their news goes on the next run. */
  failed: string[];
  /** Entries carried by what was delivered. */
  items: number;
}

const OUTBOX_KEY = (sink: string): string => `alerts-outbox-${sink}`;

/** Is this entry's news for the card of `kind` (before its mark is compared)? */
export function alertable(entry: LedgerEntry, policy: AlertPolicy, kind: 'run' | 'signin'): boolean {
  if (entry.status !== 'open') return false;
  const event = entry.kind === 'event' && entry.ruleId.startsWith('SIGN-');
  if (kind === 'signin') return event;
  return event || SEVERITIES.indexOf(entry.severity) <= SEVERITIES.indexOf(policy.alerts.minSeverity as Severity);
}

/**
 * What there is to tell about an entry: how often it reopened and, for an event finding, its
 * newest occurrence (a new attack on the same account is news again).
 */
export function newsKey(entry: LedgerEntry): string {
  if (entry.kind !== 'event') return `r${entry.reopenCount}`;
  // The sign-ins behind its occurrences: the same sign-ins read again (the watch's overlap, a
  // detector window that slid) are not news; one sign-in not seen before is.
  const occurrences = Array.isArray(entry.evidence.occurrences) ? (entry.evidence.occurrences as Array<Record<string, unknown>>) : [];
  const ids = new Set<string>();
  for (const o of occurrences) {
    if (Array.isArray(o.signInIds) && o.signInIds.length) for (const id of o.signInIds) ids.add(String(id));
    else ids.add(`window:${String(o.windowStart)}`);
  }
  const occ = ids.size ? createHash('sha256').update([...ids].sort().join('|')).digest('hex').slice(0, 16) : '-';
  return `r${entry.reopenCount}:o${occ}`;
}

/** The Planner web link of a task (the tenant in the path, as Planner's own links have it). */
export function plannerTaskUrl(tenantId: string, taskId: string): string {
  return `https://tasks.office.com/${encodeURIComponent(tenantId)}/Home/Task/${encodeURIComponent(taskId)}`;
}

async function loadOutbox(store: StatePort, tenantId: string, sink: string): Promise<Outbox> {
  const text = await store.getStateBlob(tenantId, OUTBOX_KEY(sink));
  if (!text) return { version: 1, pending: [] };
  try {
    const doc = JSON.parse(text) as Outbox;
    if (doc && doc.version === 1 && Array.isArray(doc.pending)) return doc;
  } catch {
    // fall through
  }
  // An unreadable outbox cannot say what was sent: start a new one (at worst a repeat, never a loss:
  // its news is still unmarked in the ledger).
  return { version: 1, pending: [] };
}

function saveOutbox(store: StatePort, tenantId: string, sink: string, outbox: Outbox): Promise<void> {
  return store.putStateBlob(tenantId, OUTBOX_KEY(sink), JSON.stringify(outbox));
}

function withMarks(entries: Map<string, LedgerEntry>, sink: string, alert: PendingAlert, at: string): LedgerEntry[] {
  const changed: LedgerEntry[] = [];
  for (const item of alert.items) {
    const e = entries.get(item.id);
    if (!e) continue;
    const next: LedgerEntry = { ...e, alerted: { ...(e.alerted ?? {}), [sink]: { key: item.key, alertId: alert.alertId, at } } };
    entries.set(e.id, next);
    changed.push(next);
  }
  return changed;
}

function delivered(entries: Map<string, LedgerEntry>, sink: string, alert: PendingAlert): boolean {
  return alert.items.every((i) => {
    const e = entries.get(i.id);
    return !e || e.alerted?.[sink]?.alertId === alert.alertId;
  });
}

/** Builds one card (and its "possible repeat" twin) for the news; undefined when there is none. */
function compose(news: LedgerEntry[], opts: AlertOptions, alertId: string, createdAt: string): Pick<PendingAlert, 'message' | 'resendMessage'> | undefined {
  const taskUrls: Record<string, string> = {};
  for (const e of news) {
    const ref = e.ticket?.sinks.planner?.ref;
    if (ref && e.ticket?.sinks.planner?.delivered) taskUrls[e.id] = plannerTaskUrl(opts.tenantId, ref);
  }
  const input: AlertInput = {
    organization: opts.organization,
    tenantId: opts.tenantId,
    opened: news.filter((e) => e.reopenCount === 0),
    reopened: news.filter((e) => e.reopenCount > 0),
    ...(opts.reportUrl ? { reportUrl: opts.reportUrl } : {}),
    taskUrls,
    alertId,
  };
  const build = opts.kind === 'signin' ? buildSignInCard : buildRunCard;
  const card = build(input, opts.policy);
  const repeat = build({ ...input, resendOf: createdAt }, opts.policy);
  if (!card || !repeat) return undefined;
  return { message: envelope(card), resendMessage: envelope(repeat) };
}

/**
 * Delivers this run's alert (and resolves what an earlier run left in the outbox) to every sink.
 * `entries` is the ledger after reconciliation and tickets; it is updated with the marks.
 * Throws only when the ledger or the outbox cannot be written: nothing is sent that could not be
 * recorded.
 */
export async function deliverAlerts(entries: Map<string, LedgerEntry>, ctx: AlertContext): Promise<AlertSummary> {
  const summary: AlertSummary = { sent: [], resent: [], failed: [], items: 0 };
  const at = ctx.now.toISOString();
  for (const sink of ctx.sinks) {
    const outbox = await loadOutbox(ctx.store, ctx.tenantId, sink.name);
    // 1. What an earlier run started and did not finish.
    for (const pending of [...outbox.pending]) {
      if (!delivered(entries, sink.name, pending)) {
        try {
          await sink.send(sink.idempotent ? pending.message : pending.resendMessage, { alertId: pending.alertId, kind: pending.kind, createdAt: pending.createdAt });
        } catch (err) {
          // Still unknown whether the first attempt arrived: the intent stays for the next run.
          summary.failed.push(`${sink.name}: ${(err as Error).message}`);
          continue;
        }
        const marked = withMarks(entries, sink.name, pending, at);
        if (marked.length) await ctx.persist(marked);
        summary.resent.push(`${sink.name}: ${pending.alertId}`);
        summary.items += pending.items.length;
      }
      outbox.pending = outbox.pending.filter((p) => p.alertId !== pending.alertId);
      await saveOutbox(ctx.store, ctx.tenantId, sink.name, outbox);
    }
    // 2. This run's news: everything not alerted yet (and not riding on an intent still unresolved).
    const riding = new Set(outbox.pending.flatMap((p) => p.items.map((i) => `${i.id}|${i.key}`)));
    const news = [...entries.values()].filter(
      (e) => alertable(e, ctx.policy, ctx.kind) && e.alerted?.[sink.name]?.key !== newsKey(e) && !riding.has(`${e.id}|${newsKey(e)}`),
    );
    if (news.length === 0) continue;
    const alertId = randomUUID();
    const composed = compose(news, ctx, alertId, at);
    if (!composed) continue;
    const pending: PendingAlert = { alertId, kind: ctx.kind, createdAt: at, items: news.map((e) => ({ id: e.id, key: newsKey(e) })), ...composed };
    // The intent is durable before the call.
    outbox.pending.push(pending);
    await saveOutbox(ctx.store, ctx.tenantId, sink.name, outbox);
    await ctx.ensureSaved?.();
    try {
      await sink.send(pending.message, { alertId, kind: ctx.kind, createdAt: at });
    } catch (err) {
      // Known not delivered: drop the intent; the news stays unmarked and goes on the next card.
      summary.failed.push(`${sink.name}: ${(err as Error).message}`);
      outbox.pending = outbox.pending.filter((p) => p.alertId !== alertId);
      await saveOutbox(ctx.store, ctx.tenantId, sink.name, outbox);
      continue;
    }
    // The outcome: marks first (they prove delivery), then the intent goes.
    await ctx.persist(withMarks(entries, sink.name, pending, at));
    outbox.pending = outbox.pending.filter((p) => p.alertId !== alertId);
    await saveOutbox(ctx.store, ctx.tenantId, sink.name, outbox);
    summary.sent.push(`${sink.name}: ${alertId}`);
    summary.items += pending.items.length;
  }
  return summary;
}
