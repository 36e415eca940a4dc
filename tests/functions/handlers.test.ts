/**
 * The Functions handlers, each called as the host calls it (`new InvocationContext(...)`), against
 * the simulator over HTTPS and the test Azurite: reports in blob storage, the sign-in watch's
 * watermark and card, the digest, the HTTP trigger and its queue worker, a timer delivered twice,
 * two overlapping runs. Seeds 420-429 are this file's (the tenant id follows the seed).
 */
import { HttpRequest, type Timer } from '@azure/functions';
import { monthlyDigestHandler } from '../../functions/monthly-digest';
import { scanNowHandler, scanQueue } from '../../functions/scan-now';
import { scanWorkerHandler } from '../../functions/scan-worker';
import { signInWatchHandler } from '../../functions/signin-watch';
import { tenantScanHandler } from '../../functions/tenant-scan';
import { TeamsWebhookSink } from '../../src/alerts/teams';
import { validatePolicy } from '../../src/config/policy';
import { loadSettings } from '../../src/config/settings';
import { SIGNIN_STATE_KEY } from '../../src/collect/signins';
import type { ScanRequestMessage } from '../../src/jobs/scan-request';
import type { ScanDeps } from '../../src/runtime';
import { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_PLAN_ID } from '../../src/sim/planner';
import type { DemoTenant } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { sinksFromSettings } from '../../src/tickets/sinks';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startTestSim, withSim, type TestSim } from '../support/sim';
import { Hook, SECRET } from '../support/teams-hook';
import { context, scanLines } from '../support/functions';

const TIMER = { isPastDue: false, scheduleStatus: { last: '', next: '', lastUpdated: '' } } as Timer;

let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});

/** The simulator's Graph, the test Azurite, Planner tickets and (with a hook) Teams alerts. */
function depsFor(t: TestSim, demo: DemoTenant, hook?: Hook, extra: Partial<ScanDeps> = {}): () => Promise<ScanDeps> {
  const policy = validatePolicy(demo.policy);
  const settings = loadSettings({ M365_AUDIT_PLANNER_PLAN_ID: DEFAULT_PLANNER_PLAN_ID, M365_AUDIT_PLANNER_BUCKET_ID: DEFAULT_PLANNER_BUCKET_ID });
  const teams = hook ? new TeamsWebhookSink({ url: hook.url }) : undefined;
  return async () => ({
    policy,
    tenantId: demo.data.tenantId,
    store,
    graph: () => {
      const graph = t.graph();
      return { graph, close: async () => undefined, sinks: sinksFromSettings(settings, graph) };
    },
    ...(teams
      ? {
          alerts: { sinks: [teams], kind: 'run' as const, organization: policy.organization.name, tenantId: demo.data.tenantId, policy },
          announce: { sink: teams },
        }
      : {}),
    ...extra,
  });
}

async function withHook<T>(fn: (hook: Hook) => Promise<T>): Promise<T> {
  const hook = new Hook();
  await hook.start();
  try {
    return await fn(hook);
  } finally {
    await hook.close();
  }
}

