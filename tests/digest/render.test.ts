/**
 * The digest HTML (render.ts) and the Teams announcement card (card.ts): same month twice gives
 * the same document; Outlook-safe (no script, every style inline, table layout); Japanese by
 * default, English on request; the chart is inline SVG; no JSON in any cell; the card validates
 * against Microsoft's Adaptive Card 1.5 schema.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDigestCard, digestMessage } from '../../src/digest/card';
import { accessInventory } from '../../src/digest/inventory';
import { digestModel, type DigestModel } from '../../src/digest/model';
import { digestSubject, renderDigestHtml } from '../../src/digest/render';
import { messageBytes, MESSAGE_BYTE_LIMIT } from '../../src/alerts/cards';
import { TENANT, ledger, policy, scans, snapshot } from './fixture';
import { validateCard } from '../support/card-schema';

function model(now = new Date('2026-12-01T03:00:00Z')): DigestModel {
  const p = policy();
  return digestModel({ month: '2026-11', tenantId: TENANT, entries: ledger(), scans: scans(), inventory: accessInventory(snapshot(), p, 's-11b'), policy: p, now });
}

/** The text of every table cell, tags stripped. */
function cells(html: string): string[] {
  return [...html.matchAll(/<td\b[^>]*>([\s\S]*?)<\/td>/g)].map((m) => (m[1] ?? '').replace(/<[^>]+>/g, '').replace(/&nbsp;/g, ' ').trim());
}

