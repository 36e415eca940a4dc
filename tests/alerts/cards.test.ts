/**
 * The alert card builders (src/alerts/cards.ts): every card they produce validates against
 * Microsoft's Adaptive Card 1.5 JSON schema (exact copy in tests/reference/), uses Action.OpenUrl
 * only, stays under Teams' 28,672-byte message limit, and keeps a pinned layout in both languages.
 */
import {
  buildRunCard,
  buildSignInCard,
  envelope,
  messageBytes,
  MAX_ITEMS,
  MESSAGE_BYTE_LIMIT,
  type AdaptiveCard,
  type AlertInput,
  type AlertPolicy,
} from '../../src/alerts/cards';
import type { LedgerEntry, TicketRecord } from '../../src/findings/ledger';
import type { RuleId, Severity } from '../../src/rules/ids';
import { entry as fixtureEntry, ticket } from '../support/alert-fixtures';
import { validateCard } from '../support/card-schema';

const validate = validateCard;

function expectValid(card: AdaptiveCard | undefined): asserts card is AdaptiveCard {
  expect(card).toBeDefined();
  const ok = validate(card);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
  expect(card!.version).toBe('1.5');
  expect(actionTypes(card)).toEqual(actionTypes(card).filter((t) => t === 'Action.OpenUrl'));
  expect(messageBytes(card!)).toBeLessThan(MESSAGE_BYTE_LIMIT);
}

/** Every `type` of an action (anything with a `url`, `actions` members, selectAction) in the card. */
function actionTypes(node: unknown): string[] {
  const out: string[] = [];
  const walk = (n: unknown, inActions: boolean): void => {
    if (Array.isArray(n)) return n.forEach((x) => walk(x, inActions));
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if (inActions && typeof o.type === 'string') out.push(o.type);
    if (typeof o.type === 'string' && o.type.startsWith('Action.') && !inActions) out.push(o.type);
    for (const [k, v] of Object.entries(o)) walk(v, k === 'actions' || k === 'selectAction');
  };
  walk(node, false);
  return out;
}

const ja: AlertPolicy = { organization: { locale: 'ja' }, alerts: { minSeverity: 'high' } };
const en: AlertPolicy = { organization: { locale: 'en' }, alerts: { minSeverity: 'high' } };

/** A ledger entry with a generic title and subject (tests/support/alert-fixtures.ts). */
function entry(n: number, ruleId: RuleId, severity: Severity, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return fixtureEntry(n, ruleId, severity, { ja: `規則${ruleId}の指摘`, en: `${ruleId} finding` }, `user${n}@contoso.example`, ['5-3-3'], { area: 'accounts', ...over });
}

const base = { organization: '西置賜行政組合', tenantId: '11111111-2222-3333-4444-555555555555' };

