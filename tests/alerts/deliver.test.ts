/**
 * Teams alert delivery (issue "Teams adaptive-card alerts", "Done when"): against a local webhook
 * server on 127.0.0.1 that plays a Teams Workflows trigger (202 Accepted, no body) or what goes
 * wrong with one (429 with Retry-After, 5xx, a 200 whose body reports an error, a 404 for a
 * deleted flow). Checks: the envelope; retries on 429 honouring Retry-After; failure on an error
 * body, and the catch-up on the next run; the 28,672-byte cap with 300 findings; no duplicate on
 * a rerun; the secret URL absent from every output; and exactly-once under a kill at every point,
 * with the one unknowable window resent as a marked repeat, never lost.
 */
import { validatePolicy, type Policy } from '../../src/config/policy';
import { fingerprint, type Finding } from '../../src/findings/finding';
import { reconcile, type LedgerEntry } from '../../src/findings/ledger';
import { MESSAGE_BYTE_LIMIT, type TeamsMessage } from '../../src/alerts/cards';
import { deliverAlerts, newsKey, plannerTaskUrl, type AlertContext, type AlertSummary } from '../../src/alerts/deliver';
import { FileAlertSink } from '../../src/alerts/file-sink';
import { bodyError, retryAfterMs, TeamsWebhookSink, type AlertSink } from '../../src/alerts/teams';
import { MemoryStore } from '../../src/store/memory';
import type { Severity } from '../../src/rules/ids';
import { Hook, type Received } from '../support/teams-hook';

const TENANT = 'tenant-alerts';

const basePolicy = validatePolicy({ organization: { name: '西置賜行政組合', systemAdministrators: ['sysadmin@example.lg.jp'] } });

function finding(n: number, opts: { severity?: Severity; ruleId?: 'MFA-01' | 'MFA-02' | 'SIGN-01'; name?: string } = {}): Finding {
  const ruleId = opts.ruleId ?? 'MFA-01';
  const subject = { kind: 'user' as const, id: `u-${n}`, name: opts.name ?? `user${n}@example.lg.jp` };
  const event = ruleId.startsWith('SIGN-');
  return {
    id: fingerprint(ruleId, subject),
    ruleId,
    clauses: event ? ['5-3-3'] : ['5-1-3'],
    kind: event ? 'event' : 'state',
    severity: opts.severity ?? 'critical',
    area: event ? 'signins' : 'mfa',
    subject,
    title: event ? { ja: 'パスワードスプレー攻撃の疑い', en: 'Suspected password spray' } : { ja: '特権ロール保有者の多要素認証が未登録', en: 'Privileged role holder without MFA registered' },
    evidence: event ? { occurrences: [{ windowStart: `2026-11-30T0${n % 10}:00:00Z`, signInIds: [`s-${n}`], failures: 12 }] } : {},
    status: 'open',
    firstSeen: '',
    lastSeen: '',
  };
}

/** A ledger after reconciling `findings` at `at` onto `current`. */
function ledgerOf(findings: Finding[], at: string, current: Map<string, LedgerEntry> = new Map()): Map<string, LedgerEntry> {
  const areas = [...new Set(findings.map((f) => f.area)), 'mfa' as const];
  const coverage = Object.fromEntries(areas.map((a) => [a, { status: 'complete' as const, items: 1 }]));
  return reconcile(current, { findings, coverage, areas, at }).entries;
}

function context(store: MemoryStore, sinks: AlertSink[], policy: Policy = basePolicy, over: Partial<AlertContext> = {}): AlertContext & { written: LedgerEntry[][] } {
  const written: LedgerEntry[][] = [];
  return {
    sinks,
    kind: 'run',
    organization: policy.organization.name,
    tenantId: TENANT,
    policy,
    now: new Date('2026-12-01T03:00:00Z'),
    store,
    persist: async (entries) => {
      written.push(entries);
      await store.putLedgerEntries(TENANT, entries);
    },
    written,
    ...over,
  };
}

