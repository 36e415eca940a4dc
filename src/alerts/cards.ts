/**
 * Teams alert cards (issue 10, first part): pure builders from ledger entries to Adaptive Cards
 * 1.5 and the Workflows webhook message envelope (shared/spec/outputs.md). Nothing here sends,
 * records or reads anything; delivery is a later sink.
 *
 * Rules the builders keep (issue "Teams adaptive-card alerts"):
 * - Adaptive Card version 1.5 at most (Teams' limit), and `Action.OpenUrl` as the only action:
 *   Submit and Execute have nothing behind them on a webhook card.
 * - One card per run, not one per finding: everything new at or above `alerts.minSeverity` and
 *   every new event finding (SIGN-*), most severe first, "… and N more" past the shown items.
 *   Excepted entries are left out (an approved exception is not news). Nothing to alert → undefined.
 * - The whole serialized message stays under {@link MESSAGE_BYTE_LIMIT} UTF-8 bytes (Teams'
 *   28 KB message limit): past it, items are dropped, then texts shortened; it never fails.
 *
 * Why hand-typed interfaces and not `@microsoft/teams.cards`: its current version (2.1.0) declares
 * `engines: { node: '>=22.12.0' }` while this service runs on Node 20 (package.json engines), and
 * the cards use five element types only; the schema test (tests/alerts/cards.test.ts) validates
 * every card against Microsoft's official 1.5 JSON schema instead.
 */
import type { LedgerEntry } from '../findings/ledger';
import { SEVERITIES, type Severity } from '../rules/ids';

/** Teams' limit for a message (card and envelope together), in UTF-8 bytes: the message must stay under it. */
export const MESSAGE_BYTE_LIMIT = 28_672;
/** Items shown on a card at most (Teams is not a log; the report has the rest). */
export const MAX_ITEMS = 25;
/** The JSON schema a card names (`$schema`). */
export const CARD_SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';

type Spacing = 'none' | 'small' | 'default' | 'medium' | 'large';

/** Adaptive Card `TextBlock` (the properties used here). */
export interface TextBlock {
  type: 'TextBlock';
  text: string;
  wrap?: boolean;
  size?: 'small' | 'default' | 'medium' | 'large';
  weight?: 'lighter' | 'default' | 'bolder';
  color?: 'default' | 'attention' | 'warning' | 'good' | 'accent';
  isSubtle?: boolean;
  spacing?: Spacing;
}

/**
 * Adaptive Card `RichTextBlock` of `TextRun`s: text Teams shows as it is. A `TextBlock` is
 * Markdown in Teams ("Format cards in Teams"), so a subject named `[パスワード再設定](https://…)`
 * would become a link in the administrators' channel: names from the tenant go in TextRuns.
 */
export interface RichTextBlock {
  type: 'RichTextBlock';
  inlines: Array<{ type: 'TextRun'; text: string }>;
  spacing?: Spacing;
}

/** Adaptive Card `FactSet`. */
export interface FactSet {
  type: 'FactSet';
  facts: { title: string; value: string }[];
  spacing?: Spacing;
}

/** Adaptive Card `Action.OpenUrl`: the only action a webhook card can honour. */
export interface OpenUrlAction {
  type: 'Action.OpenUrl';
  title: string;
  url: string;
}

/** Adaptive Card `ActionSet` (actions inside the body, next to their item). */
export interface ActionSet {
  type: 'ActionSet';
  actions: OpenUrlAction[];
}

/** Adaptive Card `Container` (no `rtl`: the 1.5 schema misspells it `rtl?`). */
export interface Container {
  type: 'Container';
  items: CardElement[];
  separator?: boolean;
  spacing?: Spacing;
  style?: 'default' | 'emphasis' | 'good' | 'attention' | 'warning' | 'accent';
}

export type CardElement = TextBlock | RichTextBlock | FactSet | ActionSet | Container;

/** A top-level Adaptive Card 1.5. */
export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: typeof CARD_SCHEMA;
  version: '1.5';
  body: CardElement[];
  actions?: OpenUrlAction[];
  fallbackText?: string;
}

/** The Teams Workflows webhook message (shared/spec/outputs.md). */
export interface TeamsMessage {
  type: 'message';
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive'; content: AdaptiveCard }];
}

/** What a card reads from the policy (a full {@link import('../config/policy').Policy} fits). */
export interface AlertPolicy {
  organization: { locale: 'ja' | 'en' };
  alerts: { minSeverity: Severity };
}