describe('buildRunCard', () => {
  it('is undefined with nothing new, nothing at the threshold, or only excepted entries', () => {
    expect(buildRunCard({ ...base, opened: [] }, ja)).toBeUndefined();
    expect(buildRunCard({ ...base, opened: [entry(1, 'ACCT-03', 'medium'), entry(2, 'FILE-04', 'low')] }, ja)).toBeUndefined();
    expect(buildRunCard({ ...base, opened: [entry(3, 'MFA-01', 'critical', { status: 'excepted' })] }, ja)).toBeUndefined();
  });

  it('pins the Japanese layout: header, counts, most severe first, reopened marked, task and report links', () => {
    const input: AlertInput = {
      ...base,
      opened: [
        entry(1, 'ACCT-01', 'high', { ticket: ticket('2026-12-15', ['soumu@contoso.example', 'admin@contoso.example']) }),
        entry(2, 'ACCT-03', 'medium'),
      ],
      reopened: [entry(3, 'MFA-01', 'critical', { clauses: ['6-2-1', '6-2-3'], reopenCount: 1, ticket: ticket('2026-12-08', ['admin@contoso.example']) })],
      reportUrl: 'https://reports.contoso.example/latest.html',
      taskUrls: { [entry(3, 'MFA-01', 'critical').id]: 'https://tasks.office.com/contoso.example/Home/Task/abc' },
    };
    const card = buildRunCard(input, ja);
    expectValid(card);
    expect(card).toEqual({
      type: 'AdaptiveCard',
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      version: '1.5',
      fallbackText: '西置賜行政組合: 新しい指摘 (2)',
      body: [
        { type: 'TextBlock', text: '西置賜行政組合: 新しい指摘', size: 'large', weight: 'bolder', wrap: true },
        {
          type: 'FactSet',
          facts: [
            { title: 'テナント', value: '11111111-2222-3333-4444-555555555555' },
            { title: '件数', value: '緊急 1 件、高 1 件' },
          ],
        },
        {
          type: 'Container',
          separator: true,
          spacing: 'medium',
          items: [
            { type: 'TextBlock', text: '[緊急] MFA-01 規則MFA-01の指摘（再発）', wrap: true, weight: 'bolder', color: 'attention' },
            { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'user3@contoso.example' }], spacing: 'none' },
            {
              type: 'FactSet',
              spacing: 'small',
              facts: [
                { title: '条項', value: '6-2-1、6-2-3' },
                { title: '期限', value: '2026-12-08' },
                { title: '担当', value: 'admin@contoso.example' },
              ],
            },
            {
              type: 'ActionSet',
              actions: [{ type: 'Action.OpenUrl', title: 'Planner のタスクを開く', url: 'https://tasks.office.com/contoso.example/Home/Task/abc' }],
            },
          ],
        },
        {
          type: 'Container',
          separator: true,
          spacing: 'medium',
          items: [
            { type: 'TextBlock', text: '[高] ACCT-01 規則ACCT-01の指摘', wrap: true, weight: 'bolder' },
            { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'user1@contoso.example' }], spacing: 'none' },
            {
              type: 'FactSet',
              spacing: 'small',
              facts: [
                { title: '条項', value: '5-3-3' },
                { title: '期限', value: '2026-12-15' },
                { title: '担当', value: 'soumu@contoso.example、admin@contoso.example' },
              ],
            },
          ],
        },
      ],
      actions: [{ type: 'Action.OpenUrl', title: '報告書を開く', url: 'https://reports.contoso.example/latest.html' }],
    });
  });

  it('pins the English layout, with no report URL: no card actions, no ticket → unassigned', () => {
    const card = buildRunCard({ ...base, organization: 'Contoso', opened: [entry(1, 'ACCT-01', 'high'), entry(2, 'ACCT-03', 'low')] }, en);
    expectValid(card);
    expect(card).toEqual({
      type: 'AdaptiveCard',
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      version: '1.5',
      fallbackText: 'Contoso: new findings (1)',
      body: [
        { type: 'TextBlock', text: 'Contoso: new findings', size: 'large', weight: 'bolder', wrap: true },
        {
          type: 'FactSet',
          facts: [
            { title: 'Tenant', value: '11111111-2222-3333-4444-555555555555' },
            { title: 'Count', value: 'high 1' },
          ],
        },
        {
          type: 'Container',
          separator: true,
          spacing: 'medium',
          items: [
            { type: 'TextBlock', text: '[high] ACCT-01 ACCT-01 finding', wrap: true, weight: 'bolder' },
            { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'user1@contoso.example' }], spacing: 'none' },
            {
              type: 'FactSet',
              spacing: 'small',
              facts: [
                { title: 'Clause', value: '5-3-3' },
                { title: 'Due', value: '—' },
                { title: 'Responsible', value: 'unassigned' },
              ],
            },
          ],
        },
      ],
    });
    expect(card.actions).toBeUndefined();
  });

  it('includes every new event finding whatever its severity, and honours a lower threshold', () => {
    const event = entry(5, 'SIGN-03', 'low', { area: 'signins', subject: { kind: 'ip', id: '203.0.113.9', name: '203.0.113.9' } });
    const card = buildRunCard({ ...base, opened: [entry(1, 'ACCT-03', 'medium'), event] }, ja);
    expectValid(card);
    expect(JSON.stringify(card)).toContain('[低] SIGN-03');
    expect(JSON.stringify(card)).not.toContain('ACCT-03');
    const lower = buildRunCard({ ...base, opened: [entry(1, 'ACCT-03', 'medium'), event] }, { ...ja, alerts: { minSeverity: 'medium' } });
    expectValid(lower);
    expect(JSON.stringify(lower)).toContain('[中] ACCT-03');
  });

  it('a non-http report or task URL becomes no link (a broken button helps nobody)', () => {
    const e = entry(1, 'ACCT-01', 'high');
    const card = buildRunCard({ ...base, opened: [e], reportUrl: 'file:///tmp/report.html', taskUrls: { [e.id]: 'not a url' } }, ja);
    expectValid(card);
    expect(actionTypes(card)).toEqual([]);
  });

  it('shows at most MAX_ITEMS and says how many more, pointing at the report', () => {
    const opened = Array.from({ length: MAX_ITEMS + 7 }, (_, i) => entry(i, 'ACCT-01', 'high'));
    const card = buildRunCard({ ...base, opened, reportUrl: 'https://r.example/x' }, ja);
    expectValid(card);
    expect(card.body.filter((b) => b.type === 'Container')).toHaveLength(MAX_ITEMS);
    expect(card.body.at(-1)).toEqual({ type: 'TextBlock', text: '… ほか 7 件 — 報告書を参照してください', wrap: true, isSubtle: true, spacing: 'medium' });
    const enCard = buildRunCard({ ...base, opened }, en);
    expectValid(enCard);
    expect(enCard.body.at(-1)).toMatchObject({ text: '… and 7 more' });
  });

  it('300 findings with long names: the message stays under 28,672 bytes, drops items and says how many more', () => {
    const longPath = `https://contoso.sharepoint.com/sites/総務課/Shared Documents/${'令和六年度の予算資料/'.repeat(40)}`;
    const opened = Array.from({ length: 300 }, (_, i) =>
      entry(i, 'FILE-01', i % 3 === 0 ? 'critical' : 'high', {
        area: 'files',
        subject: { kind: 'driveItem', id: `d/${i}`, name: `${longPath}文書${i}.xlsx` },
        ticket: ticket('2026-12-15', ['soumu@contoso.example', 'admin@contoso.example', 'ciso@contoso.example']),
      }),
    );
    const taskUrls = Object.fromEntries(opened.map((e) => [e.id, `https://tasks.office.com/contoso.example/Home/Task/${e.id}`]));
    for (const policy of [ja, en]) {
      const card = buildRunCard({ ...base, opened, taskUrls, reportUrl: 'https://r.example/x' }, policy);
      expectValid(card);
      const bytes = Buffer.byteLength(JSON.stringify(envelope(card)), 'utf8');
      expect(bytes).toBeLessThan(MESSAGE_BYTE_LIMIT);
      const shown = card.body.filter((b) => b.type === 'Container').length;
      // The cap, not MAX_ITEMS, limited the items: one more would not have fitted.
      expect(shown).toBeGreaterThan(0);
      expect(shown).toBeLessThan(MAX_ITEMS);
      expect(bytes).toBeGreaterThan(MESSAGE_BYTE_LIMIT * 0.8);
      const more = policy === ja ? `… ほか ${300 - shown} 件 — 報告書を参照してください` : `… and ${300 - shown} more — see the report`;
      expect(card.body.at(-1)).toMatchObject({ type: 'TextBlock', text: more });
      // Critical ones first, and the header counts all 300.
      expect(JSON.stringify(card.body[2])).toContain(policy === ja ? '[緊急]' : '[critical]');
      expect(card.body[1]).toEqual({
        type: 'FactSet',
        facts: [
          { title: policy === ja ? 'テナント' : 'Tenant', value: base.tenantId },
          { title: policy === ja ? '件数' : 'Count', value: policy === ja ? '緊急 100 件、高 200 件' : 'critical 100, high 200' },
        ],
      });
    }
  });

  it('one item too large for the message on its own: its texts are shortened, it never fails', () => {
    const huge = entry(1, 'FILE-01', 'critical', { subject: { kind: 'driveItem', id: 'd/1', name: 'あ'.repeat(20_000) } });
    const card = buildRunCard({ ...base, organization: '組'.repeat(20_000), opened: [huge] }, ja);
    expectValid(card);
    expect(card.body.filter((b) => b.type === 'Container')).toHaveLength(1);
    expect(JSON.stringify(card)).toContain('あ…');
  });
});

