/**
 * Demo history for the CISO digest: `npm start` scans a tenant generated a moment ago, so its
 * ledger and scan records would begin today and the digest of last month would be empty. This
 * seeds the demo tenant's store, once, with six months of made-up but consistent history:
 * - two full scan records per earlier month (deterministic ids `demo-history-YYYY-MM-a|b`),
 *   their counts rising towards the past so that the trend has a shape, one of last month's
 *   partial in mail;
 * - the demo scan's open state findings backdated, by a hash of their id, into earlier months
 *   (their first history entry and ticket say so, and the ticket's due date follows), so that
 *   last month has open and overdue tickets;
 * - a few made-up findings that were opened, resolved and reopened in those months (no ticket,
 *   already resolved: a later scan leaves them alone), and sign-in detections closed by a person;
 * - last month's access inventory, from the demo scan's (its times shifted back by as much).
 *
 * Only for the demo tenant, only through the demo command, and idempotent: a state marker
 * (`demo-history`) says it was done, and every record it writes has a fixed key, so a second
 * `npm start` changes nothing here.
 */
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Policy } from '../config/policy';
import { loadInventory, recordInventory, type AccessInventory } from '../digest/inventory';
import { fingerprint } from '../findings/finding';
import type { LedgerEntry } from '../findings/ledger';
import type { RuleId, Severity, Area } from '../rules/ids';
import { RULES } from '../rules/index';
import type { LedgerPort, ScanPort, StatePort } from '../store/ports';
import type { ScanRecord } from '../store/store';
import { dueFor } from '../tickets/due';

/** The state key that marks a tenant's demo history as seeded. */
export const DEMO_HISTORY_KEY = 'demo-history';

/** How many months before the current one get history. */
export const DEMO_HISTORY_MONTHS = 6;

const hashOf = (s: string): number => createHash('sha256').update(s).digest().readUInt32BE(0);

export interface DemoHistoryOptions {
  tenantId: string;
  policy: Policy;
  now: Date;
  /** The record of the demo scan that just ran (its coverage and counts are the present). */
  latest: ScanRecord;
  /** The demo scan's inventory, copied back to last month. */
  inventory?: AccessInventory;
}

/** What was seeded (all zero when the history was there already). */
export interface DemoHistorySummary {
  seeded: boolean;
  scans: number;
  backdated: number;
  madeUp: number;
}

/**
 * Seeds the demo history into `store` unless it is there already. Call it after the demo scan
 * (outside the ledger lease is fine: the demo runs alone on its own tenant).
 */
