import { validatePolicy } from '../../src/config/policy';
import { applyExceptions, covers, inForce } from '../../src/findings/exceptions';
import { fingerprint, type Finding } from '../../src/findings/finding';

function finding(over: Partial<Finding> = {}): Finding {
  const subject = over.subject ?? { kind: 'user' as const, id: 'u-1', name: 'kyoyo-uketsuke@example.lg.jp' };
  return {
    id: fingerprint('ACCT-01', subject), ruleId: 'ACCT-01', clauses: ['5-1-1'], kind: 'state', severity: 'medium', area: 'accounts',
    subject, title: { ja: 't', en: 't' }, evidence: { a: 1 }, status: 'open', firstSeen: 'x', lastSeen: 'x', ...over,
  };
}

const exception = (subject: string, over: Record<string, string> = {}) => ({
  ruleId: 'ACCT-01', subject, reason: '窓口端末', approvedBy: 'sysadmin@example.lg.jp', compensatingControl: '操作ログを月次点検',
  approvedOn: '2026-04-01', expiresOn: '2027-03-31', ...over,
});

describe('exceptions', () => {
  it('match by subject id, UPN (any case), "*" and site URL prefix, for their rule only', () => {
    const p = (s: string) => validatePolicy({ exceptions: [exception(s)] }).exceptions[0]!;
    expect(covers(p('u-1'), finding())).toBe(true);
    expect(covers(p('Kyoyo-Uketsuke@Example.lg.jp'), finding())).toBe(true);
    expect(covers(p('*'), finding())).toBe(true);
    expect(covers(p('someone@example.lg.jp'), finding())).toBe(false);
    expect(covers(p('*'), finding({ ruleId: 'ACCT-02' }))).toBe(false);
    const item = finding({ ruleId: 'ACCT-01', subject: { kind: 'driveItem', id: 'b!x/01', name: '/Shared Documents/a.xlsx', url: 'https://example.sharepoint.com/sites/jinji/Shared%20Documents/a.xlsx' } });
    expect(covers(p('https://example.sharepoint.com/sites/jinji'), item)).toBe(true);
    expect(covers(p('https://example.sharepoint.com/sites/zaimu'), item)).toBe(false);
    // Prefixes match whole path segments only.
    expect(covers(p('https://example.sharepoint.com/sites/jin'), item)).toBe(false);
    expect(covers(p('https://example.sharepoint.com/sites/jinji/'), item)).toBe(true);
  });

  it('are in force from the start of approvedOn to the end of expiresOn in the organisation time zone', () => {
    const e = validatePolicy({ exceptions: [exception('*')] }).exceptions[0]!;
    // 2027-03-31 23:59 JST is 14:59 UTC; 2027-04-01 00:00 JST is 2027-03-31 15:00 UTC.
    expect(inForce(e, new Date('2027-03-31T14:59:59Z'), 'Asia/Tokyo')).toBe(true);
    expect(inForce(e, new Date('2027-03-31T15:00:00Z'), 'Asia/Tokyo')).toBe(false);
    expect(inForce(e, new Date('2026-03-31T14:59:59Z'), 'Asia/Tokyo')).toBe(false);
    expect(inForce(e, new Date('2026-03-31T15:00:00Z'), 'Asia/Tokyo')).toBe(true);
  });

  it('mark covered findings excepted with the exception as evidence; an expired one covers nothing', () => {
    const policy = validatePolicy({ exceptions: [exception('u-1'), exception('u-2', { approvedOn: '2025-01-01', expiresOn: '2025-12-31' })] });
    const [covered, expired, other] = applyExceptions(
      [finding(), finding({ subject: { kind: 'user', id: 'u-2', name: 'x@example.lg.jp' } }), finding({ subject: { kind: 'user', id: 'u-3', name: 'y@example.lg.jp' } })],
      policy,
      new Date('2026-11-27T00:00:00Z'),
    );
    expect(covered).toMatchObject({ status: 'excepted', evidence: { a: 1, exception: { approvedBy: 'sysadmin@example.lg.jp', compensatingControl: '操作ログを月次点検', expiresOn: '2027-03-31' } } });
    expect(expired?.status).toBe('open');
    expect(other?.status).toBe('open');
  });

  it('fingerprints are stable per rule and subject and differ otherwise', () => {
    expect(fingerprint('ACCT-01', { kind: 'user', id: 'u-1' })).toBe(fingerprint('ACCT-01', { kind: 'user', id: 'u-1' }));
    expect(fingerprint('ACCT-01', { kind: 'user', id: 'u-1' })).not.toBe(fingerprint('ACCT-02', { kind: 'user', id: 'u-1' }));
    expect(fingerprint('ACCT-01', { kind: 'user', id: 'u-1' })).not.toBe(fingerprint('ACCT-01', { kind: 'ip', id: 'u-1' }));
    expect(fingerprint('ACCT-01', { kind: 'user', id: 'u-1' })).toMatch(/^[0-9a-f]{32}$/);
  });
});
