/**
 * Sign-ins from the Event Hub: the diagnostic-settings record shape mapped (signins/diagnostic.ts)
 * and the signInStream handler called as the host calls it (`new InvocationContext(...)`, a batch
 * of Event Hub messages) against the simulator's Graph (the directory, for ticket routing) and the
 * test Azurite. The batches are built from the demo tenant's own sign-ins in the shape Azure Monitor
 * streams ("Interpret the Microsoft Entra sign-in logs schema in Azure Monitor"), so the stream
 * must find what the Graph watch finds. Seeds 500-509 are this file's.
 */
import type { Timer } from '@azure/functions';
import { signInStreamHandler } from '../../functions/signin-stream';
import { signInWatchHandler } from '../../functions/signin-watch';
import { validatePolicy } from '../../src/config/policy';
import { loadSettings } from '../../src/config/settings';
import { SIGNIN_STATE_KEY } from '../../src/collect/signins';
import { areasFor, type ScanDeps } from '../../src/runtime';
import { RULES } from '../../src/rules/index';
import { parseDiagnosticBatch } from '../../src/signins/diagnostic';
import type { DemoTenant, JsonObject } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { withSim, type TestSim } from '../support/sim';
import { context, scanLines } from '../support/functions';

let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});

const TENANT = '11111111-2222-3333-4444-555555555555';
const implemented = new Set<string>(RULES.map((r) => r.id));
const key = (ruleId: string, subjectId: string): string => `${ruleId} ${subjectId}`;

/** A Graph signIn as Azure Monitor streams it: the envelope's fields, the sign-in under `properties`. */
function diagnosticRecord(s: JsonObject, tenantId: string, category = 'SignInLogs'): JsonObject {
  const status = s.status as { errorCode: number };
  const location = s.location as { countryOrRegion?: string } | undefined;
  return {
    time: s.createdDateTime as string,
    resourceId: `/tenants/${tenantId}/providers/Microsoft.aadiam`,
    operationName: 'Sign-in activity',
    operationVersion: '1.0',
    category,
    tenantId,
    resultType: String(status.errorCode),
    resultSignature: 'None',
    resultDescription: '',
    durationMs: 0,
    callerIpAddress: s.ipAddress as string,
    correlationId: '00000000-0000-0000-0000-000000000000',
    identity: s.userDisplayName as string,
    Level: 4,
    location: location?.countryOrRegion ?? '',
    // The stream writes the offset as +00:00 where Graph writes Z.
    properties: { ...s, createdDateTime: String(s.createdDateTime).replace(/Z$/, '+00:00') },
  };
}

describe('the diagnostic record shape', () => {
  const base = {
    id: 'a1', createdDateTime: '2026-11-30T01:02:03.1234567+00:00', userId: 'u-1', userPrincipalName: 'a@example.jp',
    appDisplayName: 'Office 365', ipAddress: '198.51.100.7', clientAppUsed: 'Browser', status: { errorCode: 50126 }, location: { countryOrRegion: 'JP' },
  };
  const envelope = (records: unknown[]) => ({ records });

  it('maps a record from an object, JSON text or bytes, filling from the envelope what properties leave out', () => {
    const record = { time: '2026-11-30T01:02:03Z', category: 'SignInLogs', tenantId: TENANT, resultType: '50053', callerIpAddress: '203.0.113.9', location: 'US', properties: { id: 'a2', userId: 'u-2', userPrincipalName: 'b@example.jp' } };
    const text = JSON.stringify(envelope([{ category: 'SignInLogs', tenantId: TENANT, properties: base }]));
    const batch = parseDiagnosticBatch([envelope([record]), text, Buffer.from(text)], TENANT);
    expect(batch.problems).toEqual([]);
    expect(batch.records).toBe(3);
    expect(batch.events[0]).toEqual({
      id: 'a2', time: Date.parse('2026-11-30T01:02:03Z'), userId: 'u-2', userPrincipalName: 'b@example.jp', ipAddress: '203.0.113.9',
      errorCode: 50053, countryOrRegion: 'US', clientAppUsed: '', appDisplayName: '',
    });
    expect(batch.events[1]).toEqual({
      id: 'a1', time: Date.parse('2026-11-30T01:02:03.123Z'), userId: 'u-1', userPrincipalName: 'a@example.jp', ipAddress: '198.51.100.7',
      errorCode: 50126, countryOrRegion: 'JP', clientAppUsed: 'Browser', appDisplayName: 'Office 365',
    });
    expect(batch.events[2]).toEqual(batch.events[1]);
  });

  it('reads interactive sign-ins only, counts other categories, and names every unreadable message or record', () => {
    const batch = parseDiagnosticBatch(
      [
        envelope([
          { category: 'NonInteractiveUserSignInLogs', tenantId: TENANT, properties: base },
          { category: 'ServicePrincipalSignInLogs', tenantId: TENANT, properties: base },
          { category: 'SignIn', tenantId: TENANT, properties: { ...base, id: 'old-category' } },
          { category: 'SignInLogs', tenantId: TENANT, properties: { ...base, id: 'no-date', createdDateTime: 'yesterday' } },
          { category: 'SignInLogs', tenantId: 'ffffffff-0000-0000-0000-000000000000', properties: { ...base, id: 'other-tenant' } },
          'not a record',
        ]),
        '{"records": [',
        { value: [] },
      ],
      TENANT,
    );
    expect(batch.events.map((e) => e.id)).toEqual(['old-category']);
    expect(batch.ignored).toEqual({ NonInteractiveUserSignInLogs: 1, ServicePrincipalSignInLogs: 1 });
    expect(batch.problems).toHaveLength(5);
    expect(batch.problems.join('\n')).toMatch(/records\[5\]: not an object/);
    expect(batch.problems.join('\n')).toMatch(/of tenant ffffffff-0000-0000-0000-000000000000, not the tenant being watched/);
    expect(batch.problems.join('\n')).toMatch(/\(id no-date\): not a date/);
    expect(batch.problems.join('\n')).toMatch(/Event Hub message \[1\]: not JSON/);
    expect(batch.problems.join('\n')).toMatch(/Event Hub message \[2\]: not an Azure Monitor log envelope/);
  });
});

