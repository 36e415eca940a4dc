/**
 * A role held through a group is named in words where people read findings: the ticket body and
 * report.html say "via グループ <name>" (Japanese) / "via group <name>" (English).
 */
import { validatePolicy } from '../../src/config/policy';
import { fingerprint, type Finding } from '../../src/findings/finding';
import { reconcile, type LedgerEntry } from '../../src/findings/ledger';
import type { ScanResult } from '../../src/pipeline';
import { groupHoldingLine } from '../../src/report/holdings';
import { renderHtml } from '../../src/report/report';
import { ticketBody } from '../../src/tickets/body';

const GA = '62e90394-69f5-4237-9190-012177145e10';
const GROUP = { id: 'g-admins', displayName: '情報システム管理者グループ' };

function mfa01(): Finding {
  const subject = { kind: 'user' as const, id: 'u-1', name: 'shota.shibata@example.lg.jp' };
  return {
    id: fingerprint('MFA-01', subject), ruleId: 'MFA-01', clauses: ['5-1-3'], kind: 'state', severity: 'critical', area: 'mfa', subject,
    title: { ja: '特権 ID に多要素認証が未登録', en: 'Privileged user without MFA registered' },
    evidence: { isMfaRegistered: false, roles: [{ role: 'Global Administrator', roleId: GA, via: 'active', group: GROUP }, { role: 'Exchange Administrator', roleId: 'x', via: 'eligible' }] },
    status: 'open', firstSeen: '2026-04-28T01:00:00.000Z', lastSeen: '2026-04-28T01:00:00.000Z',
  };
}

describe('roles held through a group, in words', () => {
  it('the ticket body names the group (ja and en)', () => {
    const [entry] = reconcile(new Map(), { findings: [mfa01()], coverage: {}, areas: [], at: '2026-04-28T01:00:00.000Z' }).changed as [LedgerEntry];
    const ja = ticketBody(entry, { assignees: [], dueDate: '2026-04-30' }, validatePolicy({}));
    // As the report shows it: the role line names the group, and no JSON anywhere.
    expect(ja).toMatch(/^- 保有する特権ロール: Global Administrator（有効） via グループ 情報システム管理者グループ/m);
    expect(ja).not.toMatch(/[{[]"/);
    const en = ticketBody(entry, { assignees: [], dueDate: '2026-04-30' }, validatePolicy({ organization: { locale: 'en' } }));
    expect(en).toMatch(/via group 情報システム管理者グループ/);
    expect(en).not.toMatch(/[{[]"/);
  });

  it('report.html names the group', () => {
    const result: ScanResult = {
      schemaVersion: 1, tenantId: 't', scanId: 's', startedAt: '2026-04-28T01:00:00.000Z', finishedAt: '2026-04-28T01:01:00.000Z',
      areas: ['mfa'], coverage: { mfa: { status: 'complete', items: 1 } }, exitCode: 0, findings: [mfa01()], skipped: [],
      graph: { requests: 1, batchCalls: 0, batchItems: 0, retries: 0, throttled: 0, units: {} },
    };
    // The role line itself names the group, once (no second "held through groups" line repeating it).
    const html = renderHtml(result, 'ja', '西置賜行政組合');
    expect(html).toMatch(/<li[^>]*>Global Administrator（有効） via グループ 情報システム管理者グループ<\/li>/);
    expect(html).toMatch(/<li[^>]*>Exchange Administrator（適格）<\/li>/);
    expect(html).not.toContain('グループ経由の保有');
    expect(renderHtml(result, 'en', 'Org')).toMatch(/<li[^>]*>Global Administrator \(active\) via group 情報システム管理者グループ<\/li>/);
  });

  it('ACCT-04 holders: who holds it through which groups; nothing when no group is involved', () => {
    expect(groupHoldingLine({ holders: [
      { id: 'u-1', name: 'a@example.lg.jp', type: 'user', via: ['active'], groups: [GROUP], direct: true },
      { id: 'u-2', name: 'b@example.lg.jp', type: 'user', via: ['active'] },
    ] }, 'ja')).toEqual({ label: 'グループ経由の保有', text: 'a@example.lg.jp via グループ 情報システム管理者グループ、直接の割り当てもあり' });
    expect(groupHoldingLine({ roles: [{ role: 'Global Administrator', via: 'active' }] }, 'ja')).toBeUndefined();
  });
});
