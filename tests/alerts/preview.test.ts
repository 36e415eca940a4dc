/**
 * The alert preview (src/alerts/preview.ts): cards from the real builders are written to
 * alerts/*.json and alerts.html is opened in headless chromium, where Microsoft's renderer must
 * render every one of them without a renderer error, with no network request and no page error.
 * Negative cases prove the check can fail: a card the 1.5 renderer rejects, a missing required
 * property and a broken file are reported, and the other cards still render.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { buildRunCard, buildSignInCard, envelope, type AdaptiveCard, type TeamsMessage } from '../../src/alerts/cards';
import { alertsHtml, readRendererScript, writeAlertFiles, type AlertPreviewItem } from '../../src/alerts/preview';
import { demoRunInput, entry, manyInput, policyEn, policyJa, signInInput, ORGANIZATION, TENANT_ID } from '../support/alert-fixtures';
import { launchChromium } from '../support/browser';

interface RenderResult {
  name: string;
  rendered: boolean;
  errors: string[];
}

interface Opened {
  page: Page;
  results: RenderResult[];
  /** Every request the browser made other than loading the page itself. */
  requests: string[];
  pageErrors: string[];
  consoleErrors: string[];
  close: () => Promise<void>;
}

let browser: Browser;
const dirs: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'alerts-preview-'));
  dirs.push(d);
  return d;
}

async function open(htmlPath: string): Promise<Opened> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const url = pathToFileURL(htmlPath).href;
  const requests: string[] = [];
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  context.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  await page.goto(url);
  // The page script sets the body's status once every card is done. (A locator, not
  // waitForFunction: the page's CSP forbids the eval a string predicate needs.)
  await page.locator('body:not([data-render-status="pending"])').waitFor({ state: 'attached' });
  const results = (await page.evaluate('window.__alertRender')) as RenderResult[];
  return { page, results, requests, pageErrors, consoleErrors, close: () => context.close() };
}

function message(card: AdaptiveCard | undefined): TeamsMessage {
  if (!card) throw new Error('the builder made no card');
  return envelope(card);
}

/** The cards the tests write: run and sign-in cards in both languages and a capped 300-finding card. */
function cards(): AlertPreviewItem[] {
  return [
    { name: '20261201T000500Z-run-ja', message: message(buildRunCard(demoRunInput(), policyJa)), caption: 'not sent: TEAMS_WEBHOOK_URL is not set' },
    { name: '20261201T000500Z-run-en', message: message(buildRunCard(demoRunInput(), policyEn)) },
    { name: '20261201T001500Z-signins-ja', message: message(buildSignInCard(signInInput(), policyJa)) },
    { name: '20261201T001500Z-signins-en', message: message(buildSignInCard(signInInput(), policyEn)) },
    { name: '20261201T003000Z-run-300', message: message(buildRunCard(manyInput(300), policyJa)) },
  ];
}