/** One run's news, as the ledger reconciliation reported it. */
export interface AlertInput {
  /** The organisation's name (policy.organization.name). */
  organization: string;
  tenantId: string;
  /** Entries that opened in this run (reconciliation `opened`). */
  opened: readonly LedgerEntry[];
  /** Entries that reopened in this run (reconciliation `reopened`): marked as such. */
  reopened?: readonly LedgerEntry[];
  /** `M365_AUDIT_REPORT_URL`, when set. */
  reportUrl?: string;
  /** Planner task links by finding id, where a task exists. */
  taskUrls?: Readonly<Record<string, string>>;
  /** The alert's id (in the ledger's marks): shown small at the end, so a repeat is recognisable. */
  alertId?: string;
  /**
   * Set on the copy sent again when an earlier run's outcome is unknown (src/alerts/deliver.ts):
   * the card says it may repeat one already received. The time the first was made (ISO).
   */
  resendOf?: string;
}

const TEXT = {
  ja: {
    runTitle: (org: string) => `${org}: 新しい指摘`,
    signInTitle: (org: string) => `${org}: サインイン監視の新しい検知`,
    tenant: 'テナント',
    counts: '件数',
    count: (n: number) => `${n} 件`,
    clauses: '条項',
    due: '期限',
    assignees: '担当',
    unassigned: '未割当',
    reopened: '（再発）',
    event: '検知',
    more: (n: number) => `… ほか ${n} 件`,
    seeReport: ' — 報告書を参照してください',
    openTask: 'Planner のタスクを開く',
    openReport: '報告書を開く',
    severities: { critical: '緊急', high: '高', medium: '中', low: '低' },
    sep: '、',
    alertId: (id: string) => `通知 ID: ${id}`,
    resend: '再送: 前回の送信結果を記録できなかったため再送します。同じ通知 ID のカードが既に届いている場合、これは重複です。',
  },
  en: {
    runTitle: (org: string) => `${org}: new findings`,
    signInTitle: (org: string) => `${org}: new sign-in watch detections`,
    tenant: 'Tenant',
    counts: 'Count',
    count: (n: number) => `${n}`,
    clauses: 'Clause',
    due: 'Due',
    assignees: 'Responsible',
    unassigned: 'unassigned',
    reopened: ' (reopened)',
    event: 'detection',
    more: (n: number) => `… and ${n} more`,
    seeReport: ' — see the report',
    openTask: 'Open the Planner task',
    openReport: 'Open the report',
    severities: { critical: 'critical', high: 'high', medium: 'medium', low: 'low' },
    sep: ', ',
    alertId: (id: string) => `Alert id: ${id}`,
    resend: 'Sent again: the outcome of the first attempt could not be recorded. If a card with the same alert id has arrived already, this is a repeat.',
  },
} as const;

interface Item {
  entry: LedgerEntry;
  reopened: boolean;
  taskUrl: string | undefined;
}

const rank = (s: Severity): number => SEVERITIES.indexOf(s);

/** Only absolute http(s) URLs become links: anything else would be a broken button. */
function linkable(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

function select(input: AlertInput, policy: AlertPolicy): Item[] {
  const threshold = rank(policy.alerts.minSeverity);
  const items: Item[] = [];
  const seen = new Set<string>();
  const add = (entry: LedgerEntry, reopened: boolean): void => {
    if (seen.has(entry.id) || entry.status === 'excepted') return;
    const event = entry.kind === 'event' && entry.ruleId.startsWith('SIGN-');
    if (!event && rank(entry.severity) > threshold) return;
    seen.add(entry.id);
    items.push({ entry, reopened, taskUrl: linkable(input.taskUrls?.[entry.id]) });
  };
  for (const e of input.opened) add(e, false);
  for (const e of input.reopened ?? []) add(e, true);
  // Most severe first; then a stable order so the same news gives the same card.
  return items.sort(
    (a, b) =>
      rank(a.entry.severity) - rank(b.entry.severity) ||
      a.entry.ruleId.localeCompare(b.entry.ruleId) ||
      a.entry.subject.name.localeCompare(b.entry.subject.name) ||
      a.entry.id.localeCompare(b.entry.id),
  );
}

function clip(s: string, limit: number): string {
  const chars = [...s];
  return chars.length <= limit ? s : `${chars.slice(0, Math.max(1, limit - 1)).join('')}…`;
}

type Lang = keyof typeof TEXT;

function itemBlock(item: Item, lang: Lang, limit: number): Container {
  const t = TEXT[lang];
  const e = item.entry;
  const sev = e.severity;
  const title = `[${t.severities[sev]}] ${e.ruleId} ${clip(e.title[lang], limit)}${item.reopened ? t.reopened : ''}`;
  const facts = [
    { title: t.clauses, value: e.clauses.length ? e.clauses.join(t.sep) : '—' },
    { title: t.due, value: e.ticket?.dueDate ?? '—' },
    { title: t.assignees, value: e.ticket && e.ticket.assignees.length ? clip(e.ticket.assignees.join(t.sep), limit) : t.unassigned },
  ];
  const items: CardElement[] = [
    {
      type: 'TextBlock',
      text: title,
      wrap: true,
      weight: 'bolder',
      // Critical in Teams' attention red; no yellow for high: Teams' light theme draws `warning`
      // as #f8d22a on white, which is hard to read (the [高] label says it).
      ...(sev === 'critical' ? { color: 'attention' as const } : {}),
    },
    // The subject's name comes from the tenant: plain text, never Markdown (see RichTextBlock).
    { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: clip(e.subject.name, limit) }], spacing: 'none' },
    { type: 'FactSet', facts, spacing: 'small' },
  ];
  if (item.taskUrl) items.push({ type: 'ActionSet', actions: [{ type: 'Action.OpenUrl', title: t.openTask, url: item.taskUrl }] });
  return { type: 'Container', separator: true, spacing: 'medium', items };
}