describe('renderDigestHtml', () => {
  let ja: string;
  let en: string;
  beforeAll(async () => {
    ja = await renderDigestHtml(model(), 'ja');
    en = await renderDigestHtml(model(), 'en');
  });

  it('the same month twice gives the same document, whenever it is generated', async () => {
    expect(await renderDigestHtml(model(), 'ja')).toBe(ja);
    expect(await renderDigestHtml(model(new Date('2027-02-14T09:00:00Z')), 'ja')).toBe(ja);
  });

  it('has no script, no external resource, and inline styles on its cells (juice)', () => {
    expect(ja).not.toMatch(/<script/i);
    expect(ja).not.toMatch(/\b(src|href)="https?:/i);
    expect(ja).toMatch(/<td[^>]* style="[^"]*border: 1px solid #ddd/);
    expect(ja).toMatch(/<table class="page" role="presentation" width="760"[^>]*style="/);
  });

  it('holds the trend chart as inline SVG with a Japanese-capable font', () => {
    const svg = /<svg[\s\S]*?<\/svg>/.exec(ja)?.[0] ?? '';
    expect(svg).toContain('class="marks"');
    expect(svg).toContain('IPAGothic');
    // One line per severity, in the legend with Japanese labels.
    for (const label of ['緊急', '高', '中', '低']) expect(svg).toContain(`>${label}<`);
  });

  it('no cell holds JSON, and times are local', () => {
    const all = cells(ja);
    expect(all.length).toBeGreaterThan(100);
    expect(all.filter((c) => /[{[]\s*"/.test(c))).toEqual([]);
    // 2026-10-31T15:30Z is 00:30 on 1 November in Tokyo.
    expect(all).toContain('2026-11-01 00:30');
    expect(ja).not.toContain('2026-10-31T15:30');
  });

  it('is Japanese by default and English with lang en', () => {
    expect(ja).toContain('<html lang="ja">');
    expect(ja).toContain('情報セキュリティ月次報告（CISO 向け） 2026年11月');
    expect(ja).toContain('アクセス権の棚卸');
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('Information-security monthly digest (for the CISO) November 2026');
    expect(en).toContain('Access review (5-2-2, 5-9-2)');
    expect(en).not.toContain('アクセス権の棚卸');
    expect(en).not.toContain('期限超過');
  });

  it('says which inventory section is incomplete, and lists the group-held administrator with its group', () => {
    expect(ja).toContain('取得が不完全です。この一覧は全件ではない可能性があります: roles: partial');
    expect(en).toContain('via group: Tenant Admins');
    expect(en).toMatch(/yamada@example\.lg\.jp[\s\S]*?Global Administrator[\s\S]*?NO/);
  });

  it('names the overdue ticket, its responsible person and how late it is', () => {
    expect(en).toMatch(/T-a-mfa01-nove[\s\S]*?soumu-kacho@example\.lg\.jp[\s\S]*?2026-11-02[\s\S]*?29 days/);
  });

  it("prints the month's evidence chain head (sequence and hash) in both languages, and says when there is none", async () => {
    const p = policy();
    const hash = 'ab'.repeat(32);
    const withHead = digestModel({ month: '2026-11', tenantId: TENANT, entries: ledger(), scans: scans(), policy: p, now: new Date('2026-12-01T03:00:00Z'), evidenceHead: { sequence: 42, hash, scanId: 's-11b', startedAt: '2026-11-28T18:00:00.000Z' } });
    expect(withHead.evidenceHead).toEqual({ sequence: 42, hash, scanId: 's-11b', startedAt: '2026-11-28T18:00:00.000Z' });
    const jaHead = await renderDigestHtml(withHead, 'ja');
    const enHead = await renderDigestHtml(withHead, 'en');
    // Local time (Asia/Tokyo): 2026-11-29 03:00.
    expect(cells(jaHead)).toContain(`連番 42（2026-11-29 03:00 開始の点検）${hash}`);
    expect(jaHead).toContain('m365-audit evidence verify');
    expect(cells(enHead)).toContain(`sequence 42 (the scan started 2026-11-29 03:00)${hash}`);
    expect(ja).toContain('今月の証跡の記録はありません。');
    expect(en).toContain('No evidence record this month.');
    expect(ja).not.toContain(hash);
  });

  it('the mail subject', () => {
    expect(digestSubject(model(), 'ja')).toBe('【西置賜行政組合】情報セキュリティ月次報告 2026年11月');
    expect(digestSubject(model(), 'en')).toBe('西置賜行政組合: information-security monthly digest, November 2026');
  });
});

describe('buildDigestCard', () => {
  const validate = validateCard;

  it('validates against the Adaptive Card 1.5 schema, links to the digest with Action.OpenUrl, and is small', () => {
    const card = buildDigestCard({ model: model(), lang: 'ja', url: 'https://store.example/digests/t/2026-11.html' });
    expect(validate(card)).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
    expect(card.version).toBe('1.5');
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: '月次報告を開く', url: 'https://store.example/digests/t/2026-11.html' }]);
    const facts = card.body.find((b) => b.type === 'FactSet');
    expect(facts).toEqual({
      type: 'FactSet',
      facts: [
        { title: '未対応の指摘', value: '緊急 1 / 高 2 / 中 1 / 低 0' },
        { title: '今月', value: '新規 3 件 / 解消 2 件 / 再発 1 件' },
        { title: '期限超過チケット', value: '2 件' },
        { title: '30 日以内に期限切れの例外', value: '1 件' },
        { title: '点検範囲', value: '不完全: ファイル共有' },
        { title: '証跡チェーンの先頭', value: '今月の証跡の記録はありません' },
      ],
    });
    expect(messageBytes(card)).toBeLessThan(MESSAGE_BYTE_LIMIT);
    expect(digestMessage({ model: model(), lang: 'en' }).attachments[0].content.body[0]).toEqual({
      type: 'TextBlock', text: '西置賜行政組合: information-security monthly digest, November 2026', weight: 'bolder', size: 'medium', wrap: true,
    });
  });

  it("prints the month's evidence chain head (sequence and the hash's first 12 hex digits), in Japanese and English; still valid", () => {
    const p = policy();
    const hash = 'ab12cd34ef56'.concat('9'.repeat(52));
    const withHead = digestModel({ month: '2026-11', tenantId: TENANT, entries: ledger(), scans: scans(), policy: p, now: new Date('2026-12-01T03:00:00Z'), evidenceHead: { sequence: 42, hash, scanId: 's-11b', startedAt: '2026-11-28T18:00:00.000Z' } });
    const fact = (lang: 'ja' | 'en') => {
      const card = buildDigestCard({ model: withHead, lang, url: 'https://store.example/digests/t/2026-11.html' });
      expect(validate(card)).toBe(true);
      expect(validate.errors ?? []).toEqual([]);
      expect(messageBytes(card)).toBeLessThan(MESSAGE_BYTE_LIMIT);
      const set = card.body.find((b) => b.type === 'FactSet') as { facts: Array<{ title: string; value: string }> } | undefined;
      return set?.facts.at(-1);
    };
    expect(fact('ja')).toEqual({ title: '証跡チェーンの先頭', value: '連番 42 / SHA-256 ab12cd34ef56…' });
    expect(fact('en')).toEqual({ title: 'Evidence chain head', value: 'sequence 42 / SHA-256 ab12cd34ef56…' });
    // Only the short hash: the full one is in the digest the card links to.
    expect(JSON.stringify(buildDigestCard({ model: withHead, lang: 'ja' }))).not.toContain(hash);
    expect(JSON.stringify(buildDigestCard({ model: model(), lang: 'en' }))).toContain('no evidence record this month');
  });

  it('without a usable URL it has no action and says the digest was mailed; still valid', () => {
    const card = buildDigestCard({ model: model(), lang: 'en', url: 'javascript:alert(1)' });
    expect(validate(card)).toBe(true);
    expect(card.actions).toBeUndefined();
    expect(JSON.stringify(card.body)).toContain('The digest was mailed to the CISO.');
  });
});