describe('buildSignInCard', () => {
  const detection = (n: number, severity: Severity): LedgerEntry =>
    entry(n, 'SIGN-01', severity, {
      area: 'signins',
      clauses: ['7-3-2'],
      title: { ja: '短時間のサインイン失敗の集中', en: 'Burst of failed sign-ins' },
      subject: { kind: 'user', id: `u${n}`, name: `user${n}@contoso.example` },
    });

  it('is undefined without detections', () => {
    expect(buildSignInCard({ ...base, opened: [] }, ja)).toBeUndefined();
  });

  it('pins its own heading in both languages and lists every detection, reopened marked', () => {
    const ja1 = buildSignInCard({ ...base, opened: [detection(1, 'medium')], reopened: [detection(2, 'high')] }, ja);
    expectValid(ja1);
    expect(ja1.body.slice(0, 2)).toEqual([
      { type: 'TextBlock', text: '西置賜行政組合: サインイン監視の新しい検知', size: 'large', weight: 'bolder', wrap: true },
      {
        type: 'FactSet',
        facts: [
          { title: 'テナント', value: base.tenantId },
          { title: '件数', value: '高 1 件、中 1 件' },
        ],
      },
    ]);
    expect(ja1.body.slice(2).map((b) => (b.type === 'Container' && b.items[0]?.type === 'TextBlock' ? b.items[0].text : ''))).toEqual([
      '[高] SIGN-01 短時間のサインイン失敗の集中（再発）',
      '[中] SIGN-01 短時間のサインイン失敗の集中',
    ]);
    const en1 = buildSignInCard({ ...base, organization: 'Contoso', opened: [detection(1, 'medium')] }, en);
    expectValid(en1);
    expect(en1.body[0]).toEqual({ type: 'TextBlock', text: 'Contoso: new sign-in watch detections', size: 'large', weight: 'bolder', wrap: true });
    expect(en1.body[2]).toMatchObject({ type: 'Container', items: expect.arrayContaining([{ type: 'TextBlock', text: '[medium] SIGN-01 Burst of failed sign-ins', wrap: true, weight: 'bolder' }]) });
  });
});