describe('tenantScan', () => {
  it('scans, puts findings.json, report.html and findings.csv in blob storage, alerts Teams and logs one structured line', async () => {
    await withHook((hook) =>
      withSim(420, async (t, demo) => {
        const { ctx, lines } = context('tenantScan');
        await tenantScanHandler(depsFor(t, demo, hook))(TIMER, ctx);
        const [record] = await store.listScans(demo.data.tenantId, 1);
        expect(record).toBeDefined();
        const scanId = record?.scanId ?? '';
        const doc = JSON.parse((await store.getReport(demo.data.tenantId, scanId, 'findings.json')).toString('utf8')) as { scanId: string; outcome: string; findings: unknown[] };
        expect(doc.scanId).toBe(scanId);
        expect(doc.outcome).toBe(record?.exitCode === 0 ? 'complete' : 'partial');
        expect(doc.findings.length).toBeGreaterThan(0);
        expect((await store.getReport(demo.data.tenantId, scanId, 'report.html')).toString('utf8')).toContain('<html lang="ja">');
        expect((await store.getReport(demo.data.tenantId, scanId, 'findings.csv')).length).toBeGreaterThan(0);
        // The run's card went to the channel (ja: the demo organisation's locale).
        expect(hook.received).toHaveLength(1);
        expect(JSON.stringify(hook.received[0]?.body)).toContain('新しい指摘');
        const [line, ...more] = scanLines(lines);
        expect(more).toHaveLength(0);
        expect(line).toMatchObject({ scanId, tenantId: demo.data.tenantId, outcome: doc.outcome });
        expect((line?.tickets as { opened: number }).opened).toBeGreaterThan(0);
        expect((line?.alerts as { sent: number }).sent).toBe(1);
        // No secret, and no user principal name of the tenant in the log.
        const log = lines.join('\n');
        expect(log).not.toContain(SECRET);
        for (const u of demo.data.users.slice(0, 30)) expect(log).not.toContain(u.userPrincipalName);
      }),
    );
  });

  it('reports a scan that could read nothing as failed (reports in blob storage say so; the log line is an error)', async () => {
    const demo = generateDemoTenant({ seed: 426, users: 30 });
    // Graph refuses every request (a consent that was revoked): every area fails.
    const t = await startTestSim({ tenant: demo.data, throttle: false, faults: [{ match: /./, status: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' }] });
    try {
      const { ctx, lines } = context('tenantScan');
      await tenantScanHandler(depsFor(t, demo))(TIMER, ctx);
      const [record] = await store.listScans(demo.data.tenantId, 1);
      const doc = JSON.parse((await store.getReport(demo.data.tenantId, record?.scanId ?? '', 'findings.json')).toString('utf8')) as { outcome: string; error?: string };
      expect(doc.outcome).toBe('failed');
      expect(doc.error).toMatch(/\S/);
      expect(lines.find((l) => l.includes('"event":"m365-audit.scan"'))).toMatch(/^error: .*"outcome":"failed"/);
      // A failed collection resolves nothing and opens no ticket.
      expect(t.sim.plannerTasks()).toHaveLength(0);
    } finally {
      await t.close();
    }
  });

  it('does no harm when the timer is delivered twice: no second ticket or card, the ledger as before', async () => {
    await withHook((hook) =>
      withSim(424, async (t, demo) => {
        const deps = depsFor(t, demo, hook);
        await tenantScanHandler(deps)(TIMER, context('tenantScan').ctx);
        const tasks = t.sim.plannerTasks().length;
        const ledger = await store.getLedger(demo.data.tenantId);
        const cards = hook.received.length;
        expect(tasks).toBeGreaterThan(0);
        expect(cards).toBe(1);
        const again = context('tenantScan');
        await tenantScanHandler(deps)({ ...TIMER, isPastDue: true }, again.ctx);
        expect(t.sim.plannerTasks()).toHaveLength(tasks);
        expect(hook.received).toHaveLength(cards);
        const after = await store.getLedger(demo.data.tenantId);
        expect([...after.keys()].sort()).toEqual([...ledger.keys()].sort());
        for (const [id, e] of after) expect(e.ticket?.id).toBe(ledger.get(id)?.ticket?.id);
        expect(scanLines(again.lines)[0]).toMatchObject({ ledger: { opened: 0, reopened: 0 }, tickets: { opened: 0 } });
        expect(again.lines.join('\n')).toMatch(/past due/);
        expect(await store.listScans(demo.data.tenantId, 5)).toHaveLength(2);
      }),
    );
  });

  it('runs two overlapping invocations one after the other under the ledger lease: each ticket and card once', async () => {
    await withHook((hook) =>
      withSim(425, async (t, demo) => {
        const deps = depsFor(t, demo, hook);
        const a = context('tenantScan');
        const b = context('tenantScan');
        await Promise.all([tenantScanHandler(deps)(TIMER, a.ctx), tenantScanHandler(deps)(TIMER, b.ctx)]);
        const [la, lb] = [scanLines(a.lines)[0], scanLines(b.lines)[0]];
        const opened = [la, lb].map((l) => (l?.tickets as { opened: number }).opened).sort((x, y) => x - y);
        // The second run (whichever got the lease last) found the first's tickets and opened none.
        expect(opened[0]).toBe(0);
        expect(opened[1]).toBeGreaterThan(0);
        expect(t.sim.plannerTasks()).toHaveLength(opened[1] ?? -1);
        expect(hook.received).toHaveLength(1);
        const ids = [...(await store.getLedger(demo.data.tenantId)).values()].flatMap((e) => (e.ticket ? [e.ticket.id] : []));
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toHaveLength(opened[1] ?? -1);
        expect(await store.listScans(demo.data.tenantId, 5)).toHaveLength(2);
      }),
    );
  });
});

describe('signInWatch', () => {
  it('reads sign-ins only, advances the watermark each run and posts the sign-in card', async () => {
    await withHook((hook) =>
      withSim(421, async (t, demo) => {
        let now = new Date();
        const deps = depsFor(t, demo, hook, { clock: () => now });
        const first = context('signInWatch');
        await signInWatchHandler(deps)(TIMER, first.ctx);
        const state1 = JSON.parse((await store.getStateBlob(demo.data.tenantId, SIGNIN_STATE_KEY)) ?? '{}') as { watermark?: string };
        expect(state1.watermark).toBeDefined();
        expect(scanLines(first.lines)[0]).toMatchObject({ areas: ['signins'] });
        expect(hook.received.length).toBe(1);
        expect(JSON.stringify(hook.received[0]?.body)).toContain('サインイン監視の新しい検知');
        now = new Date(now.getTime() + 15 * 60_000);
        await signInWatchHandler(deps)(TIMER, context('signInWatch').ctx);
        const state2 = JSON.parse((await store.getStateBlob(demo.data.tenantId, SIGNIN_STATE_KEY)) ?? '{}') as { watermark?: string };
        expect(Date.parse(state2.watermark ?? '')).toBeGreaterThan(Date.parse(state1.watermark ?? ''));
        // Nothing new in those 15 minutes: no second card.
        expect(hook.received.length).toBe(1);
      }),
    );
  });
});

describe('monthlyDigest', () => {
  it('keeps last month\'s digest in blob storage only, mails it through Graph once and announces it', async () => {
    await withHook((hook) =>
      withSim(422, async (t, demo) => {
        await tenantScanHandler(depsFor(t, demo))(TIMER, context('tenantScan').ctx);
        // 00:00 UTC on the 1st of next month = 09:00 JST: the digest of this month.
        const today = new Date();
        const first = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 1, 1, 0, 0, 5));
        const month = `${today.getUTCFullYear()}-${String(today.getUTCMonth() + 1).padStart(2, '0')}`;
        const org = validatePolicy(demo.policy).organization;
        const ciso = org.ciso ?? 'no ciso';
        const sender = org.systemAdministrators.find((a) => a !== ciso) ?? '';
        const deps = depsFor(t, demo, hook, { clock: () => first, mailSender: sender });
        const { ctx, lines } = context('monthlyDigest');
        await monthlyDigestHandler(deps)(TIMER, ctx);
        expect(await store.getDigest(demo.data.tenantId, month)).toContain('<html');
        const mail = t.sim.sentMail();
        expect(mail).toHaveLength(1);
        expect(JSON.stringify(mail[0]?.message)).toContain(ciso);
        expect(hook.received).toHaveLength(1);
        const line = JSON.parse(lines.find((l) => l.includes('m365-audit.digest'))?.replace(/^[a-z]+: /, '') ?? '{}') as Record<string, unknown>;
        expect(line).toMatchObject({ month, outcome: 'complete', mail: 'sent', card: 'sent' });
        // The recipient's address is not logged.
        expect(lines.join('\n')).not.toContain(ciso);
        // Delivered again (at-least-once): not mailed or announced twice.
        await monthlyDigestHandler(deps)(TIMER, context('monthlyDigest').ctx);
        expect(t.sim.sentMail()).toHaveLength(1);
        expect(hook.received).toHaveLength(1);
      }),
    );
  });
});

describe('scanNow and scanWorker', () => {
  const post = (body: string | undefined, contentType = 'application/json'): HttpRequest =>
    new HttpRequest({ method: 'POST', url: 'https://app.example/api/scan', headers: { 'content-type': contentType }, ...(body !== undefined ? { body: { string: body } } : {}) });

  it.each([
    ['a body that is not declared JSON', 415, post('areas=signins', 'application/x-www-form-urlencoded'), /Content-Type must be application\/json/],
    ['a body that is not JSON', 400, post('{"areas":', 'application/json'), /not valid JSON/],
    ['a JSON array', 400, post('["signins"]'), /must be a JSON object/],
    ['an unknown area', 400, post('{"areas":["signins","printers"]}'), /areas: "printers" is not an area of this release \(available: .*signins/],
    ['areas as a string', 400, post('{"areas":"signins"}'), /areas: must be a non-empty array/],
    ['confirmResolutions as text', 400, post('{"confirmResolutions":"yes"}'), /confirmResolutions: must be true or false/],
    ['an unknown field', 400, post('{"area":["signins"]}'), /area: not a field of this request/],
  ])('refuses %s with %d and a message naming the field and the fix, and queues nothing', async (_what, status, request, message) => {
    const { ctx } = context('scanNow');
    const res = await scanNowHandler()(request, ctx);
    expect(res.status).toBe(status);
    expect((res.jsonBody as { error: string }).error).toMatch(message);
    expect(ctx.extraOutputs.get(scanQueue)).toBeUndefined();
  });

  it('answers 202 with the scan id at once, queues the request, and the worker scans with that id (once)', async () => {
    const at = new Date('2026-12-01T03:00:00.000Z');
    const { ctx } = context('scanNow');
    const res = await scanNowHandler(() => at)(post('{"areas":["accounts","signins"],"confirmResolutions":false}'), ctx);
    expect(res.status).toBe(202);
    const { scanId } = res.jsonBody as { scanId: string };
    expect(scanId).toMatch(/^[0-9a-f-]{36}$/);
    const queued = ctx.extraOutputs.get(scanQueue) as ScanRequestMessage;
    expect(queued).toEqual({ scanId, areas: ['accounts', 'signins'], requestedAt: at.toISOString() });
    // No body at all: every area.
    const bare = context('scanNow');
    expect((await scanNowHandler()(post(undefined), bare.ctx)).status).toBe(202);
    expect((bare.ctx.extraOutputs.get(scanQueue) as ScanRequestMessage).areas).toBeUndefined();

    await withSim(423, async (t, demo) => {
      const deps = depsFor(t, demo);
      // The platform hands a JSON message over as text or as an object: both are read.
      const worker = context('scanWorker');
      await scanWorkerHandler(deps)(JSON.stringify(queued), worker.ctx);
      const records = await store.listScans(demo.data.tenantId, 5);
      expect(records.map((r) => r.scanId)).toEqual([scanId]);
      expect(records[0]?.areas).toEqual(['accounts', 'signins']);
      const doc = JSON.parse((await store.getReport(demo.data.tenantId, scanId, 'findings.json')).toString('utf8')) as { scanId: string };
      expect(doc.scanId).toBe(scanId);
      expect(scanLines(worker.lines)[0]).toMatchObject({ scanId, areas: ['accounts', 'signins'] });
      // Redelivered: recorded already, not scanned again.
      const again = context('scanWorker');
      await scanWorkerHandler(deps)(queued, again.ctx);
      expect(await store.listScans(demo.data.tenantId, 5)).toHaveLength(1);
      expect(scanLines(again.lines)[0]).toMatchObject({ scanId, outcome: 'already-recorded' });
    });
  });

  it('refuses a queue message that is not one of scanNow\'s (the platform retries, then moves it to poison)', async () => {
    const handler = scanWorkerHandler(async () => {
      throw new Error('deps must not be built for a bad message');
    });
    await expect(handler('not json', context('scanWorker').ctx)).rejects.toThrow(/m365-audit-scan-requests: the message is not JSON/);
    await expect(handler({ scanId: 'x', requestedAt: '2026-12-01T00:00:00Z' }, context('scanWorker').ctx)).rejects.toThrow(/scanId must be the UUID/);
    await expect(handler({ scanId: '6f1c2c1e-0000-4000-8000-000000000000', requestedAt: '2026-12-01T00:00:00Z', areas: ['printers'] }, context('scanWorker').ctx)).rejects.toThrow(/areas: "printers"/);
  });
});
