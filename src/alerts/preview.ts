/**
 * The local preview of Teams alert cards (issue 10): without a webhook, each message that would
 * have been posted is written to `<out>/alerts/<name>.json` (the exact webhook body), and
 * `<out>/alerts.html` renders all of them with Microsoft's own Adaptive Cards renderer (npm
 * `adaptivecards`, the browser bundle inlined) so that a person sees what Teams would show, and a
 * test in a real browser can check that every card rendered without a renderer error.
 *
 * The page is self-contained and makes no network request at all (its CSP allows inline script
 * and style and data: images only): it can be opened from disk, mailed, or kept as evidence.
 * `alertsHtml` is pure; `writeAlertFiles` does the file I/O.
 */
import { randomBytes } from 'node:crypto';
import { readFile, readdir, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import escapeHtml from 'escape-html';
import type { TeamsMessage } from './cards';

/** One message to preview: `name` is its file name without `.json`, `caption` says why it is here (e.g. not sent). */
export interface AlertPreviewItem {
  name: string;
  message: TeamsMessage;
  caption?: string;
}

/** A file in `alerts/` that could not be read as a Teams message: shown as an error panel naming it. */
export interface BrokenAlertFile {
  name: string;
  /** What is wrong with it, for the panel (never its content: a file could hold anything). */
  problem: string;
}

/** What the preview page shows: messages to render, and files that are not messages. */
export type PreviewEntry = AlertPreviewItem | BrokenAlertFile;

type Lang = 'ja' | 'en';

/** The folder (under the output folder) that holds one JSON file per message. */
export const ALERTS_DIR = 'alerts';
/** The preview page's name (under the output folder). */
export const ALERTS_HTML = 'alerts.html';
/** Width of a card's frame in CSS pixels: about what a Teams desktop channel gives a card. */
export const TEAMS_CARD_WIDTH = 480;

const FONT_FAMILY = "'Segoe UI', 'Yu Gothic UI', 'Meiryo', 'Hiragino Sans', 'IPAPGothic', 'IPAGothic', 'Noto Sans CJK JP', sans-serif";

const foreground = {
  default: { default: '#ff252424', subtle: '#bf252424' },
  dark: { default: '#252424', subtle: '#bf252424' },
  light: { default: '#ffffff', subtle: '#fff3f2f1' },
  accent: { default: '#6264a7', subtle: '#8b8cc7' },
  good: { default: '#92c353', subtle: '#e592c353' },
  warning: { default: '#f8d22a', subtle: '#e5f8d22a' },
  attention: { default: '#c4314b', subtle: '#e5c4314b' },
};
const fontSizes = { small: 12, default: 14, medium: 14, large: 18, extraLarge: 24 };
const fontWeights = { lighter: 200, default: 400, bolder: 600 };

/**
 * HostConfig close to Teams' light theme: the values of Microsoft's
 * `samples/HostConfig/microsoft-teams-light.json` (the Teams host of the Adaptive Cards Designer;
 * the copy in microsoft/Teams-AdaptiveCards-Mobile has the same sizes and colours, with fonts
 * under `fontTypes`, the key the JavaScript renderer 3.x reads, and a `heading` text style). One
 * change: the font family gets Japanese fallbacks after Segoe UI, as Teams on a Japanese Windows
 * falls back to Yu Gothic UI / Meiryo (IPA P Gothic where those are missing, as on CI; the
 * proportional IPA font first, the fixed-width one would set Latin text like code).
 */
export const TEAMS_LIGHT_HOST_CONFIG = {
  choiceSetInputValueSeparator: ',',
  supportsInteractivity: true,
  fontFamily: FONT_FAMILY,
  spacing: { small: 8, default: 12, medium: 16, large: 20, extraLarge: 24, padding: 16 },
  separator: { lineThickness: 1, lineColor: '#EEEEEE' },
  imageSizes: { small: 32, medium: 52, large: 100 },
  fontTypes: {
    default: { fontFamily: FONT_FAMILY, fontSizes, fontWeights },
    monospace: { fontFamily: "'Courier New', Courier, monospace", fontSizes, fontWeights },
  },
  containerStyles: {
    default: { backgroundColor: '#ffffff', foregroundColors: foreground },
    emphasis: { backgroundColor: '#fff9f8f7', foregroundColors: foreground },
    accent: { backgroundColor: '#C7DEF9', foregroundColors: foreground },
    good: { backgroundColor: '#CCFFCC', foregroundColors: foreground },
    attention: { backgroundColor: '#FFC5B2', foregroundColors: foreground },
    warning: { backgroundColor: '#FFE2B2', foregroundColors: foreground },
  },
  actions: {
    maxActions: 6,
    spacing: 'default',
    buttonSpacing: 8,
    showCard: { actionMode: 'inline', inlineTopMargin: 16, style: 'emphasis' },
    preExpandSingleShowCardAction: false,
    actionsOrientation: 'horizontal',
    actionAlignment: 'left',
  },
  textStyles: { heading: { fontType: 'default', size: 'large', weight: 'bolder', color: 'default', isSubtle: false } },
  textBlock: { headingLevel: 2 },
  adaptiveCard: { allowCustomStyle: false },
  imageSet: { imageSize: 'medium', maxImageHeight: 100 },
  factSet: {
    title: { size: 'default', color: 'default', isSubtle: false, weight: 'bolder', wrap: true },
    value: { size: 'default', color: 'default', isSubtle: false, weight: 'default', wrap: true },
    spacing: 16,
  },
} as const;

const TEXT = {
  ja: {
    title: 'Teams 通知カードのプレビュー',
    intro:
      'Teams のチャネルに投稿する（または投稿しなかった）メッセージを、Microsoft の Adaptive Cards レンダラー（npm adaptivecards）で Teams のライトテーマに近い設定で描画したものです。Teams 自身の表示とは細部が異なることがあります。カードの JSON は alerts/ フォルダーにあり、Webhook に送る本文そのものです。',
    links: 'カード上のボタンは新しいウィンドウで開きます（このページは移動しません）。',
    none: 'カードはまだありません。',
    file: 'ファイル',
    pending: '未描画（JavaScript が動いていません）',
    rendered: '描画できました',
    error: 'レンダラーのエラー',
    fileError: 'Teams のメッセージとして読めないファイル',
    summaryOk: (n: number) => `${n} 件のカードをすべてエラーなく描画しました。`,
    summaryBad: (n: number) => `${n} 件中 {bad} 件に問題があります。`,
    pageErrors: 'ページのエラー',
  },
  en: {
    title: 'Teams alert cards preview',
    intro:
      "The messages this system posts (or did not post) to the Teams channel, rendered with Microsoft's Adaptive Cards renderer (npm adaptivecards) with settings close to Teams' light theme. Teams' own rendering can differ in details. Each card's JSON is in the alerts/ folder and is exactly the body sent to the webhook.",
    links: 'Buttons on the cards open in a new window (this page does not navigate).',
    none: 'No cards yet.',
    file: 'File',
    pending: 'not rendered (JavaScript did not run)',
    rendered: 'rendered',
    error: 'renderer error',
    fileError: 'not readable as a Teams message',
    summaryOk: (n: number) => `All ${n} cards rendered without errors.`,
    summaryBad: (n: number) => `{bad} of ${n} have problems.`,
    pageErrors: 'Page errors',
  },
} as const;

/**
 * JSON for a `<script type="application/json">` block: every `<` escaped (no `</script`, no
 * `<!--` can end or confuse the block), and U+2028/2029, which some parsers treat as line ends.
 */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The renderer bundle inlined as a script: a `</script` inside it would end the element early. */
function inlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\u0021--');
}

