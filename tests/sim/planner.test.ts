/**
 * The simulator's Planner endpoints (POST/GET/PATCH tasks, task details, plan buckets) over real
 * HTTPS, top level and inside `$batch`, with etags, If-Match, Prefer and faults.
 */
import { simClient } from '../support/sim-client';
import { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_PLAN_ID, PLANNER_CALLER_ID, startSimulator, type SimServer } from '../../src/sim/server';
import { plannerEtag } from '../../src/sim/planner';
import type { JsonObject, TenantData } from '../../src/sim/tenant';

jest.setTimeout(60_000);

const ASSIGNEE = '00000000-0000-0000-0000-000000000001';
const PLAN = 'xqQg5FS2LkCp935s-FIFm2QAFkHM';
const BUCKET_TODO = 'hsOf2dhOJkqyYYZEtdzDe2QAIUCR';
const BUCKET_DONE = 'doneBucketXXXXXXXXXXXXXXXXXX';

function makeTenant(): TenantData {
  return {
    tenantId: 'tenant-1',
    domains: [{ id: 'contoso.com', isVerified: true, isDefault: true }],
    users: [{ id: ASSIGNEE, displayName: 'User 1', userPrincipalName: 'user1@contoso.com', accountEnabled: true }],
    userRegistrationDetails: [],
    roleAssignments: [],
    roleEligibilitySchedules: [],
    securityDefaults: { id: '00000000-0000-0000-0000-000000000005', isEnabled: false },
    conditionalAccessPolicies: [],
    messageRules: {},
    signIns: [],
    sites: [],
    sharepointSettings: {},
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type BatchItemAnswer = { status: number; body?: any };

const client = (sim: SimServer) => simClient(sim);

const newTask = (extra: JsonObject = {}): JsonObject => ({
  planId: PLAN,
  bucketId: BUCKET_TODO,
  title: 'MFA 未登録: user1@contoso.com',
  assignments: { [ASSIGNEE]: { '@odata.type': '#microsoft.graph.plannerAssignment', orderHint: ' !' } },
  ...extra,
});

describe('Graph simulator: Planner', () => {
  let sim: SimServer;
  let c: ReturnType<typeof client>;

  beforeAll(async () => {
    sim = await startSimulator({
      tenant: makeTenant(),
      throttle: false,
      planner: {
        plans: [
          {
            id: PLAN,
            title: 'Remediation',
            buckets: [
              { id: BUCKET_TODO, name: 'To do' },
              { id: BUCKET_DONE, name: 'Done' },
            ],
          },
        ],
      },
    });
    c = client(sim);
  });
  afterAll(async () => {
    await c.agent.close();
    await sim.close();
  });
  beforeEach(() => {
    sim.setFaults([]);
    sim.resetCounts();
  });

  test('etags are W/"JzEt…" and grow in ordinal order with the version', () => {
    const etags = [1, 2, 51, 52, 53, 2704, 1_000_000].map((v) => plannerEtag('task', v));
    for (const e of etags) expect(e).toMatch(/^W\/"JzEt[A-Za-z0-9+/]+=*"$/);
    const sorted = [...etags].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(sorted).toEqual(etags);
    expect(Buffer.from(plannerEtag('task', 0).slice(3, -1), 'base64').toString('latin1')).toBe("'1-Task  @@@@@@@@@@@@@@@X'");
  });

  test('POST /planner/tasks creates a task shaped like the docs', async () => {
    const due = '2026-03-02T09:00:00Z';
    const a = await c.call('/planner/tasks', { method: 'POST', body: newTask({ dueDateTime: due }) });
    expect(a.status).toBe(201);
    const t = a.json;
    expect(t.id).toMatch(/^[A-Za-z0-9_-]{28}$/);
    expect(t).toMatchObject({
      planId: PLAN,
      bucketId: BUCKET_TODO,
      title: 'MFA 未登録: user1@contoso.com',
      percentComplete: 0,
      hasDescription: false,
      dueDateTime: due,
      createdBy: { user: { id: PLANNER_CALLER_ID } },
    });
    expect(t['@odata.etag']).toMatch(/^W\/"JzEt.+"$/);
    expect(typeof t.orderHint).toBe('string');
    expect(t.orderHint).not.toBe(' !');
    expect(t.createdDateTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
    const asg = t.assignments[ASSIGNEE];
    expect(asg['@odata.type']).toBe('#microsoft.graph.plannerAssignment');
    expect(asg.assignedBy).toEqual({ user: { id: PLANNER_CALLER_ID } });
    expect(asg.assignedDateTime).toBe(t.createdDateTime);
    expect(typeof asg.orderHint).toBe('string');
    expect(asg.orderHint).not.toBe(' !');
    expect(sim.counts().plannerTasks).toBe(1);

    // Read it back with its etag.
    const g = await c.call(`/planner/tasks/${t.id}`);
    expect(g.status).toBe(200);
    expect(g.json).toEqual(t);
    expect(sim.counts().plannerTask).toBe(1);
  });

  test('POST validation: planId, title, unknown plan, foreign bucket, assignment type', async () => {
    const cases: JsonObject[] = [
      { title: 'no plan' },
      { planId: PLAN },
      { planId: 'unknownPlanXXXXXXXXXXXXXXXXX', title: 'x' },
      { planId: PLAN, bucketId: DEFAULT_PLANNER_BUCKET_ID, title: 'x' },
      { planId: PLAN, title: 'x', assignments: { [ASSIGNEE]: { orderHint: ' !' } } },
      { planId: PLAN, title: 'x', dueDateTime: '2026-03-02' },
      { planId: PLAN, title: 'x', nonsense: 1 },
    ];
    for (const body of cases) {
      const a = await c.call('/planner/tasks', { method: 'POST', body });
      expect({ body, status: a.status }).toEqual({ body, status: 400 });
      expect(['BadRequest', 'InvalidRequest']).toContain(a.json.error.code);
    }
    expect((await c.call('/planner/tasks/doesNotExistXXXXXXXXXXXXXXXX')).status).toBe(404);
    expect((await c.call('/planner/tasks/doesNotExistXXXXXXXXXXXXXXXX/details')).status).toBe(404);
    // GET on the collection is not served.
    expect((await c.call('/planner/tasks')).status).toBe(405);
  });

  test('details: defaults, PATCH with the right etag, then the stale one, then without If-Match', async () => {
    const t = (await c.call('/planner/tasks', { method: 'POST', body: newTask() })).json;
    const d0 = await c.call(`/planner/tasks/${t.id}/details`);
    expect(d0.status).toBe(200);
    expect(d0.json).toEqual({
      '@odata.etag': expect.stringMatching(/^W\/"JzEt.+"$/),
      description: '',
      previewType: 'automatic',
      id: t.id,
      references: {},
      checklist: {},
    });
    const etag0: string = d0.json['@odata.etag'];
    expect(etag0).not.toBe(t['@odata.etag']);

    const patch = {
      description: 'Register MFA.\nSee the report.',
      references: {
        'https%3A//contoso%2Esharepoint%2Ecom/report%2Ehtml': { '@odata.type': 'microsoft.graph.plannerExternalReference', alias: 'Report', type: 'Other', previewPriority: ' !' },
      },
      checklist: {
        '95e27074-6c4a-447a-aa24-9d718a0b86fa': { '@odata.type': 'microsoft.graph.plannerChecklistItem', title: 'Register', isChecked: false },
        'd280ed1a-9f6b-4f9c-a962-fb4d00dc50ff': { '@odata.type': 'microsoft.graph.plannerChecklistItem', title: 'Verify', isChecked: true },
      },
    };
    const ok = await c.call(`/planner/tasks/${t.id}/details`, { method: 'PATCH', body: patch, headers: { 'If-Match': etag0 } });
    expect(ok.status).toBe(204);
    expect(ok.text).toBe('');

    const stale = await c.call(`/planner/tasks/${t.id}/details`, { method: 'PATCH', body: { description: 'lost' }, headers: { 'If-Match': etag0 } });
    expect(stale.status).toBe(412);
    expect(stale.json.error.code).toBe('PreconditionFailed');

    const none = await c.call(`/planner/tasks/${t.id}/details`, { method: 'PATCH', body: { description: 'lost' } });
    expect(none.status).toBe(400);
    expect(none.json.error.code).toBe('MissingIfMatchHeader');

    const d1 = await c.call(`/planner/tasks/${t.id}/details`);
    expect(d1.json.description).toBe(patch.description);
    expect(d1.json['@odata.etag'] > etag0).toBe(true);
    const ref = d1.json.references['https%3A//contoso%2Esharepoint%2Ecom/report%2Ehtml'];
    expect(ref).toMatchObject({ '@odata.type': '#microsoft.graph.plannerExternalReference', alias: 'Report', type: 'Other', lastModifiedBy: { user: { id: PLANNER_CALLER_ID } } });
    expect(ref.previewPriority).not.toBe(' !');
    expect(Object.keys(d1.json.checklist).sort()).toEqual(['95e27074-6c4a-447a-aa24-9d718a0b86fa', 'd280ed1a-9f6b-4f9c-a962-fb4d00dc50ff']);

    // Merge: null deletes, other keys stay; Prefer returns the new representation.
    const merged = await c.call(`/planner/tasks/${t.id}/details`, {
      method: 'PATCH',
      body: { checklist: { 'd280ed1a-9f6b-4f9c-a962-fb4d00dc50ff': null }, previewType: 'description' },
      headers: { 'If-Match': d1.json['@odata.etag'], Prefer: 'return=representation' },
    });
    expect(merged.status).toBe(200);
    expect(merged.json['@odata.etag'] > d1.json['@odata.etag']).toBe(true);
    expect(Object.keys(merged.json.checklist)).toEqual(['95e27074-6c4a-447a-aa24-9d718a0b86fa']);
    expect(merged.json.previewType).toBe('description');
    expect(merged.json.description).toBe(patch.description);
    expect(Object.keys(merged.json.references)).toHaveLength(1);

    // An unencoded reference key is refused.
    const badKey = await c.call(`/planner/tasks/${t.id}/details`, {
      method: 'PATCH',
      body: { references: { 'https://example.com': { '@odata.type': 'microsoft.graph.plannerExternalReference', alias: 'x' } } },
      headers: { 'If-Match': merged.json['@odata.etag'] },
    });
    expect(badKey.status).toBe(400);

    // The task summarises its details.
    const task = await c.call(`/planner/tasks/${t.id}`);
    expect(task.json).toMatchObject({ hasDescription: true, referenceCount: 1, checklistItemCount: 1, activeChecklistItemCount: 1 });
  });

  test('complete a task (percentComplete 100) and reopen it (0)', async () => {
    const t = (await c.call('/planner/tasks', { method: 'POST', body: newTask() })).json;
    const done = await c.call(`/planner/tasks/${t.id}`, {
      method: 'PATCH',
      body: { percentComplete: 100, bucketId: BUCKET_DONE },
      headers: { 'If-Match': t['@odata.etag'], Prefer: 'return=representation' },
    });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ id: t.id, percentComplete: 100, bucketId: BUCKET_DONE, completedBy: { user: { id: PLANNER_CALLER_ID } } });
    expect(done.json.completedDateTime).toMatch(/Z$/);
    expect(done.json['@odata.etag'] > t['@odata.etag']).toBe(true);

    // The old etag is stale now.
    const stale = await c.call(`/planner/tasks/${t.id}`, { method: 'PATCH', body: { percentComplete: 0 }, headers: { 'If-Match': t['@odata.etag'] } });
    expect(stale.status).toBe(412);
    expect(stale.json.error.code).toBe('PreconditionFailed');
    expect((await c.call(`/planner/tasks/${t.id}`, { method: 'PATCH', body: { percentComplete: 0 } })).status).toBe(400);

    const reopened = await c.call(`/planner/tasks/${t.id}`, {
      method: 'PATCH',
      body: { percentComplete: 0, bucketId: BUCKET_TODO, title: 'Reopened', dueDateTime: '2026-04-01T00:00:00+09:00' },
      headers: { 'If-Match': done.json['@odata.etag'] },
    });
    expect(reopened.status).toBe(204);
    const after = await c.call(`/planner/tasks/${t.id}`);
    expect(after.json).toMatchObject({ percentComplete: 0, bucketId: BUCKET_TODO, title: 'Reopened', completedDateTime: null, completedBy: null, dueDateTime: '2026-03-31T15:00:00Z' });
    expect(after.json['@odata.etag'] > done.json['@odata.etag']).toBe(true);

    // Bad values are refused and change nothing.
    const bad = await c.call(`/planner/tasks/${t.id}`, {
      method: 'PATCH',
      body: { title: 'never', percentComplete: 101 },
      headers: { 'If-Match': after.json['@odata.etag'] },
    });
    expect(bad.status).toBe(400);
    const same = await c.call(`/planner/tasks/${t.id}`);
    expect(same.json).toEqual(after.json);

    // Assignments merge; null removes one.
    const unassign = await c.call(`/planner/tasks/${t.id}`, {
      method: 'PATCH',
      body: { assignments: { [ASSIGNEE]: null } },
      headers: { 'If-Match': same.json['@odata.etag'], Prefer: 'return=representation' },
    });
    expect(unassign.status).toBe(200);
    expect(unassign.json.assignments).toEqual({});
  });

  test('GET /planner/plans/{id}/buckets lists the plan\'s buckets like the docs', async () => {
    const a = await c.call(`/planner/plans/${PLAN}/buckets`);
    expect(a.status).toBe(200);
    expect(a.json['@odata.context']).toBeUndefined();
    expect(a.json.value.map((b: JsonObject) => [b.id, b.name, b.planId])).toEqual([
      [BUCKET_TODO, 'To do', PLAN],
      [BUCKET_DONE, 'Done', PLAN],
    ]);
    for (const b of a.json.value) {
      expect(Object.keys(b).sort()).toEqual(['@odata.etag', 'id', 'name', 'orderHint', 'planId']);
      expect(b['@odata.etag']).toMatch(/^W\/"JzEt.+"$/);
    }
    expect((await c.call('/planner/plans/unknownPlanXXXXXXXXXXXXXXXXX/buckets')).status).toBe(404);
    expect(sim.counts().plannerBuckets).toBe(2);
    expect(sim.plannerPlans()).toEqual([{ id: PLAN, title: 'Remediation', buckets: [{ id: BUCKET_TODO, name: 'To do' }, { id: BUCKET_DONE, name: 'Done' }] }]);
  });

  test('$batch: create, then read and PATCH with If-Match inside batches', async () => {
    const created = await c.call('/$batch', {
      method: 'POST',
      body: {
        requests: [
          { id: '1', method: 'POST', url: '/planner/tasks', headers: { 'Content-Type': 'application/json' }, body: newTask({ title: 'batch one' }) },
          { id: '2', method: 'POST', url: 'planner/tasks', headers: { 'Content-Type': 'application/json' }, body: { planId: PLAN } },
          { id: '3', method: 'GET', url: `/planner/plans/${PLAN}/buckets` },
        ],
      },
    });
    expect(created.status).toBe(200);
    const byId = new Map<string, BatchItemAnswer>(created.json.responses.map((r: { id: string }) => [r.id, r]));
    expect(byId.get('1')?.status).toBe(201);
    expect(byId.get('1')?.body.title).toBe('batch one');
    expect(byId.get('2')?.status).toBe(400);
    expect(byId.get('3')?.body.value).toHaveLength(2);
    const task = byId.get('1')?.body;

    const details = await c.call('/$batch', { method: 'POST', body: { requests: [{ id: 'd', method: 'GET', url: `/planner/tasks/${task.id}/details` }] } });
    const detailsEtag: string = details.json.responses[0].body['@odata.etag'];

    const patched = await c.call('/$batch', {
      method: 'POST',
      body: {
        requests: [
          { id: 'a', method: 'PATCH', url: `/planner/tasks/${task.id}`, headers: { 'Content-Type': 'application/json', 'If-Match': task['@odata.etag'] }, body: { percentComplete: 50 } },
          {
            id: 'b',
            method: 'PATCH',
            url: `/planner/tasks/${task.id}/details`,
            headers: { 'Content-Type': 'application/json', 'If-Match': detailsEtag, Prefer: 'return=representation' },
            body: { description: 'from a batch' },
          },
          { id: 'c', method: 'PATCH', url: `/planner/tasks/${task.id}/details`, headers: { 'Content-Type': 'application/json' }, body: { description: 'no etag' } },
        ],
      },
    });
    const res = new Map<string, BatchItemAnswer>(patched.json.responses.map((r: { id: string }) => [r.id, r]));
    expect(res.get('a')?.status).toBe(204);
    expect(res.get('a')?.body).toBeUndefined();
    expect(res.get('b')?.status).toBe(200);
    expect(res.get('b')?.body.description).toBe('from a batch');
    expect(res.get('c')?.status).toBe(400);
    expect(res.get('c')?.body.error.code).toBe('MissingIfMatchHeader');
    expect(sim.counts()).toMatchObject({ plannerTasks: 2, plannerTask: 1, plannerTaskDetails: 3, plannerBuckets: 1, batch: 3, total: 3 });
  });

  test('a fault makes task creation answer 503, then it works again', async () => {
    const before = sim.plannerTasks().length;
    sim.setFaults([{ endpoint: 'plannerTasks', status: 503, retryAfter: 2, times: 1 }]);
    const down = await c.call('/planner/tasks', { method: 'POST', body: newTask({ title: 'fault' }) });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('2');
    expect(down.json.error.code).toBe('serviceNotAvailable');
    expect(sim.plannerTasks()).toHaveLength(before);
    const up = await c.call('/planner/tasks', { method: 'POST', body: newTask({ title: 'after fault' }) });
    expect(up.status).toBe(201);
    expect(sim.plannerTasks()).toHaveLength(before + 1);
    expect(sim.counts().plannerTasks).toBe(2);
  });

  test('plannerTasks() holds every task with its current state and details', async () => {
    const all = sim.plannerTasks();
    const titles = all.map((r) => r.task.title);
    expect(titles).toEqual(['MFA 未登録: user1@contoso.com', 'MFA 未登録: user1@contoso.com', 'Reopened', 'batch one', 'after fault']);
    for (const { task, details } of all) {
      expect(details.id).toBe(task.id);
      // Each is what GET answers right now.
      expect((await c.call(`/planner/tasks/${String(task.id)}`)).json).toEqual(task);
      expect((await c.call(`/planner/tasks/${String(task.id)}/details`)).json).toEqual(details);
    }
    const batchOne = all.find((r) => r.task.title === 'batch one');
    expect(batchOne?.task.percentComplete).toBe(50);
    expect(batchOne?.details.description).toBe('from a batch');
    // Copies: changing them does not change the simulator.
    (all[0] as { task: JsonObject }).task.title = 'mutated';
    expect(sim.plannerTasks()[0]?.task.title).toBe('MFA 未登録: user1@contoso.com');
  });
});

describe('Graph simulator: Planner default plan', () => {
  test('without options there is one plan with one bucket, and tasks go into it', async () => {
    const sim = await startSimulator({ tenant: makeTenant(), throttle: false });
    const c = client(sim);
    try {
      expect(sim.plannerPlans()).toEqual([{ id: DEFAULT_PLANNER_PLAN_ID, title: 'm365-audit 是正', buckets: [{ id: DEFAULT_PLANNER_BUCKET_ID, name: '未対応' }] }]);
      const buckets = await c.call(`/planner/plans/${DEFAULT_PLANNER_PLAN_ID}/buckets`);
      expect(buckets.json.value).toEqual([
        expect.objectContaining({ id: DEFAULT_PLANNER_BUCKET_ID, name: '未対応', planId: DEFAULT_PLANNER_PLAN_ID }),
      ]);
      const t = await c.call('/planner/tasks', { method: 'POST', body: { planId: DEFAULT_PLANNER_PLAN_ID, bucketId: DEFAULT_PLANNER_BUCKET_ID, title: 'demo' } });
      expect(t.status).toBe(201);
      expect(t.json.assignments).toEqual({});
      expect(t.json.dueDateTime).toBeNull();
      expect(sim.plannerTasks().map((r) => r.task.id)).toEqual([t.json.id]);
    } finally {
      await c.agent.close();
      await sim.close();
    }
  });
});

describe('Graph simulator: Planner plan task listing', () => {
  test('GET /planner/plans/{id}/tasks lists the plan\'s tasks with their etags, in server-sized pages that ignore $top', async () => {
    const sim = await startSimulator({ tenant: makeTenant(), throttle: false, maxPageSize: { plannerPlanTasks: 2 } });
    const c = client(sim);
    try {
      const plan = DEFAULT_PLANNER_PLAN_ID;
      expect((await c.call(`/planner/plans/${plan}/tasks`)).json).toEqual({ value: [] });
      const ids: string[] = [];
      for (const title of ['one', 'two', 'three']) {
        const r = await c.call('/planner/tasks', { method: 'POST', body: { planId: plan, bucketId: DEFAULT_PLANNER_BUCKET_ID, title } });
        ids.push(r.json.id);
      }
      const first = await c.call(`/planner/plans/${plan}/tasks?$top=1`);
      expect(first.status).toBe(200);
      expect(first.json['@odata.context']).toBeUndefined();
      // $top is not honoured: the page is the service's size (2 here), then a nextLink.
      expect(first.json.value.map((t: JsonObject) => t.title)).toEqual(['one', 'two']);
      for (const t of first.json.value) {
        expect(t['@odata.etag']).toMatch(/^W\/"JzEt.+"$/);
        expect(t).toEqual((await c.call(`/planner/tasks/${t.id}`)).json);
      }
      const next: string = first.json['@odata.nextLink'];
      expect(next).toMatch(new RegExp(`/v1\\.0/planner/plans/${plan}/tasks\\?`));
      const second = await c.call(next);
      expect(second.json.value.map((t: JsonObject) => t.id)).toEqual([ids[2]]);
      expect(second.json['@odata.nextLink']).toBeUndefined();
      expect((await c.call('/planner/plans/unknownPlanXXXXXXXXXXXXXXXXX/tasks')).status).toBe(404);
    } finally {
      await c.agent.close();
      await sim.close();
    }
  });
});
