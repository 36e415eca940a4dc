/**
 * findings.csv for Excel: UTF-8 with BOM, headers and values in the organisation's language
 * (English with --lang en), local times, one row per finding listed in the report with its
 * ticket, owner, due date, remediation and readable evidence.
 */
import { validatePolicy } from '../../src/config/policy';
import { fingerprint, type Finding } from '../../src/findings/finding';
import { reconcile } from '../../src/findings/ledger';
import type { ScanResult } from '../../src/pipeline';
import { renderCsv } from '../../src/report/report';
import type { ReportLedger } from '../../src/report/view';

const policy = validatePolicy({
  organization: { systemAdministrators: ['sysadmin@example.lg.jp'], departments: [{ name: '総務課', owner: 'soumu-kacho@example.lg.jp' }] },
});
const NOW = new Date('2026-11-27T02:00:00.000Z'); // Fri 11:00 JST

/** RFC 4180 records (quoted fields may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

function mail01(): Finding {
  const subject = { kind: 'user' as const, id: 'u-1', name: 'tatsuya.okada@example.lg.jp' };
  return {
    id: fingerprint('MAIL-01', subject), ruleId: 'MAIL-01', clauses: ['5-7-4', '5-7-1'], kind: 'state', severity: 'critical', area: 'mail', subject,
    title: { ja: '外部宛ての自動転送ルール', en: 'Inbox rule forwarding outside' },
    evidence: { rules: [{ name: '自宅へ転送', id: 'AQAAAJ204cA=', destinations: ['tatsuya.okada.1985@gmail.com'], actions: ['forwardTo'] }], freeMail: true },
    status: 'open', firstSeen: NOW.toISOString(), lastSeen: NOW.toISOString(),
  };
}

function scan(findings: Finding[]): { result: ScanResult; ledger: ReportLedger } {
  const rec = reconcile(new Map(), { findings, coverage: { mail: { status: 'complete', items: 1 } }, areas: ['mail'], at: NOW.toISOString() });
  const result: ScanResult = {
    schemaVersion: 1, tenantId: 't', scanId: 's', startedAt: NOW.toISOString(), finishedAt: NOW.toISOString(), areas: ['mail'],
    coverage: { mail: { status: 'complete', items: 1 } }, exitCode: 0, findings, skipped: [],
    graph: { requests: 1, batchCalls: 0, batchItems: 0, retries: 0, throttled: 0, units: {} },
  };
  const names = new Map([['tatsuya.okada@example.lg.jp', '岡田 達也'], ['soumu-kacho@example.lg.jp', '総務 課長']]);
  return {
    result,
    ledger: {
      entries: [...rec.entries.values()], opened: rec.opened, reopened: rec.reopened, resolved: rec.resolved,
      departmentOf: (id) => (id === 'u-1' ? '総務課' : undefined), displayNameOf: (k) => names.get(k), policy, now: NOW,
    },
  };
}

describe('findings.csv', () => {
  it('Japanese by default: BOM, Japanese headers and values, JST times, ticket, owner, due date, remediation, readable evidence', () => {
    const { result, ledger } = scan([mail01()]);
    const csv = renderCsv(result, 'ja', 'Asia/Tokyo', ledger);
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    const [header, row, ...rest] = parseCsv(csv.slice(1));
    expect(rest).toEqual([]);
    expect(header).toEqual(['チケット ID', '重要度', '状態', '領域', 'ルール', '指摘', '内容', '対象', '対象の種類', '担当', '期限', '期限超過', '初回検出', '最終確認', '今回の点検で検出', '対応内容', '根拠', '基準の条項', '指摘 ID']);
    const cell = Object.fromEntries((header ?? []).map((h, i) => [h, row?.[i] ?? '']));
    expect(cell).toMatchObject({
      'チケット ID': `T-${mail01().id.slice(0, 12)}`,
      重要度: '緊急',
      状態: '未対応',
      領域: 'メール',
      対象: '岡田 達也（tatsuya.okada@example.lg.jp）',
      対象の種類: '利用者',
      担当: '総務 課長（soumu-kacho@example.lg.jp）',
      // critical: one business day (the default policy) after Friday 27 November → Monday 30 November.
      期限: '2026-11-30',
      期限超過: 'いいえ',
      今回の点検で検出: 'はい',
      根拠: '外部へ転送する受信トレイ ルール: 「自宅へ転送」（転送） → tatsuya.okada.1985@gmail.com\nフリーメール宛て: はい',
      基準の条項: '5-7-4 5-7-1',
    });
    expect(cell['初回検出']).toMatch(/^2026-11-27 11:00:00 (JST|GMT\+9)$/);
    expect(cell['内容']).toContain('組織外の tatsuya.okada.1985@gmail.com へメールを自動転送しています');
    expect(cell['対応内容']).toContain('Remove-InboxRule');
    expect(csv).not.toMatch(/\{"|":|\[\{/);
  });

  it('English with --lang en: English headers and values, still local times', () => {
    const { result, ledger } = scan([mail01()]);
    const [header, row] = parseCsv(renderCsv(result, 'en', 'Asia/Tokyo', ledger).slice(1));
    expect(header?.slice(0, 6)).toEqual(['Ticket', 'Severity', 'Status', 'Area', 'Rule', 'Finding']);
    const cell = Object.fromEntries((header ?? []).map((h, i) => [h, row?.[i] ?? '']));
    expect(cell).toMatchObject({ Severity: 'critical', Status: 'Open', Area: 'Mail', 'Subject kind': 'user', Overdue: 'no', 'Seen by this scan': 'yes' });
    expect(cell['First seen']).toMatch(/^2026-11-27 11:00:00 (JST|GMT\+9)$/);
    expect(cell.Evidence).toBe('Inbox rules forwarding outside: "自宅へ転送" (forward) → tatsuya.okada.1985@gmail.com\nTo free mail: yes');
    expect(cell.Remediation).toMatch(/^1\) Find the rule in the Exchange admin center/);
  });

  it('without a ledger: one row per finding of the scan, no ticket columns filled', () => {
    const { result } = scan([mail01()]);
    const rows = parseCsv(renderCsv(result, 'ja').slice(1));
    expect(rows).toHaveLength(2);
    expect(rows[1]?.[0]).toBe('');
    expect(rows[1]?.[9]).toBe('');
  });
});