describe('the alert id and the resend note', () => {
  it('end the card with the alert id, and a resend says near the top that it may repeat one received', () => {
    const first = buildRunCard({ ...base, opened: [entry(1, 'MFA-01', 'critical')], alertId: '0f3c9a2e-1111-2222-3333-444455556666' }, ja);
    expectValid(first);
    expect(first.body[first.body.length - 1]).toEqual({ type: 'TextBlock', text: '通知 ID: 0f3c9a2e-1111-2222-3333-444455556666', wrap: true, isSubtle: true, size: 'small', spacing: 'medium' });
    expect(JSON.stringify(first)).not.toContain('再送');
    const again = buildRunCard({ ...base, opened: [entry(1, 'MFA-01', 'critical')], alertId: '0f3c9a2e-1111-2222-3333-444455556666', resendOf: '2026-12-01T03:00:00Z' }, ja);
    expectValid(again);
    expect(again.body[2]).toEqual({ type: 'TextBlock', text: expect.stringMatching(/^再送: .*同じ通知 ID のカードが既に届いている場合、これは重複です。$/), wrap: true, color: 'attention', spacing: 'small' });
    const en1 = buildSignInCard({ ...base, opened: [entry(2, 'SIGN-03', 'critical')], alertId: 'abc', resendOf: '2026-12-01T03:00:00Z' }, en);
    expectValid(en1);
    expect(JSON.stringify(en1)).toContain('Sent again: the outcome of the first attempt could not be recorded.');
    expect(JSON.stringify(en1)).toContain('Alert id: abc');
  });

  it('a resend of 300 findings still fits under the cap', () => {
    const many = Array.from({ length: 300 }, (_, i) => entry(i, 'MFA-01', 'critical', { subject: { kind: 'user', id: `u${i}`, name: `${'長い名前'.repeat(40)}${i}` } }));
    const card = buildRunCard({ ...base, opened: many, alertId: 'x'.repeat(36), resendOf: '2026-12-01T03:00:00Z' }, ja);
    expectValid(card);
  });
});

describe('the schema check itself', () => {
  it('rejects Action.Submit and a misspelled property, so a passing card means something', () => {
    expect(validate({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'x', colour: 'good' }] })).toBe(false);
    expect(validate({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'x' }] })).toBe(true);
    const submit = { type: 'AdaptiveCard', version: '1.5', body: [], actions: [{ type: 'Action.Submit', title: 'x' }] };
    expect(validate(submit)).toBe(true); // valid Adaptive Card, so the builders' own check must catch it:
    expect(actionTypes(submit)).toEqual(['Action.Submit']);
    expect(actionTypes({ body: [{ type: 'ActionSet', actions: [{ type: 'Action.Execute' }] }] })).toEqual(['Action.Execute']);
  });
});

describe('envelope', () => {
  it('wraps the card in the Workflows webhook message', () => {
    const card = buildRunCard({ ...base, opened: [entry(1, 'ACCT-01', 'high')] }, ja);
    expectValid(card);
    expect(envelope(card)).toEqual({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] });
  });
});