export async function seedDemoHistory(store: LedgerPort & ScanPort & StatePort, o: DemoHistoryOptions): Promise<DemoHistorySummary> {
  if (await store.getState(o.tenantId, DEMO_HISTORY_KEY)) return { seeded: false, scans: 0, backdated: 0, madeUp: 0 };
  const tz = o.policy.organization.timeZone;
  const current = DateTime.fromJSDate(o.now, { zone: tz }).startOf('month');
  const month = (k: number): DateTime => current.minus({ months: k });
  const at = (k: number, day: number, hour = 2): string => month(k).set({ day, hour }).toUTC().toISO() as string;

  // Scan records: two full scans a month, counts growing towards the past.
  const growth: Record<Severity, number> = { critical: 1, high: 2, medium: 2, low: 1 };
  const records: ScanRecord[] = [];
  for (let k = DEMO_HISTORY_MONTHS; k >= 1; k--) {
    for (const [suffix, day] of [['a', 5], ['b', 25]] as const) {
      const startedAt = at(k, day);
      const extra = suffix === 'a' ? 1 : 0;
      const counts = Object.fromEntries(Object.entries(o.latest.counts).map(([s, n]) => [s, n + Math.round((k + extra) * growth[s as Severity] * 0.7)])) as Record<Severity, number>;
      const partial = k === 1 && suffix === 'b';
      const coverage = Object.fromEntries(
        Object.entries(o.latest.coverage).map(([area, c]) => [area, partial && area === 'mail' ? { status: 'partial', items: c?.items ?? 0, detail: '2 mailboxes failed after 5 attempts (503); their rules were not read' } : { status: 'complete', items: c?.items ?? 0 }]),
      ) as ScanRecord['coverage'];
      records.push({
        tenantId: o.tenantId,
        scanId: `demo-history-${month(k).toFormat('yyyy-MM')}-${suffix}`,
        startedAt,
        finishedAt: DateTime.fromISO(startedAt).plus({ minutes: 3 }).toUTC().toISO() as string,
        areas: o.latest.areas,
        coverage,
        counts,
        excepted: o.latest.excepted,
        exitCode: partial ? 2 : 0,
      });
    }
  }
  for (const r of records) await store.saveScan(r);

  // The demo scan's open state findings, backdated by a hash of their id.
  const ledger = await store.getLedger(o.tenantId);
  const changed: LedgerEntry[] = [];
  const monthsBack = [0, 1, 3, 5];
  for (const e of ledger.values()) {
    if (e.kind !== 'state' || e.status !== 'open' || e.id.startsWith('demo-')) continue;
    const k = monthsBack[hashOf(e.id) % monthsBack.length] ?? 0;
    if (k === 0) continue;
    const firstSeen = at(k, 3 + (hashOf(`${e.id}/day`) % 20), 1 + (hashOf(`${e.id}/hour`) % 8));
    const history = [{ at: firstSeen, status: 'open' as const, note: 'new (demo history: backdated by the demo)' }, ...e.history.slice(1)];
    const due = dueFor(e.severity, new Date(firstSeen), o.policy);
    changed.push({
      ...e,
      firstSeen,
      history,
      ...(e.ticket ? { ticket: { ...e.ticket, openedAt: firstSeen, dueDate: due.date, dueDateTime: due.dueDateTime } } : {}),
    });
  }

  // Made-up findings of past months, resolved by now.
  const rule = (id: RuleId) => RULES.find((r) => r.id === id);
  const madeUp = (ruleId: RuleId, name: string, history: Array<[string, 'open' | 'resolved', string]>, evidence: Record<string, unknown> = {}, severity?: Severity): LedgerEntry | undefined => {
    const r = rule(ruleId);
    if (!r) return undefined;
    const subject = ruleId.startsWith('SIGN-02')
      ? { kind: 'ip' as const, id: name, name }
      : { kind: 'user' as const, id: `demo-history-${name}`, name };
    const first = history[0] as [string, 'open' | 'resolved', string];
    const last = history[history.length - 1] as [string, 'open' | 'resolved', string];
    return {
      id: `demo-${fingerprint(ruleId, subject)}`.slice(0, 32),
      ruleId,
      kind: r.kind,
      area: r.area as Area,
      severity: severity ?? r.severity,
      clauses: r.clauses,
      title: r.title,
      subject,
      status: last[1],
      firstSeen: first[0],
      lastSeen: last[0],
      resolvedAt: last[1] === 'resolved' ? last[0] : null,
      reopenCount: history.filter((h) => h[2] === 'seen again after being resolved').length,
      evidence: { ...evidence, demoHistory: true },
      history: history.map(([hAt, status, note]) => ({ at: hAt, status, note })),
      ticket: null,
    };
  };
  const domain = o.policy.organization.internalDomains[0] ?? 'example.lg.jp';
  const occurrence = (start: string, extra: Record<string, unknown>) => ({
    windowStart: start,
    windowEnd: DateTime.fromISO(start).plus({ minutes: 25 }).toUTC().toISO(),
    distinctUsers: 1,
    users: [],
    distinctAddresses: 1,
    clientApps: ['Browser'],
    apps: ['Office 365 Exchange Online'],
    signInIds: [],
    signInIdsTruncated: 0,
    ...extra,
  });
  const made = [
    madeUp('MFA-02', `kyuuin.tanaka@${domain}`, [[at(6, 8), 'open', 'new'], [at(5, 12), 'resolved', 'not seen by a complete scan of its area']]),
    madeUp('ACCT-02', `taishoku.sato@${domain}`, [[at(4, 5), 'open', 'new'], [at(3, 6), 'resolved', 'not seen by a complete scan of its area'], [at(1, 12), 'open', 'seen again after being resolved'], [at(1, 25), 'resolved', 'not seen by a complete scan of its area']]),
    madeUp('ACCT-07', `rinji.suzuki@${domain}`, [[at(2, 5), 'open', 'new'], [at(1, 5), 'resolved', 'not seen by a complete scan of its area']]),
    madeUp('MAIL-01', `kaikei.ito@${domain}`, [[at(1, 5), 'open', 'new'], [at(1, 25), 'resolved', 'not seen by a complete scan of its area']], {}, 'critical'),
    madeUp('SIGN-01', `shokuin.kato@${domain}`, [[at(1, 9, 3), 'open', 'new'], [at(1, 10), 'resolved', 'closed by a person: パスワードを再設定し、本人に確認しました']], {
      occurrences: [occurrence(at(1, 9, 1), { failures: 14, successes: 0, addresses: ['203.0.113.24'], countries: ['JP'] })],
      failures: 14,
      successes: 0,
    }),
    madeUp('SIGN-04', `shucho.yamada@${domain}`, [[at(1, 17, 3), 'open', 'new'], [at(1, 18), 'resolved', 'closed by a person: 海外出張中の本人のサインインと確認しました']], {
      occurrences: [occurrence(at(1, 17, 1), { failures: 0, successes: 2, addresses: ['198.51.100.77'], countries: ['US'] })],
      failures: 0,
      successes: 2,
    }),
    madeUp('SIGN-02', '192.0.2.150', [[at(1, 21, 4), 'open', 'new'], [at(1, 22), 'resolved', 'closed by a person: 送信元を遮断しました']], {
      occurrences: [occurrence(at(1, 21, 2), { failures: 37, successes: 0, distinctUsers: 9, addresses: ['192.0.2.150'], countries: ['NL'] })],
      failures: 37,
      successes: 0,
    }),
  ].filter((x): x is LedgerEntry => x !== undefined && !ledger.has(x.id));
  await store.putLedgerEntries(o.tenantId, [...changed, ...made]);

  // Last month's inventory: the demo scan's, as if read at last month's last scan.
  const lastMonth = month(1).toFormat('yyyy-MM');
  if (o.inventory && !(await loadInventory(store, o.tenantId, lastMonth))) {
    const takenAt = (records[records.length - 1] as ScanRecord).startedAt;
    const shift = Date.parse(o.inventory.takenAt) - Date.parse(takenAt);
    const back = (iso: string | null): string | null => (iso ? new Date(Date.parse(iso) - shift).toISOString() : iso);
    const inv: AccessInventory = {
      ...o.inventory,
      scanId: (records[records.length - 1] as ScanRecord).scanId,
      takenAt,
      privileged: { ...o.inventory.privileged, rows: o.inventory.privileged.rows.map((r) => ({ ...r, lastSignIn: back(r.lastSignIn) })) },
      guests: { ...o.inventory.guests, rows: o.inventory.guests.rows.map((g) => ({ ...g, lastSignIn: back(g.lastSignIn) })) },
    };
    await recordInventory(store, inv, tz);
  }
  await store.setState(o.tenantId, DEMO_HISTORY_KEY, JSON.stringify({ seededAt: o.now.toISOString(), month: current.toFormat('yyyy-MM') }));
  return { seeded: true, scans: records.length, backdated: changed.length, madeUp: made.length };
}
