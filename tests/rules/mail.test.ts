import { externalForwarding } from '../../src/rules/mail';
import type { ForwardingRule, SliceData } from '../../src/collect/snapshot';
import { compliantTenant, fired, fixturePolicy, NOW, TENANT_ID, withTenant } from './fixture';

function rule(over: Partial<ForwardingRule>): ForwardingRule {
  return { id: 'x', displayName: '転送', isEnabled: true, forwardTo: [], redirectTo: [], forwardAsAttachmentTo: [], ...over };
}

function addRule(t: SliceData, r: ForwardingRule): void {
  const mailbox = t.mailRules.mailboxes.find((m) => m.userId === 'u-admin');
  if (!mailbox) throw new Error('fixture lacks the u-admin mailbox');
  mailbox.rules.push(r);
}

const evaluate = (t: SliceData, policy = fixturePolicy()) => externalForwarding.evaluate(t, { policy, now: NOW, tenantId: TENANT_ID });

describe('MAIL-01 external forwarding', () => {
  it.each(['forwardTo', 'redirectTo', 'forwardAsAttachmentTo'] as const)('fires for an external recipient in %s', (action) => {
    const t = withTenant((t) => addRule(t, rule({ [action]: [{ address: 'someone@other.example.com', name: null }] })));
    expect(fired(externalForwarding, t)).toEqual(['u-admin']);
    const [draft] = evaluate(t);
    expect(draft?.severity).toBe('high');
    expect(draft?.evidence).toMatchObject({ rules: [{ name: '転送', destinations: ['someone@other.example.com'], actions: [action] }], freeMail: false });
  });

  it('is critical when any destination is free mail, and lists every offending rule once per mailbox', () => {
    const t = withTenant((t) => {
      addRule(t, rule({ id: 'a', displayName: 'A', forwardTo: [{ address: 'x@other.example.com', name: null }] }));
      addRule(t, rule({ id: 'b', displayName: 'B', redirectTo: [{ address: 'Hanako.Private@GMAIL.com', name: null }, { address: 'desk@example.lg.jp', name: null }] }));
    });
    const drafts = evaluate(t);
    expect(drafts).toHaveLength(1);
    expect(drafts[0]?.severity).toBe('critical');
    expect(drafts[0]?.evidence.rules).toEqual([
      { name: 'A', id: 'a', destinations: ['x@other.example.com'], actions: ['forwardTo'] },
      { name: 'B', id: 'b', destinations: ['Hanako.Private@GMAIL.com'], actions: ['redirectTo'] },
    ]);
  });

  it('ignores disabled rules, internal (verified or configured) and approved domains, in any case', () => {
    const t = withTenant((t) => {
      addRule(t, rule({ isEnabled: false, forwardTo: [{ address: 'x@gmail.com', name: null }] }));
      addRule(t, rule({ forwardTo: [{ address: 'Boss@EXAMPLE.LG.JP', name: null }, { address: 'a@exampledemo.onmicrosoft.com', name: null }] }));
      addRule(t, rule({ forwardTo: [{ address: 'Info@Partner.Example.JP', name: null }] }));
      addRule(t, rule({ forwardTo: [{ address: 'kanri@town.example.jp', name: null }] }));
    });
    expect(fired(externalForwarding, t, fixturePolicy({ organization: { internalDomains: ['town.example.jp'] } }))).toEqual([]);
    expect(fired(externalForwarding, t)).toEqual(['u-admin']);
  });

  it('treats an unverified tenant domain and a subdomain of a verified one as external', () => {
    const unverified = withTenant((t) => {
      t.domains.push({ id: 'nishiokitama.example.jp', isVerified: false });
      addRule(t, rule({ forwardTo: [{ address: 'a@nishiokitama.example.jp', name: null }] }));
    });
    expect(fired(externalForwarding, unverified)).toEqual(['u-admin']);
    const sub = withTenant((t) => addRule(t, rule({ forwardTo: [{ address: 'a@mail.example.lg.jp', name: null }] })));
    expect(fired(externalForwarding, sub)).toEqual(['u-admin']);
  });

  it('uses the policy free-mail list, replacing the default', () => {
    const t = withTenant((t) => addRule(t, rule({ forwardTo: [{ address: 'a@gmail.com', name: null }] })));
    expect(evaluate(t)[0]?.severity).toBe('critical');
    expect(evaluate(t, fixturePolicy({ mail: { freeMailDomains: ['yahoo.co.jp'] } }))[0]?.severity).toBe('high');
  });

  it('is silent on the compliant tenant', () => {
    expect(fired(externalForwarding, compliantTenant())).toEqual([]);
  });
});
