/**
 * Teams alerts end to end: the real pipeline over the simulator (with its Planner), the ledger
 * on Azurite, and a local Workflows-like webhook. The first scan posts one card with the planted
 * findings at or above alerts.minSeverity and every sign-in detection, linking each Planner task
 * the run created; a rerun posts nothing; a finding fixed and broken again comes back as
 * reopened; a webhook that fails loses nothing: the next scan's card carries the news.
 */
import type { TeamsMessage } from '../../src/alerts/cards';
import { plannerTaskUrl } from '../../src/alerts/deliver';
import { TeamsWebhookSink } from '../../src/alerts/teams';
import { validatePolicy } from '../../src/config/policy';
import { runScan, type ScanResult } from '../../src/pipeline';
import { SEVERITIES } from '../../src/rules/ids';
import { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_PLAN_ID } from '../../src/sim/server';
import type { DemoTenant, JsonObject } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { PlannerSink } from '../../src/tickets/planner';
import { withSim, type TestSim } from '../support/sim';
import { Hook } from '../support/teams-hook';

let store: Store;
let hook: Hook;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
  hook = new Hook();
  await hook.start();
});
afterAll(() => hook.close());

function scan(t: TestSim, demo: DemoTenant, fresh = false): Promise<ScanResult> {
  const graph = t.graph({ budgets: { identityReports: { limit: 1000, perSeconds: 1 }, signInActivity: { limit: 1000, perSeconds: 1 }, conditionalAccess: { limit: 1000, perSeconds: 1 } } });
  const policy = validatePolicy(demo.policy);
  return runScan({
    graph,
    policy,
    tenantId: demo.data.tenantId,
    store,
    sinks: (directory) => [new PlannerSink(graph, { planId: DEFAULT_PLANNER_PLAN_ID, bucketId: DEFAULT_PLANNER_BUCKET_ID, userIdOf: (a) => directory.userIdOf(a) })],
    alerts: {
      sinks: [new TeamsWebhookSink({ url: hook.url, minIntervalMs: 0, sleep: async () => undefined })],
      kind: 'run',
      organization: policy.organization.name,
      tenantId: demo.data.tenantId,
      policy,
      reportUrl: 'https://contoso.sharepoint.com/sites/audit/report.html',
    },
    collectOptions: { freshState: fresh },
  });
}

const text = (m: TeamsMessage | undefined): string => JSON.stringify(m?.attachments[0].content ?? {});

describe('Teams alerts through the pipeline', () => {
  it('one card per run with the news and its Planner links; nothing on a rerun; reopened marked; a failed post caught up', async () => {
    await withSim(406, async (t, demo) => {
      hook.received = [];
      hook.requests = 0;
      const first = await scan(t, demo, true);
      expect(first.alerts?.sent).toHaveLength(1);
      expect(hook.received).toHaveLength(1);
      const policy = validatePolicy(demo.policy);
      const threshold = SEVERITIES.indexOf(policy.alerts.minSeverity);
      const alertable = first.findings.filter((f) => f.status === 'open' && (f.ruleId.startsWith('SIGN-') || SEVERITIES.indexOf(f.severity) <= threshold));
      expect(alertable.length).toBeGreaterThan(0);
      expect(first.alerts?.items).toBe(alertable.length);
      const card = text(hook.received[0]?.body);
      expect(card).toContain(policy.organization.name);
      // The most severe item is shown with its Planner task (the run created the tasks first).
      const critical = first.findings.find((f) => f.severity === 'critical' && f.status === 'open');
      const entry = await store.getLedgerEntry(demo.data.tenantId, critical?.id ?? '');
      const taskId = entry?.ticket?.sinks.planner?.ref ?? '';
      expect(taskId).not.toBe('');
      expect(card).toContain(plannerTaskUrl(demo.data.tenantId, taskId));
      expect(card).toContain('https://contoso.sharepoint.com/sites/audit/report.html');
      expect(entry?.alerted?.teams?.alertId).toBe(first.alerts?.sent[0]?.replace('teams: ', ''));

      // Rerun: nothing new, nothing posted.
      const second = await scan(t, demo);
      expect(second.alerts?.sent).toEqual([]);
      expect(hook.requests).toBe(1);

      // The webhook fails while a planted MFA-02 user is fixed and broken again: nothing is lost.
      const g = demo.groundTruth.find((x) => x.ruleId === 'MFA-02' && !demo.groundTruth.some((y) => y.subjectId === x.subjectId && y.ruleId !== 'MFA-02'));
      const reg = t.sim.tenant.userRegistrationDetails.find((r) => r.id === g?.subjectId) as JsonObject;
      reg.isMfaRegistered = true;
      await scan(t, demo);
      reg.isMfaRegistered = false;
      hook.replies = [{ status: 400 }];
      const failed = await scan(t, demo);
      expect(failed.ledger?.reopened).toBe(1);
      expect(failed.alerts?.failed).toHaveLength(1);
      expect(failed.exitCode).toBe(0); // an alert that failed does not make the scan partial
      const caughtUp = await scan(t, demo);
      expect(caughtUp.alerts?.sent).toHaveLength(1);
      expect(caughtUp.alerts?.items).toBe(1);
      expect(hook.received).toHaveLength(2);
      expect(text(hook.received[1]?.body)).toContain('（再発）');
    });
  });
});
