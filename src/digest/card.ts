/**
 * The short Teams card announcing a month's digest (issue 11: "announced with a short Teams card
 * linking to it"). Pure, like the alert cards (src/alerts/cards.ts, whose types it uses): the
 * lead's alert delivery posts it. Adaptive Card 1.5, `Action.OpenUrl` only; the link is the
 * digest's copy in blob storage (or any URL the caller gives), left out when there is none.
 * It carries the month's evidence chain head (sequence and short hash) as the digest does.
 */
import { DateTime } from 'luxon';
import { CARD_SCHEMA, type AdaptiveCard, type CardElement, type TeamsMessage, envelope } from '../alerts/cards';
import { LABELS } from '../report/labels';
import { SEVERITIES } from '../rules/ids';
import type { DigestModel } from './model';

const TEXT = {
  ja: {
    title: (org: string, month: string) => `${org}: 情報セキュリティ月次報告 ${month.replace(/^(\d{4})-0?(\d{1,2})$/, '$1年$2月')}`,
    open: '未対応の指摘',
    changes: '今月',
    changesValue: (o: number, r: number, re: number) => `新規 ${o} 件 / 解消 ${r} 件 / 再発 ${re} 件`,
    overdue: '期限超過チケット',
    expiring: '30 日以内に期限切れの例外',
    coverage: '点検範囲',
    coverageIncomplete: (areas: string) => `不完全: ${areas}`,
    coverageComplete: 'すべて完了',
    evidence: '証跡チェーンの先頭',
    evidenceHead: (seq: number, hash: string) => `連番 ${seq} / SHA-256 ${hash}…`,
    evidenceNone: '今月の証跡の記録はありません',
    count: (n: number) => `${n} 件`,
    link: '月次報告を開く',
    noLink: '月次報告はメールで CISO に送付済みです。',
  },
  en: {
    title: (org: string, month: string) => `${org}: information-security monthly digest, ${DateTime.fromFormat(month, 'yyyy-MM').setLocale('en').toFormat('MMMM yyyy')}`,
    open: 'Open findings',
    changes: 'This month',
    changesValue: (o: number, r: number, re: number) => `${o} new / ${r} resolved / ${re} reopened`,
    overdue: 'Overdue tickets',
    expiring: 'Exceptions expiring within 30 days',
    coverage: 'Coverage',
    coverageIncomplete: (areas: string) => `incomplete: ${areas}`,
    coverageComplete: 'all complete',
    evidence: 'Evidence chain head',
    evidenceHead: (seq: number, hash: string) => `sequence ${seq} / SHA-256 ${hash}…`,
    evidenceNone: 'no evidence record this month',
    count: (n: number) => `${n}`,
    link: 'Open the digest',
    noLink: 'The digest was mailed to the CISO.',
  },
} as const;

/** Hex digits of the chain head's hash the card shows (48 bits: enough to compare by eye). */
const SHORT_HASH = 12;

export interface DigestCardInput {
  model: DigestModel;
  lang: 'ja' | 'en';
  /** Where the digest can be read (its blob copy, a SharePoint page…): absolute http(s). */
  url?: string;
}

/** The digest announcement card. */
export function buildDigestCard(input: DigestCardInput): AdaptiveCard {
  const { model, lang } = input;
  const L = TEXT[lang];
  const R = LABELS[lang];
  const incomplete = model.coverage.areas.filter((a) => a.last !== 'complete').map((a) => R.areas[a.area]);
  const body: CardElement[] = [
    { type: 'TextBlock', text: L.title(model.organization, model.month), weight: 'bolder', size: 'medium', wrap: true },
    {
      type: 'FactSet',
      facts: [
        { title: L.open, value: SEVERITIES.map((s) => `${R.severities[s]} ${model.open.bySeverity[s]}`).join(' / ') },
        { title: L.changes, value: L.changesValue(model.changes.opened.length, model.changes.resolved.length, model.changes.reopened.length) },
        { title: L.overdue, value: L.count(model.overdue.length) },
        { title: L.expiring, value: L.count(model.exceptions.expiring.length) },
        { title: L.coverage, value: incomplete.length ? L.coverageIncomplete(incomplete.join(', ')) : L.coverageComplete },
        // The month's chain head, as the mailed digest prints it in full (render.ts): a second copy
        // outside the store that `evidence verify` must still reach (5-3-2). The card carries the
        // first 12 hex digits only (as verify's messages do); the digest it links to has all 64.
        { title: L.evidence, value: model.evidenceHead ? L.evidenceHead(model.evidenceHead.sequence, model.evidenceHead.hash.slice(0, SHORT_HASH)) : L.evidenceNone },
      ],
    },
  ];
  const url = input.url && /^https?:\/\/\S+$/.test(input.url) ? input.url : undefined;
  if (!url) body.push({ type: 'TextBlock', text: L.noLink, isSubtle: true, wrap: true });
  return {
    type: 'AdaptiveCard',
    $schema: CARD_SCHEMA,
    version: '1.5',
    body,
    ...(url ? { actions: [{ type: 'Action.OpenUrl' as const, title: L.link, url }] } : {}),
    fallbackText: L.title(model.organization, model.month),
  };
}

/** The card in the Workflows message envelope, as the alert sink posts it. */
export function digestMessage(input: DigestCardInput): TeamsMessage {
  return envelope(buildDigestCard(input));
}