describe('alerts.html in chromium', () => {
  it('shows a subject name that looks like Markdown as plain text: no link, no emphasis', async () => {
    const out = await tempDir();
    const trap = '[パスワード再設定](https://evil.example/reset) **至急** _対応_';
    const card = buildRunCard({ organization: ORGANIZATION, tenantId: TENANT_ID, opened: [entry(1, 'MFA-01', 'critical', { ja: '特権ロール保有者の多要素認証が未登録', en: 'x' }, trap, ['5-1-3'])] }, policyJa);
    const { html } = await writeAlertFiles(out, [{ name: '20261201T000000Z-run-trap', message: message(card) }], 'ja');
    const o = await open(html);
    try {
      expect(o.results).toEqual([expect.objectContaining({ rendered: true, errors: [] })]);
      const frame = o.page.locator('section.alert .ac-adaptiveCard');
      expect(await frame.locator('a[href*="evil.example"]').count()).toBe(0);
      expect(await frame.locator('strong, b, em, i').count()).toBe(0);
      expect(await frame.innerText()).toContain(trap);
    } finally {
      await o.close();
    }
  });

  it('renders every card written to alerts/ with no renderer error, no network request and no page error', async () => {
    const out = await tempDir();
    const items = cards();
    const { files, html } = await writeAlertFiles(out, items, 'ja');
    expect(files).toEqual(items.map((i) => join(out, 'alerts', `${i.name}.json`)));
    // Each file is exactly the webhook body.
    for (const item of items) expect(await readFile(join(out, 'alerts', `${item.name}.json`), 'utf8')).toBe(JSON.stringify(item.message));
    expect((await readdir(join(out, 'alerts'))).sort()).toEqual(items.map((i) => `${i.name}.json`).sort());

    const o = await open(html);
    try {
      // Newest name first.
      expect(o.results.map((r) => r.name)).toEqual(items.map((i) => i.name).sort().reverse());
      expect(o.results.flatMap((r) => r.errors)).toEqual([]);
      expect(o.results.every((r) => r.rendered)).toBe(true);
      expect(await o.page.locator('.teams-frame .ac-adaptiveCard').count()).toBe(items.length);
      expect(await o.page.locator('section.alert[data-render-status="rendered"]').count()).toBe(items.length);
      expect(await o.page.getAttribute('body', 'data-render-status')).toBe('ok');

      const body = await o.page.locator('main').innerText();
      expect(body).toContain(`${ORGANIZATION}: 新しい指摘`);
      expect(body).toContain(`${ORGANIZATION}: new findings`);
      expect(body).toContain(`${ORGANIZATION}: サインイン監視の新しい検知`);
      expect(body).toContain(TENANT_ID);
      expect(body).toContain('特権 ID に多要素認証が未登録');
      expect(body).toContain('Privileged user without MFA registered');
      expect(body).toContain('パスワードスプレー攻撃の兆候（送信元 IP）');
      expect(body).toContain('（再発）');
      expect(body).toContain('not sent: TEAMS_WEBHOOK_URL is not set');
      // The 300-finding card shows its first items and says how many more.
      const capped = o.page.locator('section.alert[data-name="20261201T003000Z-run-300"]');
      expect(await capped.innerText()).toMatch(/… ほか \d+ 件 — 報告書を参照してください/);
      const more = /… ほか (\d+) 件/.exec(await capped.innerText());
      const shown = await capped.locator('.ac-container .ac-factset').count();
      expect(Number(more?.[1]) + shown - 1).toBe(300); // the header has a FactSet too
      // The page is visible text, not hidden: the first card's heading is on screen.
      await expect(o.page.getByText(`${ORGANIZATION}: 新しい指摘`).first().isVisible()).resolves.toBe(true);

      expect(o.requests).toEqual([]);
      expect(o.pageErrors).toEqual([]);
      expect(o.consoleErrors).toEqual([]);
    } finally {
      await o.close();
    }
  });

  it('opens an OpenUrl button in a new window and leaves the preview page where it is', async () => {
    const out = await tempDir();
    const { html } = await writeAlertFiles(out, [cards()[0]!], 'ja');
    const o = await open(html);
    try {
      // The new window's request is answered here: nothing leaves the machine.
      await o.page.context().route('https://reports.example.lg.jp/**', (r) => r.fulfill({ contentType: 'text/html', body: '<p>report</p>' }));
      const popup = o.page.waitForEvent('popup');
      // The renderer gives an OpenUrl button the link role.
      await o.page.getByRole('link', { name: '報告書を開く' }).click();
      const p = await popup;
      await p.waitForURL('https://reports.example.lg.jp/m365-audit/latest.html');
      expect(o.page.url()).toBe(pathToFileURL(html).href);
      expect(await o.page.locator('.teams-frame .ac-adaptiveCard').count()).toBe(1);
    } finally {
      await o.close();
    }
  });

  it('reports a card the 1.5 renderer rejects, a missing required property and a newer version as renderer errors', async () => {
    const out = await tempDir();
    const good = cards()[2]!;
    const base = good.message.attachments[0].content;
    const withBody = (body: unknown[], over: Record<string, unknown> = {}): TeamsMessage =>
      ({ ...good.message, attachments: [{ ...good.message.attachments[0], content: { ...base, body: [...base.body, ...body], ...over } }] }) as unknown as TeamsMessage;
    const items: AlertPreviewItem[] = [
      good,
      // Carousel is Adaptive Cards 1.6: a 1.5 host does not know it.
      { name: 'bad-carousel', message: withBody([{ type: 'Carousel', pages: [{ type: 'CarouselPage', items: [{ type: 'TextBlock', text: 'x' }] }] }]) },
      { name: 'bad-no-url', message: withBody([{ type: 'ActionSet', actions: [{ type: 'Action.OpenUrl', title: 'open' }] }]) },
      { name: 'bad-version', message: withBody([], { version: '1.6' }) },
      { name: 'bad-unknown', message: withBody([{ type: 'Sparkline', values: [1, 2] }]) },
    ];
    const { html } = await writeAlertFiles(out, items, 'en');
    const o = await open(html);
    try {
      const byName = new Map(o.results.map((r) => [r.name, r]));
      expect(byName.get(good.name)).toEqual({ name: good.name, rendered: true, errors: [] });
      expect(byName.get('bad-carousel')?.errors.join('\n')).toMatch(/UnknownElementType.*Carousel/);
      expect(byName.get('bad-no-url')?.errors.join('\n')).toMatch(/PropertyCantBeNull.*url/);
      expect(byName.get('bad-version')?.errors.join('\n')).toMatch(/UnsupportedCardVersion.*1\.6/);
      expect(byName.get('bad-unknown')?.errors.join('\n')).toMatch(/UnknownElementType.*Sparkline/);
      for (const name of ['bad-carousel', 'bad-no-url', 'bad-version', 'bad-unknown']) {
        const section = o.page.locator(`section.alert[data-name="${name}"]`);
        expect(await section.getAttribute('data-render-status')).toBe('error');
        expect(await section.locator('.status').innerText()).toContain('renderer error');
      }
      expect(await o.page.locator(`section.alert[data-name="${good.name}"]`).getAttribute('data-render-status')).toBe('rendered');
      expect(await o.page.getAttribute('body', 'data-render-status')).toBe('errors');
      expect(await o.page.locator('#summary').innerText()).toBe('4 of 5 have problems.');
      expect(o.pageErrors).toEqual([]);
    } finally {
      await o.close();
    }
  });

  it('reports a card that would fetch something (an image by URL) as an error on that card: the preview never fetches', async () => {
    const out = await tempDir();
    const good = cards()[2]!;
    const base = good.message.attachments[0].content;
    const withImage = {
      ...good.message,
      attachments: [{ ...good.message.attachments[0], content: { ...base, body: [...base.body, { type: 'Image', url: 'https://img.example/logo.png' }] } }],
    } as unknown as TeamsMessage;
    const { html } = await writeAlertFiles(out, [good, { name: 'remote-image', message: withImage }], 'en');
    const o = await open(html);
    try {
      // The image load is blocked after the card rendered: its section turns to error then.
      await o.page.locator('section.alert[data-name="remote-image"][data-render-status="error"]').waitFor({ state: 'attached' });
      const results = (await o.page.evaluate('window.__alertRender')) as RenderResult[];
      expect(results.find((r) => r.name === 'remote-image')?.errors).toEqual([
        expect.stringMatching(/^blocked by the preview's no-network policy \(img-src\): https:\/\/img\.example\/logo\.png/),
      ]);
      expect(results.find((r) => r.name === good.name)?.errors).toEqual([]);
      expect(await o.page.locator('section.alert[data-name="remote-image"]').getAttribute('data-render-status')).toBe('error');
      expect(await o.page.getAttribute('body', 'data-render-status')).toBe('errors');
    } finally {
      await o.close();
    }
  });

  it("renders Markdown as Teams does (bold, italic, lists, http links) and never a card's HTML", async () => {
    const out = await tempDir();
    const card = {
      type: 'AdaptiveCard',
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      version: '1.5',
      body: [
        { type: 'TextBlock', text: '**太字** と _斜体_ と [リンク](https://example.org/x?a=1&b=2) と [罠](javascript:alert(1))', wrap: true },
        { type: 'TextBlock', text: '<img src=x onerror="document.title=1">\n- 一つ目\n- 二つ目', wrap: true },
        // One newline joins lines; an empty line starts a paragraph (as Teams documents it).
        { type: 'TextBlock', text: '一行目\n続き\n\n二段落目', wrap: true },
        { type: 'FactSet', facts: [{ title: '**件名**', value: 'a_b_c.docx' }] },
      ],
    };
    const msg = envelope(card as unknown as AdaptiveCard);
    const { html } = await writeAlertFiles(out, [{ name: 'markdown', message: msg }], 'ja');
    const o = await open(html);
    try {
      expect(o.results).toEqual([{ name: 'markdown', rendered: true, errors: [] }]);
      const frame = o.page.locator('.teams-frame');
      expect(await frame.locator('strong').allInnerTexts()).toEqual(['太字', '件名']);
      expect(await frame.locator('em').allInnerTexts()).toEqual(['斜体']);
      expect(await frame.locator('a').count()).toBe(1);
      expect(await frame.locator('a').getAttribute('href')).toBe('https://example.org/x?a=1&b=2');
      expect(await frame.locator('a').getAttribute('target')).toBe('_blank');
      expect(await frame.locator('li').allInnerTexts()).toEqual(['一つ目', '二つ目']);
      expect(await frame.locator('p').allInnerTexts()).toEqual(expect.arrayContaining(['一行目 続き', '二段落目']));
      expect(await frame.locator('img').count()).toBe(0);
      expect(await frame.innerText()).toContain('<img src=x onerror="document.title=1">');
      expect(await frame.innerText()).toContain('[罠](javascript:alert(1))');
      expect(await frame.innerText()).toContain('a_b_c.docx');
      expect(o.consoleErrors).toEqual([]);
      expect(o.pageErrors).toEqual([]);
    } finally {
      await o.close();
    }
  });

  it('shows a broken file in alerts/ as an error panel naming it, and still renders the others', async () => {
    const out = await tempDir();
    await writeAlertFiles(out, [cards()[0]!], 'ja');
    await writeFile(join(out, 'alerts', 'broken.json'), '{"type":"message","attachments":[', 'utf8');
    await writeFile(join(out, 'alerts', 'not-a-message.json'), '{"type":"AdaptiveCard","version":"1.5","body":[]}', 'utf8');
    await writeFile(join(out, 'alerts', 'notes.txt'), 'not json, not listed', 'utf8');
    const { html } = await writeAlertFiles(out, [cards()[2]!], 'ja');
    const o = await open(html);
    try {
      expect(o.results.map((r) => [r.name, r.rendered])).toEqual([
        ['not-a-message', false],
        ['broken', false],
        ['20261201T001500Z-signins-ja', true],
        ['20261201T000500Z-run-ja', true],
      ]);
      expect(o.results.find((r) => r.name === 'broken')?.errors).toEqual([expect.stringMatching(/^alerts\/broken\.json: not valid JSON/)]);
      expect(o.results.find((r) => r.name === 'not-a-message')?.errors).toEqual([expect.stringMatching(/^alerts\/not-a-message\.json: not a Teams message/)]);
      const panel = o.page.locator('section.alert[data-name="broken"]');
      expect(await panel.getAttribute('data-render-status')).toBe('error');
      expect(await panel.innerText()).toContain('alerts/broken.json');
      expect(await panel.innerText()).toContain('Teams のメッセージとして読めないファイル');
      expect(await o.page.locator('.teams-frame .ac-adaptiveCard').count()).toBe(2);
      expect(o.results.filter((r) => r.rendered).every((r) => r.errors.length === 0)).toBe(true);
      expect(o.pageErrors).toEqual([]);
    } finally {
      await o.close();
    }
  });
});

describe('writeAlertFiles', () => {
  it('refuses a name outside [A-Za-z0-9._-] before writing anything', async () => {
    const out = await tempDir();
    const item = cards()[0]!;
    for (const name of ['../escape', 'a/b', 'has space', '', '.hidden', 'naïve']) {
      await expect(writeAlertFiles(out, [{ ...item, name }], 'ja')).rejects.toThrow(/alert file name .* is not allowed: use 1-200 of A-Z a-z 0-9 \. _ -/);
    }
    await expect(readdir(out)).resolves.toEqual([]);
  });
});

describe('alertsHtml', () => {
  const renderer = 'window.AdaptiveCards = undefined; /* stand-in */';

  it('embeds messages as JSON that cannot close the script element or break a line', () => {
    const input = signInInput();
    const evil = '</script><script>alert(1)</script><!-- \u2028\u2029';
    input.opened = input.opened.map((e) => ({ ...e, subject: { ...e.subject, name: evil } }));
    const msg = message(buildSignInCard(input, policyJa));
    const html = alertsHtml([{ name: 'x', message: msg, caption: '<b>caption</b>' }], 'ja', renderer);
    // Three script elements: the data, the renderer, the driver; nothing a card says adds one.
    expect(html.match(/<script/gi)).toHaveLength(3);
    expect(html.match(/<\/script/gi)).toHaveLength(3);
    expect(html).not.toContain('\u2028');
    expect(html).not.toContain('\u2029');
    expect(html).not.toContain('<!--');
    expect(html).toContain('&lt;b&gt;caption&lt;/b&gt;');
    // The JSON still reads back to the same message.
    const data = /<script type="application\/json" id="alert-data">([^<]*)<\/script>/.exec(html)?.[1];
    expect(JSON.parse(data!).entries[0].message).toEqual(msg);
  });

  it('keeps a `</script` inside the renderer bundle from ending its element', () => {
    const html = alertsHtml([], 'en', 'var s = "</script><p>x</p>"; var r = /<!--/;');
    expect(html.match(/<\/script/gi)).toHaveLength(3);
    expect(html).toContain('var s = "<\\/script><p>x</p>"');
  });

  it('is self-contained: a CSP with no network source, headings in the language asked for', () => {
    const ja = alertsHtml([], 'ja', renderer);
    const en = alertsHtml([], 'en', renderer);
    const csp = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`;
    expect(ja).toContain(csp);
    expect(ja).toContain('<html lang="ja">');
    expect(ja).toContain('<h1>Teams 通知カードのプレビュー</h1>');
    expect(ja).toContain('カードはまだありません。');
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('<h1>Teams alert cards preview</h1>');
    // No markup that loads anything (the scripts are inline; the driver's link markup is for card Markdown).
    expect(ja.replace(/<script[^>]*>[\s\S]*?<\/script>/g, '')).not.toMatch(/\b(src|href)=/);
    expect(ja).not.toMatch(/<script[^>]*\bsrc=/);
  });

  it('inlines the real renderer from node_modules', async () => {
    const script = await readRendererScript();
    expect(script).toContain('AdaptiveCards');
    expect(alertsHtml([], 'ja', script)).toContain(script.slice(0, 200));
  });
});