const isBroken = (e: PreviewEntry): e is BrokenAlertFile => 'problem' in e;

const CSS = `
:root { color-scheme: light; }
body { margin: 0; padding: 24px; background: #f5f5f5; color: #252424; font-family: ${FONT_FAMILY}; font-size: 14px; }
header { max-width: 960px; }
h1 { font-size: 20px; font-weight: 600; margin: 0 0 8px; }
header p { margin: 4px 0; line-height: 1.5; }
#summary { font-weight: 600; }
body[data-render-status="ok"] #summary { color: #237b4b; }
body[data-render-status="errors"] #summary { color: #c4314b; }
#page-errors { color: #c4314b; }
main { display: flex; flex-direction: column; gap: 28px; margin-top: 20px; }
.alert { width: ${TEAMS_CARD_WIDTH}px; }
.alert h2 { font-size: 13px; font-weight: 600; margin: 0 0 2px; font-family: Consolas, 'Courier New', monospace; word-break: break-all; }
.alert .caption { margin: 0 0 6px; color: #616161; font-size: 12px; }
.teams-frame { box-sizing: border-box; width: ${TEAMS_CARD_WIDTH}px; background: #ffffff; border: 1px solid #e1dfdd; border-radius: 4px; box-shadow: 0 1px 2px rgba(0,0,0,.12); overflow: hidden; }
.status { margin-top: 6px; font-size: 12px; }
.alert[data-render-status="rendered"] .status { color: #237b4b; }
.alert[data-render-status="error"] .status { color: #c4314b; font-weight: 600; }
.teams-frame.failed { border-color: #c4314b; }
.status ul { margin: 4px 0 0; padding-left: 18px; font-weight: 400; }
.problem { padding: 12px 16px; color: #c4314b; }
.ac-textBlock p { margin: 0; }
.ac-textBlock ul, .ac-textBlock ol { margin: 0; padding-left: 20px; }
.ac-textBlock a { color: #6264a7; }
.ac-pushButton { font-family: inherit; font-size: 14px; font-weight: 600; min-height: 32px; padding: 4px 12px; color: #252424; background: #ffffff; border: 1px solid #e0e0e0; border-radius: 4px; cursor: pointer; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ac-pushButton:hover { background: #f5f5f5; border-color: #c8c6c4; }
.ac-pushButton:focus-visible { outline: 2px solid #6264a7; outline-offset: 1px; }
`;

