/**
 * `m365-audit digest` (and the demo's digest): builds a month's digest from the store, writes it
 * to `--out`, keeps a copy in blob storage and mails it to `organization.ciso` once. Returns what
 * to print; the CLI prints it (src/ never prints).
 */
import { DateTime } from 'luxon';
import type { Policy } from '../config/policy';
import type { Graph } from '../graph/graph';
import type { Lang } from '../report/labels';
import type { AuditStore } from '../store/ports';
import type { AlertSink } from '../alerts/teams';
import { announceDigest, type AnnounceOutcome } from './announce';
import { digestMessage } from './card';
import { mailDigest, type MailOutcome } from './mail';
import { lastFullMonth } from './model';
import { buildDigest, checkMonth, keepDigest, writeDigestFile, type BuiltDigest } from './run';

export interface DigestCommandOptions {
  store: AuditStore;
  policy: Policy;
  tenantId: string;
  /** `--month`; default: the last full month in the organisation's time zone. */
  month?: string;
  now: Date;
  lang: Lang;
  /** The CLI's `--out` folder; absent (the Functions): the digest is kept in blob storage only. */
  outDir?: string;
  /** The sender mailbox (M365_AUDIT_MAIL_SENDER); undefined: not mailed, and the lines say why. */
  sender?: string;
  /** A Graph client for sendMail (made only when the digest is to be mailed). */
  graph?: () => Graph;
  /** `--resend`: mail even though it was (or may have been) mailed before. */
  resend?: boolean;
  /**
   * The Teams announcement: the alert sink (the webhook, or files in `--out`) and where people
   * open the digest (M365_AUDIT_DIGEST_URL, `{month}` → YYYY-MM). Absent: no card.
   */
  announce?: { sink: AlertSink; url?: string | undefined };
}

export interface DigestCommandResult {
  month: string;
  /** The file written in `outDir` (absent without one). */
  path?: string;
  /** The blob copy's URL (or name). */
  stored: string;
  built: BuiltDigest;
  mail: MailOutcome | { status: 'not-configured'; reason: string };
  /** Lines for stdout, in the output language. */
  lines: string[];
  /** The Teams card (absent when no sink was given). */
  card?: AnnounceOutcome;
  /** 0, or 1 when the mail failed or its outcome is uncertain. */
  exitCode: 0 | 1;
}

const MSG = {
  ja: {
    written: (m: string, p: string) => `月次報告 ${m}: ${p}`,
    stored: (s: string) => `保存先: ${s}`,
    sent: (to: string, from: string) => `メール送信: ${to} 宛（送信元 ${from}）`,
    already: (to: string, at: string) => `メール送信済み: ${to} 宛に ${at} 送信（再送しません。再送するには --resend）`,
    noSender: '送信しませんでした: M365_AUDIT_MAIL_SENDER（送信元メールボックス）が設定されていません。設定すると organization.ciso 宛に送信します（README「CISO digest」）',
    noCiso: '送信しませんでした: ポリシーの organization.ciso（最高情報セキュリティ責任者のアドレス）が設定されていません',
    summary: (open: number, opened: number, resolved: number, overdue: number) => `未対応 ${open} 件、今月の新規 ${opened} 件・解消 ${resolved} 件、期限超過 ${overdue} 件`,
    cardSent: (sink: string) => (sink === 'teams' ? 'Teams に月次報告の通知を送信しました' : 'Teams 通知（月次報告）をファイルに出力しました（TEAMS_WEBHOOK_URL 未設定）'),
    cardAlready: 'Teams の月次報告の通知は送信済みです',
    cardFailed: (m: string) => `Teams の月次報告の通知を送れませんでした（次回の実行で送ります）: ${m}`,
  },
  en: {
    written: (m: string, p: string) => `digest ${m}: ${p}`,
    stored: (s: string) => `stored: ${s}`,
    sent: (to: string, from: string) => `mailed to ${to} (from ${from})`,
    already: (to: string, at: string) => `already mailed to ${to} at ${at} (not sent again; --resend sends it again)`,
    noSender: 'not mailed: M365_AUDIT_MAIL_SENDER (the mailbox it is sent from) is not set; set it to mail the digest to organization.ciso (README "CISO digest")',
    noCiso: 'not mailed: organization.ciso (the CISO\'s address) is not set in the policy',
    summary: (open: number, opened: number, resolved: number, overdue: number) => `${open} open, ${opened} new and ${resolved} resolved this month, ${overdue} overdue`,
    cardSent: (sink: string) => (sink === 'teams' ? 'the digest was announced in Teams' : 'the digest announcement card was written to a file (TEAMS_WEBHOOK_URL is not set)'),
    cardAlready: 'the digest was announced in Teams already',
    cardFailed: (m: string) => `the digest announcement could not be posted (the next run posts it): ${m}`,
  },
} as const;