function render(kind: 'run' | 'signin', input: AlertInput, lang: Lang, items: readonly Item[], shown: number, limit: number): AdaptiveCard {
  const t = TEXT[lang];
  const reportUrl = linkable(input.reportUrl);
  const org = clip(input.organization, limit);
  const heading = kind === 'run' ? t.runTitle(org) : t.signInTitle(org);
  const bySeverity = SEVERITIES.map((s) => [s, items.filter((i) => i.entry.severity === s).length] as const).filter(([, n]) => n > 0);
  const counts = bySeverity.map(([s, n]) => `${t.severities[s]} ${t.count(n)}`).join(t.sep);
  const body: CardElement[] = [
    { type: 'TextBlock', text: heading, size: 'large', weight: 'bolder', wrap: true },
    {
      type: 'FactSet',
      facts: [
        { title: t.tenant, value: clip(input.tenantId, limit) },
        { title: t.counts, value: counts },
      ],
    },
  ];
  if (input.resendOf) body.push({ type: 'TextBlock', text: t.resend, wrap: true, color: 'attention', spacing: 'small' });
  for (const item of items.slice(0, shown)) body.push(itemBlock(item, lang, limit));
  const rest = items.length - shown;
  if (rest > 0) {
    body.push({ type: 'TextBlock', text: `${t.more(rest)}${reportUrl ? t.seeReport : ''}`, wrap: true, isSubtle: true, spacing: 'medium' });
  }
  if (input.alertId) body.push({ type: 'TextBlock', text: t.alertId(clip(input.alertId, 60)), wrap: true, isSubtle: true, size: 'small', spacing: 'medium' });
  const card: AdaptiveCard = { type: 'AdaptiveCard', $schema: CARD_SCHEMA, version: '1.5', body, fallbackText: `${heading} (${items.length})` };
  if (reportUrl) card.actions = [{ type: 'Action.OpenUrl', title: t.openReport, url: reportUrl }];
  return card;
}

/** The serialized size of a card's webhook message, in UTF-8 bytes. */
export function messageBytes(card: AdaptiveCard): number {
  return Buffer.byteLength(JSON.stringify(envelope(card)), 'utf8');
}

/**
 * Renders the card within the size cap: the most items that fit at full text, then (when not even
 * one fits) shorter texts, and at worst the header with "… and N more". Never throws.
 */
function fit(kind: 'run' | 'signin', input: AlertInput, lang: Lang, items: readonly Item[]): AdaptiveCard {
  const fits = (c: AdaptiveCard): boolean => messageBytes(c) < MESSAGE_BYTE_LIMIT;
  const limits = [Number.POSITIVE_INFINITY, 400, 160, 60];
  for (const limit of limits) {
    // Largest shown count that fits: the size grows with the count, so search it.
    let lo = 0;
    let hi = Math.min(items.length, MAX_ITEMS);
    if (fits(render(kind, input, lang, items, hi, limit))) return render(kind, input, lang, items, hi, limit);
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (fits(render(kind, input, lang, items, mid, limit))) lo = mid;
      else hi = mid;
    }
    if (lo >= 1) return render(kind, input, lang, items, lo, limit);
  }
  // Only the header and the count: its texts are clipped to 60 characters, so this fits.
  return render(kind, input, lang, items, 0, 60);
}

function build(kind: 'run' | 'signin', input: AlertInput, policy: AlertPolicy): AdaptiveCard | undefined {
  const items = select(input, policy);
  if (items.length === 0) return undefined;
  return fit(kind, input, policy.organization.locale === 'en' ? 'en' : 'ja', items);
}

/**
 * The card for one scan run: its new and reopened findings at or above `alerts.minSeverity` and
 * every new event finding. Undefined when there is nothing to alert.
 */
export function buildRunCard(input: AlertInput, policy: AlertPolicy): AdaptiveCard | undefined {
  return build('run', input, policy);
}

/**
 * The card for the 15-minute sign-in watch's new detections (its own card, sent at once); same
 * selection rules as {@link buildRunCard}. Undefined when there is nothing to alert.
 */
export function buildSignInCard(input: AlertInput, policy: AlertPolicy): AdaptiveCard | undefined {
  return build('signin', input, policy);
}

/** Wraps a card in the Teams Workflows webhook message (shared/spec/outputs.md). */
export function envelope(card: AdaptiveCard): TeamsMessage {
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] };
}