/*
 * Runs in the page (as text: it never runs in Node). Plain ES2017 so that any current browser
 * reads it. A String.raw template: its backslashes reach the page as written. Strings from a card
 * reach the DOM through textContent, or through the Markdown processor, which escapes them first.
 */
const DRIVER = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('alert-data').textContent);
  var text = data.text;
  var results = [];
  var pageErrors = [];
  window.__alertRender = results;
  window.__alertPageErrors = pageErrors;
  var current = null;
  window.addEventListener('error', function (ev) {
    var msg = 'window error: ' + (ev.message || String(ev.error));
    if (current) current.push(msg); else pageErrors.push(msg);
  });
  window.addEventListener('unhandledrejection', function (ev) {
    var msg = 'unhandled rejection: ' + String(ev.reason);
    if (current) current.push(msg); else pageErrors.push(msg);
  });
  // The CSP blocks every fetch; a card that needs one (an image by URL) would look different in
  // Teams, so the block is an error on that card (found through the element that asked).
  document.addEventListener('securitypolicyviolation', function (ev) {
    var msg = "blocked by the preview's no-network policy (" + ev.effectiveDirective + '): ' + ev.blockedURI + ' (Teams would fetch it: use no remote resources in a card)';
    var section = ev.target && ev.target.closest ? ev.target.closest('section.alert') : null;
    // An image the renderer created before attaching it reports the document as its target.
    if (!section) section = Array.prototype.find.call(document.querySelectorAll('section.alert'), function (s) {
      return Array.prototype.some.call(s.querySelectorAll('[src]'), function (el) { return el.src === ev.blockedURI; }) ||
        s.querySelector('.teams-frame').innerHTML.indexOf(ev.blockedURI) >= 0;
    }) || null;
    var index = section ? Number(section.getAttribute('data-index')) : -1;
    var result = results[index];
    if (result) {
      result.errors.push(msg);
      showStatus(section, false, text.error, result.errors);
      document.body.setAttribute('data-render-status', 'errors');
      summarise();
    } else {
      pageErrors.push(msg);
      showPageErrors();
    }
  }, true);
  // Teams renders Markdown in TextBlock texts and Fact titles and values ("Format cards in
  // Teams": bold, italic, bulleted and numbered lists, links; no HTML, headings, tables, images,
  // preformatted text or quotes), so the preview does too:
  // a subject name with Markdown in it shows here as it would in the channel. Everything is
  // HTML-escaped first; links are http(s) only and open in a new window.
  function esc(s) {
    return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }
  function inline(s) {
    return s
      .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, function (_, label, url) {
        return '<a href="' + url + '" target="_blank" rel="noopener noreferrer">' + label + '</a>';
      })
      .replace(/\*\*(?=\S)([^*]*?\S)\*\*/g, '<strong>$1</strong>')
      .replace(/(^|[^\w])_(?=\S)([^_]*?\S)_(?!\w)/g, '$1<em>$2</em>')
      .replace(/(^|[^*\w])\*(?=\S)([^*]*?\S)\*(?![*\w])/g, '$1<em>$2</em>');
  }
  // Line breaks as that page describes them: list items end at \r or \n; elsewhere a single
  // newline is no break (it joins as a space) and an empty line (\n\n) starts a new paragraph.
  function markdown(text) {
    var out = [];
    var list = null;
    var para = [];
    function endPara() {
      if (para.length) out.push('<p>' + inline(esc(para.join(' '))) + '</p>');
      para = [];
    }
    function endList() {
      if (list) out.push('</' + list + '>');
      list = null;
    }
    text.split(/\r\n|\r|\n/).forEach(function (line) {
      var m = /^\s*([-*+]|\d+\.)\s+(.*)$/.exec(line);
      if (m) {
        var type = /\d/.test(m[1]) ? 'ol' : 'ul';
        endPara();
        if (list !== type) { endList(); out.push('<' + type + '>'); list = type; }
        out.push('<li>' + inline(esc(m[2])) + '</li>');
      } else if (/^\s*$/.test(line)) {
        endList();
        endPara();
      } else {
        endList();
        para.push(line.trim());
      }
    });
    endPara();
    endList();
    return out.join('');
  }
  if (window.AdaptiveCards) {
    window.AdaptiveCards.AdaptiveCard.onProcessMarkdown = function (text, result) {
      result.outputHtml = markdown(text);
      result.didProcess = true;
    };
  }
  function describe(enumObj, value) {
    return enumObj && typeof enumObj[value] === 'string' ? enumObj[value] : String(value);
  }
  function httpUrl(url) {
    try { var u = new URL(url); return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null; } catch (e) { return null; }
  }
  function renderOne(AC, entry, frame) {
    var errors = [];
    current = errors;
    var rendered = false;
    try {
      var attachments = entry.message && Array.isArray(entry.message.attachments) ? entry.message.attachments : [];
      if (attachments.length === 0) errors.push('the message has no attachments');
      attachments.forEach(function (att, i) {
        var where = attachments.length > 1 ? 'attachment ' + i + ': ' : '';
        if (!att || att.contentType !== 'application/vnd.microsoft.card.adaptive') {
          errors.push(where + 'contentType is not application/vnd.microsoft.card.adaptive');
          return;
        }
        var card = new AC.AdaptiveCard();
        card.hostConfig = new AC.HostConfig(data.hostConfig);
        // Teams renders Adaptive Cards 1.5 at most: anything newer is an error here too.
        card.maxVersion = AC.Versions.v1_5;
        // Buttons open their link in a new window; the preview page itself never navigates.
        card.onExecuteAction = function (action) {
          var url = action && typeof action.url === 'string' ? httpUrl(action.url) : null;
          if (url) window.open(url, '_blank', 'noopener,noreferrer');
        };
        var context = new AC.SerializationContext(AC.Versions.v1_5);
        card.parse(att.content, context);
        for (var k = 0; k < context.eventCount; k++) {
          var ev = context.getEventAt(k);
          errors.push(where + 'parse ' + describe(AC.ValidationEvent, ev.event) + ': ' + ev.message);
        }
        var validation = card.validateProperties();
        validation.validationEvents.forEach(function (ev) {
          errors.push(where + 'validation ' + describe(AC.ValidationEvent, ev.event) + ': ' + ev.message);
        });
        var el = card.render();
        if (!el) {
          errors.push(where + 'render() returned nothing');
          return;
        }
        frame.appendChild(el);
        rendered = true;
      });
    } catch (e) {
      errors.push('exception: ' + (e && e.stack ? String(e.stack).split('\n')[0] : String(e)));
    }
    current = null;
    return { rendered: rendered, errors: errors };
  }
  function showStatus(section, ok, label, errors) {
    section.setAttribute('data-render-status', ok ? 'rendered' : 'error');
    var status = section.querySelector('.status');
    status.textContent = label;
    if (!ok) section.querySelector('.teams-frame').classList.add('failed');
    if (errors.length) {
      var ul = document.createElement('ul');
      errors.forEach(function (m) { var li = document.createElement('li'); li.textContent = m; ul.appendChild(li); });
      status.appendChild(ul);
    }
  }
  var AC = window.AdaptiveCards;
  var sections = document.querySelectorAll('section.alert');
  data.entries.forEach(function (entry, i) {
    var section = sections[i];
    var frame = section.querySelector('.teams-frame');
    if (entry.problem !== undefined) {
      results.push({ name: entry.name, rendered: false, errors: [entry.problem] });
      // The panel in the frame already says what is wrong: the status only labels it.
      showStatus(section, false, text.fileError, []);
      return;
    }
    var r = AC ? renderOne(AC, entry, frame) : { rendered: false, errors: ['the adaptivecards renderer did not load'] };
    var ok = r.rendered && r.errors.length === 0;
    results.push({ name: entry.name, rendered: r.rendered, errors: r.errors });
    showStatus(section, ok, ok ? text.rendered : text.error, r.errors);
  });
  function summarise() {
    var bad = results.filter(function (r) { return !r.rendered || r.errors.length > 0; }).length;
    if (results.length > 0) document.getElementById('summary').textContent = bad === 0 ? text.summaryOk : text.summaryBad.replace('{bad}', String(bad));
    return bad;
  }
  function showPageErrors() {
    var box = document.getElementById('page-errors');
    box.textContent = pageErrors.length ? text.pageErrors + ': ' + pageErrors.join(' / ') : '';
    if (pageErrors.length) document.body.setAttribute('data-render-status', 'errors');
  }
  var bad = summarise();
  document.body.setAttribute('data-render-status', bad === 0 && pageErrors.length === 0 ? 'ok' : 'errors');
  showPageErrors();
  window.addEventListener('error', showPageErrors);
})();
`;

/**
 * The preview page for `items` (pure): one self-contained HTML document, `rendererScript` (the
 * adaptivecards browser bundle) inlined, each card rendered in a frame about Teams' width with its
 * file name and caption, and a visible status per card. Results for tests:
 * `window.__alertRender = [{ name, rendered, errors }]` (page order; `rendered`: the renderer
 * produced the card's element; `errors`: parse and validation events, exceptions, window errors
 * and blocked fetches, or a broken file's problem) and `data-render-status` (`rendered` only when
 * there is no error, else `error`) on each `section.alert`, `ok` | `errors` on `<body>` once done.
 * `Action.OpenUrl` buttons open http(s) links in a new window; the page never navigates.
 */
export function alertsHtml(items: readonly PreviewEntry[], lang: Lang, rendererScript: string): string {
  const t = TEXT[lang];
  const n = items.length;
  const sections = items
    .map((item, index) => {
      const broken = isBroken(item);
      const caption = broken ? undefined : item.caption;
      return [
        `<section class="alert" data-index="${index}" data-name="${escapeHtml(item.name)}" data-render-status="pending">`,
        `<h2>${escapeHtml(`${ALERTS_DIR}/${item.name}.json`)}</h2>`,
        caption ? `<p class="caption">${escapeHtml(caption)}</p>` : '',
        `<div class="teams-frame">${broken ? `<div class="problem">${escapeHtml(item.problem)}</div>` : ''}</div>`,
        `<div class="status">${escapeHtml(t.pending)}</div>`,
        `</section>`,
      ].join('');
    })
    .join('\n');
  const data = {
    hostConfig: TEAMS_LIGHT_HOST_CONFIG,
    text: {
      rendered: t.rendered,
      error: t.error,
      fileError: t.fileError,
      pageErrors: t.pageErrors,
      summaryOk: t.summaryOk(n),
      summaryBad: t.summaryBad(n),
    },
    entries: items.map((item) => (isBroken(item) ? { name: item.name, problem: item.problem } : { name: item.name, message: item.message })),
  };
  return `<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(t.title)}</title>
