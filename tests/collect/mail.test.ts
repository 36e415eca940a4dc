/**
 * Inbox rules through $batch against the simulator over HTTPS: a throttled item retried inside
 * a 200 batch answer, a persistently failing mailbox (partial coverage, other mailboxes intact),
 * users without a mailbox.
 */
import { collectMailRules, mailboxCandidates } from '../../src/collect/mail';
import { validatePolicy } from '../../src/config/policy';
import { evaluate } from '../../src/rules/engine';
import { RULES } from '../../src/rules/index';
import { collect } from '../../src/pipeline';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { JsonObject } from '../../src/sim/tenant';
import { startTestSim, testContext, type TestSim } from '../support/sim';

const demo = generateDemoTenant({ seed: 2, users: 120 });
const upnOf = (id: string) => (demo.data.users.find((u) => u.id === id) as JsonObject).userPrincipalName as string;
const planted = demo.groundTruth.filter((g) => g.ruleId === 'MAIL-01').map((g) => g.subjectId);

let t: TestSim;
beforeEach(async () => {
  t = await startTestSim({ tenant: demo.data, throttle: false });
});
afterEach(async () => {
  await t.close();
});

describe('inbox rules', () => {
  it('reads every mailbox 20 per $batch call and tells users without a mailbox apart', async () => {
    const ctx = testContext(t.graph());
    const slice = await collectMailRules(ctx);
    expect(slice.status).toBe('complete');
    if (slice.status === 'failed') return;
    const users = await ctx.slice('directory');
    if (users.status === 'failed') throw new Error('users failed');
    const candidates = mailboxCandidates(users.data);
    const withMailbox = candidates.filter((u) => Object.prototype.hasOwnProperty.call(demo.data.messageRules, u.id));
    expect(slice.items).toBe(withMailbox.length);
    expect(slice.data.withoutMailbox).toBe(candidates.length - withMailbox.length);
    expect(t.sim.counts().batch).toBe(Math.ceil(candidates.length / 20));
    expect(t.sim.counts().messageRules).toBe(candidates.length);
    // Only rules with forwarding actions are kept.
    for (const m of slice.data.mailboxes) for (const r of m.rules) expect(r.forwardTo.length + r.redirectTo.length + r.forwardAsAttachmentTo.length).toBeGreaterThan(0);
  });

  it('retries a mailbox throttled inside a 200 batch answer and loses nothing', async () => {
    const victim = planted[0] as string;
    t.sim.setFaults([{ endpoint: 'messageRules', match: new RegExp(victim), status: 429, retryAfter: 0.05, times: 2 }]);
    const slice = await collectMailRules(testContext(t.graph()));
    expect(slice.status).toBe('complete');
    if (slice.status === 'failed') return;
    expect(slice.data.mailboxes.find((m) => m.userId === victim)?.rules.length).toBeGreaterThan(0);
    expect(t.sim.counts().throttled).toBe(2);
  });

  it('names a mailbox that keeps failing, marks mail partial, and keeps the other findings', async () => {
    const [victim, other] = planted as [string, string];
    t.sim.setFaults([{ endpoint: 'messageRules', match: new RegExp(victim), status: 500 }]);
    const graph = t.graph({ maxAttempts: 2 });
    const { slice: _s, ...base } = testContext(graph, { policy: validatePolicy(demo.policy), tenantId: demo.data.tenantId });
    const slices = await collect(['mailRules', 'domains'], base);
    expect(slices.mailRules?.status).toBe('partial');
    expect(slices.mailRules?.detail).toContain(`${upnOf(victim)} (500 generalException)`);
    const result = evaluate({ tenantId: demo.data.tenantId, takenAt: new Date(), slices }, RULES, validatePolicy(demo.policy), ['mail']);
    expect(result.coverage.mail?.status).toBe('partial');
    const found = result.findings.map((f) => f.subject.id);
    expect(found).not.toContain(victim);
    expect(found).toContain(other);
    expect(found.sort()).toEqual(planted.filter((p) => p !== victim).sort());
  });

  it('a $batch envelope refused past the attempt cap fails only the mailboxes of that batch: mail is partial, not failed', async () => {
    // The first envelope keeps answering 502 (three attempts); every later batch goes through.
    t.sim.setFaults([{ endpoint: 'batch', status: 502, times: 3 }]);
    const graph = t.graph({ maxAttempts: 3, batchConcurrency: 1 });
    const { slice: _s, ...base } = testContext(graph, { policy: validatePolicy(demo.policy), tenantId: demo.data.tenantId });
    const slices = await collect(['mailRules', 'domains'], base);
    expect(slices.mailRules?.status).toBe('partial');
    expect(slices.mailRules?.detail).toMatch(/\(0 batchEnvelopeFailed/);
    const result = evaluate({ tenantId: demo.data.tenantId, takenAt: new Date(), slices }, RULES, validatePolicy(demo.policy), ['mail']);
    expect(result.coverage.mail?.status).toBe('partial');
  });

  it('fails the mail slice when the user list cannot be read', async () => {
    t.sim.setFaults([{ endpoint: 'users', status: 403 }]);
    const slice = await collectMailRules(testContext(t.graph()));
    expect(slice).toMatchObject({ status: 'failed', detail: expect.stringMatching(/^the user list could not be read: .*User\.Read\.All/) });
    // The light listing (the one plain user read, collect/identity.ts), not the rate-limited one with signInActivity.
    expect(slice.detail).toMatch(/GET \/users\?\$select=id,[^ ]*userPrincipalName,mail,userType,accountEnabled,[^ ]*department[^ ]*&\$top=999 answered 403/);
    expect(slice.detail).not.toContain('signInActivity');
    expect(t.sim.counts().batch ?? 0).toBe(0);
  });
});