const scanLine = (lines: readonly string[]): Record<string, unknown> => scanLines(lines)[0] ?? {};

function depsFor(t: TestSim, demo: DemoTenant, extra: Partial<ScanDeps> = {}): () => Promise<ScanDeps> {
  const policy = validatePolicy(demo.policy);
  return async () => ({
    policy,
    tenantId: demo.data.tenantId,
    store,
    signInSource: 'eventhub',
    clock: () => new Date(demo.now),
    graph: () => ({ graph: t.graph(), close: async () => undefined }),
    ...extra,
  });
}

describe('signInStream', () => {
  it('finds from Event Hub batches what the Graph watch finds, continues across batches, and counts a redelivered batch once', async () => {
    await withSim(500, async (t, demo) => {
      const tenantId = demo.data.tenantId;
      const lateIds = new Set(Object.keys(demo.data.signInAvailableAt ?? {}));
      const onTime = demo.data.signIns.filter((s) => !lateIds.has(String(s.id)));
      const late = demo.data.signIns.filter((s) => lateIds.has(String(s.id)));
      expect(late).toHaveLength(1);
      // Two messages (a hub batches several), plus records the watch does not read.
      const half = Math.ceil(onTime.length / 2);
      const first = [
        { records: onTime.slice(0, half).map((s) => diagnosticRecord(s, tenantId)) },
        JSON.stringify({ records: [...onTime.slice(half).map((s) => diagnosticRecord(s, tenantId)), diagnosticRecord(onTime[0] as JsonObject, tenantId, 'NonInteractiveUserSignInLogs')] }),
      ];
      const handler = signInStreamHandler(depsFor(t, demo), 'Event Hub entra-signins');
      const run1 = context('signInStream');
      await handler(first, run1.ctx);
      const line1 = scanLine(run1.lines);
      expect(line1).toMatchObject({ areas: ['signins'], outcome: 'complete' });
      const ledger1 = await store.getLedger(tenantId);
      const sign = (entries: typeof ledger1) => [...entries.values()].filter((e) => e.ruleId.startsWith('SIGN-')).map((e) => key(e.ruleId, e.subject.id)).sort();
      const planted = demo.groundTruth.filter((g) => g.ruleId.startsWith('SIGN-') && implemented.has(g.ruleId)).map((g) => key(g.ruleId, g.subjectId)).sort();
      expect(planted.length).toBeGreaterThan(0);
      expect(sign(ledger1)).toEqual(planted);
      // The watermark is the newest sign-in streamed, not the clock.
      const newest = Math.max(...onTime.map((s) => Date.parse(String(s.createdDateTime))));
      const state1 = JSON.parse((await store.getStateBlob(tenantId, SIGNIN_STATE_KEY)) ?? '{}') as { watermark?: string };
      expect(Date.parse(state1.watermark ?? '')).toBe(newest);

      // At-least-once: the same batch again adds nothing.
      const again = context('signInStream');
      await handler(first, again.ctx);
      expect(scanLine(again.lines)).toMatchObject({ ledger: { opened: 0, appended: 0 } });
      expect(sign(await store.getLedger(tenantId))).toEqual(planted);

      // The late failure arrives in a later batch and completes the burst of the one before.
      const [lateTruth] = demo.late.groundTruth;
      if (!lateTruth) throw new Error('the demo tenant plants no late arrival');
      const run3 = context('signInStream');
      await handler([{ records: late.map((s) => diagnosticRecord(s, tenantId)) }], run3.ctx);
      expect(scanLine(run3.lines)).toMatchObject({ outcome: 'complete', ledger: { opened: 1 } });
      const ledger3 = await store.getLedger(tenantId);
      const lateEntry = [...ledger3.values()].find((e) => e.ruleId === 'SIGN-01' && e.subject.id === lateTruth.subjectId);
      expect(lateEntry?.evidence).toMatchObject({ failures: 10 });
      const lateAt = Date.parse(String(late[0]?.createdDateTime));
      const state3 = JSON.parse((await store.getStateBlob(tenantId, SIGNIN_STATE_KEY)) ?? '{}') as { watermark?: string };
      expect(Date.parse(state3.watermark ?? '')).toBe(Math.max(newest, lateAt));
      // A watermark never goes back: a batch of older sign-ins (redelivered after a retry) leaves it.
      await handler([{ records: onTime.slice(0, 3).map((s) => diagnosticRecord(s, tenantId)) }], context('signInStream').ctx);
      const state4 = JSON.parse((await store.getStateBlob(tenantId, SIGNIN_STATE_KEY)) ?? '{}') as { watermark?: string };
      expect(state4.watermark).toBe(state3.watermark);
      expect(sign(await store.getLedger(tenantId))).toEqual([...planted, key('SIGN-01', lateTruth.subjectId)].sort());
    });
  });

  it('a batch with unreadable records is partial and says so; the readable ones still count', async () => {
    await withSim(501, async (t, demo) => {
      const tenantId = demo.data.tenantId;
      const records = demo.data.signIns.slice(0, 5).map((s) => diagnosticRecord(s, tenantId));
      const broken = { ...records[0], properties: { ...(records[0]?.properties as JsonObject), id: 'broken', status: { errorCode: 'x' } } };
      const run = context('signInStream');
      await signInStreamHandler(depsFor(t, demo))([{ records: [...records, broken] }], run.ctx);
      const line = scanLine(run.lines);
      expect(line).toMatchObject({ outcome: 'partial', coverage: { signins: 'partial' } });
      expect(run.lines.join('\n')).toMatch(/signInStream: skipped Event Hub sign-in record \[0\].*\(id broken\)/);
      const scans = await store.listScans(tenantId, 1);
      expect(scans[0]?.coverage.signins).toMatchObject({ status: 'partial', items: 5 });
      expect(scans[0]?.coverage.signins?.detail).toMatch(/skipped 1 unreadable sign-in record\(s\) from Event Hub/);
    });
  });

  it('with sign-ins from the Event Hub the Graph watch stands aside and the daily scan leaves the signins area to the stream', async () => {
    await withSim(502, async (t, demo) => {
      const run = context('signInWatch');
      const timer = { isPastDue: false, scheduleStatus: { last: '', next: '', lastUpdated: '' } } as Timer;
      await signInWatchHandler(depsFor(t, demo))(timer, run.ctx);
      expect(run.lines.join('\n')).toMatch(/"outcome":"skipped".*M365_AUDIT_SIGNIN_SOURCE=eventhub/);
      expect(await store.getStateBlob(demo.data.tenantId, SIGNIN_STATE_KEY)).toBeUndefined();
      expect(areasFor({ signInSource: 'eventhub' }, {})).not.toContain('signins');
      expect(areasFor({ signInSource: 'eventhub' }, { areas: ['accounts', 'signins'] })).toEqual(['accounts']);
      expect(() => areasFor({ signInSource: 'eventhub' }, { areas: ['signins'] })).toThrow(/sign-ins come from the Event Hub/);
      expect(areasFor({ signInSource: 'graph' }, { areas: ['signins'] })).toEqual(['signins']);
    });
  });
});

describe('settings', () => {
  it('the Event Hub source needs the hub and its consumer group, each named with its fix', () => {
    expect(() => loadSettings({ M365_AUDIT_SIGNIN_SOURCE: 'eventhub' })).toThrow(/M365_AUDIT_EVENTHUB_NAME: required with M365_AUDIT_SIGNIN_SOURCE=eventhub[\s\S]*M365_AUDIT_EVENTHUB_CONSUMER_GROUP: required/);
    expect(() => loadSettings({ M365_AUDIT_SIGNIN_SOURCE: 'kafka' })).toThrow(/M365_AUDIT_SIGNIN_SOURCE: must be graph or eventhub/);
    expect(loadSettings({ M365_AUDIT_SIGNIN_SOURCE: 'eventhub', M365_AUDIT_EVENTHUB_NAME: 'entra-signins', M365_AUDIT_EVENTHUB_CONSUMER_GROUP: 'm365-audit' }).signInSource).toBe('eventhub');
    expect(loadSettings({}).signInSource).toBe('graph');
  });
});