const noSleep = { sleep: async () => undefined, minIntervalMs: 0 };

function cardText(m: TeamsMessage): string {
  return JSON.stringify(m.attachments[0].content);
}

describe('TeamsWebhookSink and deliverAlerts against a local webhook', () => {
  let hook: Hook;
  beforeEach(async () => {
    hook = new Hook();
    await hook.start();
  });
  afterEach(() => hook.close());

  it('posts one card for the run in the Workflows envelope, and nothing on a rerun with nothing new', async () => {
    const store = new MemoryStore();
    const entries = ledgerOf([finding(1), finding(2), finding(3, { severity: 'medium' })], '2026-12-01T03:00:00Z');
    const sink = new TeamsWebhookSink({ url: hook.url, ...noSleep });
    const first = await deliverAlerts(entries, context(store, [sink]));
    expect(first.sent).toHaveLength(1);
    expect(first.items).toBe(2); // the medium one is below alerts.minSeverity (high)
    expect(hook.received).toHaveLength(1);
    const msg = hook.received[0]?.body as TeamsMessage;
    expect(msg.type).toBe('message');
    expect(msg.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(msg.attachments[0].content.version).toBe('1.5');
    expect(cardText(msg)).toContain('西置賜行政組合');
    expect(cardText(msg)).toContain(`通知 ID: ${first.sent[0]?.replace('teams: ', '')}`);
    expect(hook.received[0]?.alertId).toBe(first.sent[0]?.replace('teams: ', ''));
    // The marks are in the ledger; the outbox is empty.
    const stored = await store.getLedger(TENANT);
    const marked = [...stored.values()].filter((e) => e.alerted?.teams);
    expect(marked.map((e) => e.subject.id).sort()).toEqual(['u-1', 'u-2']);
    expect(JSON.parse((await store.getStateBlob(TENANT, 'alerts-outbox-teams')) ?? '{}').pending).toEqual([]);
    // A rerun on the same ledger: nothing new, nothing posted.
    const second = await deliverAlerts(stored, context(store, [sink]));
    expect(second.sent).toEqual([]);
    expect(hook.requests).toBe(1);
  });

  it('retries a 429 after the Retry-After it names, and 5xx with back-off, then delivers once', async () => {
    hook.replies = [{ status: 429, headers: { 'Retry-After': '7' } }, { status: 503 }];
    const waits: number[] = [];
    const sink = new TeamsWebhookSink({ url: hook.url, minIntervalMs: 0, sleep: async (ms) => void waits.push(ms) });
    const summary = await deliverAlerts(ledgerOf([finding(1)], '2026-12-01T03:00:00Z'), context(new MemoryStore(), [sink]));
    expect(summary.sent).toHaveLength(1);
    expect(hook.requests).toBe(3);
    expect(hook.received).toHaveLength(1);
    expect(waits).toEqual([7000, 2000]); // Retry-After 7 s; then the second back-off step
  });

  it('gives up within its wait budget when Teams keeps throttling, and the news goes on the next run', async () => {
    hook.replies = [{ status: 429, headers: { 'Retry-After': '50' } }, { status: 429, headers: { 'Retry-After': '50' } }, { status: 429, headers: { 'Retry-After': '50' } }];
    const waits: number[] = [];
    const sink = new TeamsWebhookSink({ url: hook.url, minIntervalMs: 0, waitBudgetMs: 120_000, sleep: async (ms) => void waits.push(ms) });
    const summary = await deliverAlerts(ledgerOf([finding(1)], '2026-12-01T03:00:00Z'), context(new MemoryStore(), [sink]));
    expect(waits).toEqual([50_000, 50_000]); // a third 50 s wait would pass the 120 s budget
    expect(hook.requests).toBe(3);
    expect(summary.failed[0]).toMatch(/answered 429; it goes on the next run/);
  });

  it('paces posts to stay under four a second', async () => {
    const waits: number[] = [];
    const sink = new TeamsWebhookSink({ url: hook.url, minIntervalMs: 350, sleep: async (ms) => void waits.push(ms) });
    const alert = { alertId: 'a', kind: 'run' as const, createdAt: '2026-12-01T03:00:00Z' };
    const message = { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.5', body: [] } }] } as TeamsMessage;
    await sink.send(message, alert);
    await sink.send(message, alert);
    await sink.send(message, alert);
    expect(waits).toHaveLength(2); // the first goes at once, each later one waits for its gap
    for (const w of waits) expect(w).toBeGreaterThan(0);
    for (const w of waits) expect(w).toBeLessThanOrEqual(350);
  });

  it('a 200 whose body reports an error is a failure: nothing marked, and the next run carries that news with the new', async () => {
    hook.replies = [{ status: 200, body: 'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 400' }];
    const store = new MemoryStore();
    const sink = new TeamsWebhookSink({ url: hook.url, ...noSleep });
    const first = await deliverAlerts(ledgerOf([finding(1)], '2026-12-01T03:00:00Z'), context(store, [sink]));
    expect(first.sent).toEqual([]);
    expect(first.failed).toHaveLength(1);
    expect(first.failed[0]).toMatch(/answered 200 with an error in its body; it goes on the next run/);
    expect(hook.requests).toBe(1); // an error that is not throttling is not retried within the run
    const after = await store.getLedger(TENANT);
    expect([...after.values()].some((e) => e.alerted?.teams)).toBe(false);
    // Next day: one more finding. The card carries both.
    const next = ledgerOf([finding(1), finding(2)], '2026-12-02T03:00:00Z', after);
    const second = await deliverAlerts(next, context(store, [sink], basePolicy, { now: new Date('2026-12-02T03:00:00Z') }));
    expect(second.sent).toHaveLength(1);
    expect(second.items).toBe(2);
    expect(cardText(hook.received[0]?.body as TeamsMessage)).toContain('user1@example.lg.jp');
    expect(cardText(hook.received[0]?.body as TeamsMessage)).toContain('user2@example.lg.jp');
  });

  it('a 404 (the flow was deleted) fails at once, saying what to check', async () => {
    hook.replies = [{ status: 404 }];
    const summary = await deliverAlerts(ledgerOf([finding(1)], '2026-12-01T03:00:00Z'), context(new MemoryStore(), [new TeamsWebhookSink({ url: hook.url, ...noSleep })]));
    expect(hook.requests).toBe(1);
    expect(summary.failed[0]).toMatch(/answered 404 \(is the workflow still on, and TEAMS_WEBHOOK_URL its current URL\?\)/);
  });

  it('300 findings: the posted message stays under 28,672 bytes and says how many more', async () => {
    const many = Array.from({ length: 300 }, (_, i) => finding(i, { name: `${'とても長い表示名の職員アカウント'.repeat(4)}-${i}@example.lg.jp` }));
    const summary = await deliverAlerts(ledgerOf(many, '2026-12-01T03:00:00Z'), context(new MemoryStore(), [new TeamsWebhookSink({ url: hook.url, ...noSleep })]));
    expect(summary.items).toBe(300);
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]?.bytes).toBeLessThan(MESSAGE_BYTE_LIMIT);
    expect(cardText(hook.received[0]?.body as TeamsMessage)).toMatch(/… ほか \d+ 件/);
  });

  it('never writes the webhook URL or its signature into results, the ledger, the outbox or error messages', async () => {
    hook.replies = [{ status: 500 }, { status: 500 }, { status: 500 }];
    const store = new MemoryStore();
    const sink = new TeamsWebhookSink({ url: hook.url, maxAttempts: 3, ...noSleep });
    const failed = await deliverAlerts(ledgerOf([finding(1)], '2026-12-01T03:00:00Z'), context(store, [sink]));
    const ok = await deliverAlerts(await store.getLedger(TENANT), context(store, [sink]));
    const closed = new TeamsWebhookSink({ url: hook.url.replace(/:\d+\//, ':1/'), maxAttempts: 2, ...noSleep });
    const unreachable = await deliverAlerts(ledgerOf([finding(9)], '2026-12-01T03:00:00Z'), context(new MemoryStore(), [closed]));
    expect(unreachable.failed[0]).toMatch(/no answer/);
    const everything = JSON.stringify({ failed, ok, unreachable, ledger: [...(await store.getLedger(TENANT)).values()], outbox: await store.getStateBlob(TENANT, 'alerts-outbox-teams') });
    expect(everything).not.toContain('Zx9SeCrEtSiGnAtUrE');
    expect(everything).not.toContain('/workflows/abc');
    expect(everything).toContain('TEAMS_WEBHOOK_URL');
  });

  it('alerts a reopened finding again (marked as reopened) and a new occurrence of an open event, not an excepted or resolved one', async () => {
    const store = new MemoryStore();
    const sink = new TeamsWebhookSink({ url: hook.url, ...noSleep });
    const sign = finding(5, { ruleId: 'SIGN-01', severity: 'low' });
    let ledger = ledgerOf([finding(1), sign], '2026-12-01T03:00:00Z');
    await deliverAlerts(ledger, context(store, [sink]));
    expect(hook.received).toHaveLength(1);
    // u-1 resolved by a complete scan, then back: reopened. The event gets a new occurrence.
    ledger = ledgerOf([sign], '2026-12-02T03:00:00Z', await store.getLedger(TENANT));
    await store.putLedgerEntries(TENANT, [...ledger.values()]);
    const again = { ...sign, evidence: { occurrences: [{ windowStart: '2026-12-02T05:00:00Z', signInIds: ['s-new'], failures: 30 }] } };
    ledger = ledgerOf([finding(1), again], '2026-12-03T03:00:00Z', await store.getLedger(TENANT));
    const third = await deliverAlerts(ledger, context(store, [sink], basePolicy, { now: new Date('2026-12-03T03:00:00Z') }));
    expect(third.items).toBe(2);
    expect(cardText(hook.received[1]?.body as TeamsMessage)).toContain('（再発）');
    // An exception now covers u-1 and the event is closed: nothing to tell.
    const before = await store.getLedger(TENANT);
    const quiet = new Map([...before].map(([id, e]) => [id, { ...e, status: e.kind === 'event' ? ('resolved' as const) : ('excepted' as const) }]));
    const fourth = await deliverAlerts(quiet, context(store, [sink]));
    expect(fourth.sent).toEqual([]);
    expect(hook.requests).toBe(2);
    expect(newsKey(ledger.get(again.id) as LedgerEntry)).not.toBe(newsKey(ledgerOf([sign], '2026-12-01T03:00:00Z').get(sign.id) as LedgerEntry));
  });

  it('the sign-in watch card carries only SIGN-* detections, under its own heading', async () => {
    const store = new MemoryStore();
    const ledger = ledgerOf([finding(1), finding(5, { ruleId: 'SIGN-01', severity: 'low' })], '2026-12-01T03:00:00Z');
    const summary = await deliverAlerts(ledger, context(store, [new TeamsWebhookSink({ url: hook.url, ...noSleep })], basePolicy, { kind: 'signin' }));
    expect(summary.items).toBe(1);
    const text = cardText(hook.received[0]?.body as TeamsMessage);
    expect(text).toContain('サインイン監視の新しい検知');
    expect(text).not.toContain('user1@example.lg.jp');
  });

  it('links the Planner task of a delivered ticket, and the report when M365_AUDIT_REPORT_URL is set', async () => {
    const ledger = ledgerOf([finding(1)], '2026-12-01T03:00:00Z');
    const e = [...ledger.values()][0] as LedgerEntry;
    ledger.set(e.id, {
      ...e,
      ticket: { id: 'T-1', title: 't', assignees: ['kanri@example.lg.jp'], routed: true, dueDate: '2026-12-08', dueDateTime: '2026-12-08T08:45:00Z', state: 'open', transitions: 0, openedAt: '', closedAt: null, sinks: { planner: { ref: 'task-42', delivered: 'open', attempts: 0 } } },
    });
    await deliverAlerts(ledger, context(new MemoryStore(), [new TeamsWebhookSink({ url: hook.url, ...noSleep })], basePolicy, { reportUrl: 'https://contoso.sharepoint.com/sites/audit/report.html' }));
    const text = cardText(hook.received[0]?.body as TeamsMessage);
    expect(text).toContain(plannerTaskUrl(TENANT, 'task-42'));
    expect(text).toContain('https://contoso.sharepoint.com/sites/audit/report.html');
    expect(text).toContain('2026-12-08');
    expect(text).toContain('kanri@example.lg.jp');
  });
});

describe('exactly once under a kill at any point', () => {
  /**
   * The kill is modelled in process, as in tests/tickets/crash.test.ts: from the chosen point on,
   * every store write and every post of the interrupted run never returns, so none of its code
   * runs again. Points: each store write (before it happens) and each accepted post (after the
   * webhook took it, before its answer is back).
   */
  class Crasher {
    points = 0;
    crashed = false;
    constructor(private readonly at: number) {}
    point(): boolean {
      if (this.crashed) return true;
      this.points++;
      if (this.points === this.at) this.crashed = true;
      return this.crashed;
    }
  }
  const never = new Promise<never>(() => undefined);

  let hook: Hook;
  beforeAll(async () => {
    hook = new Hook();
    await hook.start();
  });
  afterAll(() => hook.close());

  /** Two runs (news on each), the first or second killed at `at`; then both again to completion. */
  async function trial(at: number): Promise<{ crashed: boolean; posts: Received[]; summaries: AlertSummary[] }> {
    hook.received = [];
    const durable = new MemoryStore();
    const crasher = new Crasher(at);
    const killable = new MemoryStore({
      onWrite: () => {
        if (crasher.point()) throw new Error('killed');
      },
    });
    const posting = new TeamsWebhookSink({ url: hook.url, ...noSleep });
    const dying: AlertSink = {
      name: 'teams',
      idempotent: false,
      send: async (m, a) => {
        if (crasher.crashed) return never;
        await posting.send(m, a);
        if (crasher.point()) return never; // posted, answer never seen
      },
    };
    const days = [
      { at: '2026-12-01T03:00:00Z', findings: [finding(1), finding(2)] },
      { at: '2026-12-02T03:00:00Z', findings: [finding(1), finding(2), finding(3)] },
    ];
    const summaries: AlertSummary[] = [];
    // The interrupted life: writes go to `killable` (where the kill strikes) and, when they
    // succeed, to `durable` (what survives the kill).
    let day = 0;
    for (; day < days.length; day++) {
      const d = days[day] as (typeof days)[number];
      const ledger = ledgerOf(d.findings, d.at, await durable.getLedger(TENANT));
      // The reconciliation is on record before any alert (the pipeline writes it first).
      await durable.putLedgerEntries(TENANT, [...ledger.values()]);
      const ctx: AlertContext = {
        ...context(durable, [dying], basePolicy, { now: new Date(d.at) }),
        store: {
          getState: (t, k) => durable.getState(t, k),
          setState: async (t, k, v) => { await killable.setState(t, k, v); await durable.setState(t, k, v); },
          getStateBlob: (t, k) => durable.getStateBlob(t, k),
          putStateBlob: async (t, k, v) => { await killable.putStateBlob(t, k, v); await durable.putStateBlob(t, k, v); },
        },
        persist: async (entries) => { await killable.putLedgerEntries(TENANT, entries); await durable.putLedgerEntries(TENANT, entries); },
      };
      const run = deliverAlerts(new Map(ledger), ctx).then((s) => void summaries.push(s)).catch(() => undefined);
      // A killed run never finishes: give it time to reach the kill, then leave it.
      await Promise.race([run, new Promise((r) => setTimeout(r, 200))]);
      if (crasher.crashed) break;
    }
    const crashed = crasher.crashed;
    // The restarted process runs the killed day again and goes on, nothing killed.
    const healthy = new TeamsWebhookSink({ url: hook.url, ...noSleep });
    for (; day < days.length; day++) {
      const d = days[day] as (typeof days)[number];
      const ledger = ledgerOf(d.findings, d.at, await durable.getLedger(TENANT));
      await durable.putLedgerEntries(TENANT, [...ledger.values()]);
      summaries.push(await deliverAlerts(new Map(ledger), context(durable, [healthy], basePolicy, { now: new Date(d.at) })));
    }
    // Nothing is left in the outbox, and every alertable entry carries its mark.
    expect(JSON.parse((await durable.getStateBlob(TENANT, 'alerts-outbox-teams')) ?? '{"pending":[]}').pending).toEqual([]);
    const final = await durable.getLedger(TENANT);
    for (const e of final.values()) expect(e.alerted?.teams?.key).toBe(newsKey(e));
    return { crashed, posts: [...hook.received], summaries };
  }

  it('every finding is alerted, none twice — except the one window between the post and its record, resent marked as a repeat', async () => {
    const baseline = await trial(Number.MAX_SAFE_INTEGER);
    expect(baseline.crashed).toBe(false);
    const carried = (posts: Received[]): string[] => posts.flatMap((p) => [...cardText(p.body).matchAll(/user(\d)@example/g)].map((m) => `u-${m[1]}`));
    expect(carried(baseline.posts).sort()).toEqual(['u-1', 'u-2', 'u-3']);
    let windows = 0;
    let points = 0;
    for (let at = 1; ; at++) {
      const t = await trial(at);
      if (!t.crashed) break; // past the last point
      points = at;
      const users = carried(t.posts);
      // Never lost: each finding reached the channel.
      expect([...new Set(users)].sort()).toEqual(['u-1', 'u-2', 'u-3']);
      const resent = t.posts.filter((p) => cardText(p.body).includes('再送:'));
      if (users.length > 3) {
        // A repeat happens only as the resend of the same alert id, saying so on the card.
        windows++;
        expect(resent).toHaveLength(1);
        const ids = t.posts.map((p) => p.alertId);
        expect(ids.filter((id) => id === resent[0]?.alertId)).toHaveLength(2);
        expect(users.length - 3).toBe(carried([resent[0] as Received]).length);
      } else {
        expect(resent).toHaveLength(0);
      }
    }
    // The window is two points per post (the post accepted, answer not seen; the marks' write
    // not done), and the uninterrupted life makes two posts.
    expect(windows).toBe(4);
    // Per post: the intent's write, the post, the marks' write, the outbox cleared.
    expect(points).toBe(8);
  });
});

describe('the file sink (no webhook)', () => {
  it('writes each alert under its own name and never writes the same news twice', async () => {
    const written = new Map<string, TeamsMessage>();
    const sink = new FileAlertSink(async (name, message) => void written.set(name, message));
    const store = new MemoryStore();
    const s1 = await deliverAlerts(ledgerOf([finding(1)], '2026-12-01T03:00:00Z'), context(store, [sink]));
    expect(s1.sent).toHaveLength(1);
    expect([...written.keys()][0]).toMatch(/^20261201-030000-run-[0-9a-f]{8}$/);
    await deliverAlerts(await store.getLedger(TENANT), context(store, [sink]));
    expect(written.size).toBe(1);
  });
});

describe('reading what a webhook answers', () => {
  it('treats an empty or "1" body as success and an error text or JSON error as failure', () => {
    expect(bodyError('')).toBeUndefined();
    expect(bodyError('1')).toBeUndefined();
    expect(bodyError('{"status":"accepted"}')).toBeUndefined();
    expect(bodyError('Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0')).toEqual({ throttled: true });
    expect(bodyError('{"error":{"code":"InvalidTemplate","message":"…"}}')).toEqual({ throttled: false });
    expect(bodyError('{"ok":false}')).toEqual({ throttled: false });
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('Tue, 01 Dec 2026 03:00:10 GMT', Date.parse('2026-12-01T03:00:00Z'))).toBe(10_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