/** Runs the digest of one month end to end (with `outDir`, the result names the file written there). */
export async function runDigestCommand(o: DigestCommandOptions & { outDir: string }): Promise<DigestCommandResult & { path: string }>;
export async function runDigestCommand(o: DigestCommandOptions): Promise<DigestCommandResult>;
export async function runDigestCommand(o: DigestCommandOptions): Promise<DigestCommandResult> {
  const tz = o.policy.organization.timeZone;
  const month = o.month === undefined ? lastFullMonth(o.now, tz) : checkMonth(o.month, o.now, tz);
  const M = MSG[o.lang];
  const built = await buildDigest({ store: o.store, policy: o.policy, tenantId: o.tenantId, month, now: o.now, lang: o.lang });
  const path = o.outDir === undefined ? undefined : await writeDigestFile(o.outDir, month, built.html);
  const stored = await keepDigest(o.store, o.tenantId, month, built.html);
  const m = built.model;
  const lines = [M.written(month, path ?? stored), `  ${M.summary(m.open.total, m.changes.opened.length, m.changes.resolved.length, m.overdue.length)}`, `  ${M.stored(stored)}`];
  const ciso = o.policy.organization.ciso;
  let mail: DigestCommandResult['mail'];
  let exitCode: 0 | 1 = 0;
  if (!ciso) mail = { status: 'not-configured', reason: M.noCiso };
  else if (!o.sender || !o.graph) mail = { status: 'not-configured', reason: M.noSender };
  else {
    mail = await mailDigest({ graph: o.graph(), store: o.store, tenantId: o.tenantId, month, sender: o.sender, recipient: ciso, subject: built.subject, html: built.html, now: o.now, ...(o.resend ? { resend: true } : {}) });
  }
  if (mail.status === 'not-configured') lines.push(`  ${mail.reason}`);
  else if (mail.status === 'sent') lines.push(`  ${M.sent(mail.record.recipient, mail.record.sender)}`);
  else if (mail.status === 'already-sent') {
    const when = DateTime.fromISO(mail.record.sentAt ?? mail.record.at, { zone: 'utc' }).setZone(tz);
    lines.push(`  ${M.already(mail.record.recipient, `${when.toFormat('yyyy-MM-dd HH:mm')} ${when.offsetNameShort ?? tz}`)}`);
  }
  else {
    lines.push(`  ${mail.message ?? mail.status}`);
    exitCode = 1;
  }
  let card: AnnounceOutcome | undefined;
  if (o.announce) {
    const announce = o.announce;
    const url = announce.url?.split('{month}').join(month);
    card = await announceDigest({
      sink: announce.sink,
      store: o.store,
      tenantId: o.tenantId,
      month,
      now: o.now,
      message: () => digestMessage({ model: m, lang: o.policy.organization.locale === 'en' ? 'en' : 'ja', ...(url ? { url } : {}) }),
    });
    if (card.status === 'sent') lines.push(`  ${M.cardSent(announce.sink.name)}`);
    else if (card.status === 'already-sent') lines.push(`  ${M.cardAlready}`);
    else lines.push(`  ${M.cardFailed(card.message)}`);
  }
  return { month, ...(path !== undefined ? { path } : {}), stored, built, mail, lines, exitCode, ...(card ? { card } : {}) };
}