<style>${CSS}</style>
</head>
<body data-render-status="pending">
<header>
<h1>${escapeHtml(t.title)}</h1>
<p>${escapeHtml(t.intro)}</p>
<p>${escapeHtml(t.links)}</p>
<p id="summary">${n === 0 ? escapeHtml(t.none) : ''}</p>
<p id="page-errors"></p>
</header>
<main>
${sections}
</main>
<script type="application/json" id="alert-data">${scriptJson(data)}</script>
<script>${inlineScript(rendererScript)}</script>
<script>${DRIVER}</script>
</body>
</html>
`;
}

const NAME = /^[A-Za-z0-9._-]+$/;

/** Throws unless `name` can be a file name in alerts/: letters, digits, `.`, `_`, `-` only. */
function checkName(name: string): void {
  if (!NAME.test(name) || name.startsWith('.') || name.length > 200) {
    throw new Error(
      `alert file name ${JSON.stringify(name)} is not allowed: use 1-200 of A-Z a-z 0-9 . _ - (not starting with a dot); it becomes ${ALERTS_DIR}/<name>.json`,
    );
  }
}

/** Whether `value` has the shape of a Teams Workflows message carrying Adaptive Cards. */
export function isTeamsMessage(value: unknown): value is TeamsMessage {
  if (!value || typeof value !== 'object') return false;
  const v = value as { type?: unknown; attachments?: unknown };
  if (v.type !== 'message' || !Array.isArray(v.attachments) || v.attachments.length === 0) return false;
  return v.attachments.every((a: unknown) => {
    if (!a || typeof a !== 'object') return false;
    const att = a as { contentType?: unknown; content?: unknown };
    return att.contentType === 'application/vnd.microsoft.card.adaptive' && !!att.content && typeof att.content === 'object';
  });
}

/** Reads one alerts/ file as a preview entry: a message, or the reason it is not one. */
async function readEntry(dir: string, file: string, caption: string | undefined): Promise<PreviewEntry> {
  const name = file.slice(0, -'.json'.length);
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (e) {
    return { name, problem: `${ALERTS_DIR}/${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { name, problem: `${ALERTS_DIR}/${file}: not valid JSON (${(e as Error).message})` };
  }
  if (!isTeamsMessage(value)) {
    return {
      name,
      problem: `${ALERTS_DIR}/${file}: not a Teams message (expected {"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{…}}]})`,
    };
  }
  return caption === undefined ? { name, message: value } : { name, message: value, caption };
}

/** The adaptivecards browser bundle (resolved from node_modules: works from dist/ and from jest). */
export async function readRendererScript(): Promise<string> {
  return readFile(require.resolve('adaptivecards/dist/adaptivecards.min.js'), 'utf8');
}

/** Writes `content` to `path` so that a reader never sees half of it: a temporary file beside it, then a rename. */
async function writeAtomic(path: string, dir: string, base: string, content: string): Promise<void> {
  const temp = join(dir, `.${base}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, content, 'utf8');
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}

/**
 * Writes each message (the exact webhook body that would be posted) to
 * `<outDir>/alerts/<name>.json`, then rebuilds `<outDir>/alerts.html` from every `*.json` in that
 * folder, newest name first (names sort by time when they start with one). A file there that is
 * not valid JSON or not a Teams message is shown as an error panel naming it. Every write is
 * atomic. Throws on a name outside `[A-Za-z0-9._-]` before writing anything.
 */
export async function writeAlertFiles(
  outDir: string,
  items: readonly AlertPreviewItem[],
  lang: Lang,
): Promise<{ files: string[]; html: string }> {
  for (const item of items) checkName(item.name);
  const dir = join(outDir, ALERTS_DIR);
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const item of items) {
    const path = join(dir, `${item.name}.json`);
    // Compact, byte for byte the body the sink posts (and the size the 28,672-byte cap measures).
    await writeAtomic(path, dir, `${item.name}.json`, JSON.stringify(item.message));
    files.push(path);
  }
  const captions = new Map(items.map((i) => [i.name, i.caption]));
  const names = (await readdir(dir)).filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  const entries = await Promise.all(names.map((f) => readEntry(dir, f, captions.get(f.slice(0, -'.json'.length)))));
  const html = join(outDir, ALERTS_HTML);
  await writeAtomic(html, outDir, ALERTS_HTML, alertsHtml(entries, lang, await readRendererScript()));
  return { files, html };
}
