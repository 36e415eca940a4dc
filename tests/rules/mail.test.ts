import { externalForwarding, mailAuthentication } from '../../src/rules/mail';
import type { DomainMailAuth, ForwardingRule, SliceData } from '../../src/collect/snapshot';
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

describe('MAIL-02 mail authentication of sending domains', () => {
  const check = (t: SliceData) => mailAuthentication.evaluate(t, { policy: fixturePolicy(), now: NOW, tenantId: TENANT_ID });
  const domain = (t: SliceData): DomainMailAuth => {
    const d = t.mailAuthentication.domains[0];
    if (!d) throw new Error('fixture lacks its sending domain');
    return d;
  };

  it('is silent on the compliant tenant', () => {
    expect(fired(mailAuthentication, compliantTenant())).toEqual([]);
  });

  it.each([
    ['SPF missing', (d: DomainMailAuth) => { d.spf = { status: 'missing', record: null, all: null, redirects: [], detail: 'no v=spf1 record (NODATA)' }; }, 'high', ['SPF']],
    ['SPF ?all', (d: DomainMailAuth) => { d.spf = { status: 'weak', record: 'v=spf1 ?all', all: '?all', redirects: [], detail: 'ends in ?all, not -all or ~all' }; }, 'high', ['SPF']],
    ['two SPF records', (d: DomainMailAuth) => { d.spf = { status: 'invalid', record: 'v=spf1 -all | v=spf1 ~all', all: null, redirects: [], detail: '2 v=spf1 records' }; }, 'high', ['SPF']],
    ['DMARC missing', (d: DomainMailAuth) => { d.dmarc = { status: 'missing', record: null, p: null, sp: null, detail: 'no v=DMARC1 record (NXDOMAIN)' }; }, 'high', ['DMARC']],
    ['DMARC without p=', (d: DomainMailAuth) => { d.dmarc = { status: 'invalid', record: 'v=DMARC1; rua=mailto:x@example.lg.jp', p: null, sp: null, detail: 'no p= tag' }; }, 'high', ['DMARC']],
    ['DMARC p=none', (d: DomainMailAuth) => { d.dmarc = { status: 'weak', record: 'v=DMARC1; p=none', p: 'none', sp: null, detail: 'p=none (monitoring only)' }; }, 'medium', ['DMARC']],
    ['DKIM selector2 missing', (d: DomainMailAuth) => { (d.dkim.selectors[1] as DomainMailAuth['dkim']['selectors'][number]).status = 'missing'; }, 'medium', ['DKIM selector2']],
  ] as const)('fires on %s, with its severity and what is missing', (_name, change, severity, missing) => {
    const t = withTenant((t) => change(domain(t)));
    expect(fired(mailAuthentication, t)).toEqual(['example.lg.jp']);
    const [draft] = check(t);
    expect(draft?.subject).toEqual({ kind: 'domain', id: 'example.lg.jp', name: 'example.lg.jp' });
    expect(draft?.severity).toBe(severity);
    expect(draft?.evidence.missing).toEqual(missing);
  });

  it('makes one finding per domain with every shortfall; high wins over medium', () => {
    const t = withTenant((t) => {
      const d = domain(t);
      d.dmarc = { status: 'weak', record: 'v=DMARC1; p=none; sp=reject', p: 'none', sp: 'reject', detail: 'p=none (monitoring only)' };
      d.dkim.selectors = d.dkim.selectors.map((s) => ({ ...s, status: 'missing', target: null }));
      d.spf = { status: 'missing', record: null, all: null, redirects: [], detail: 'no v=spf1 record' };
    });
    const drafts = check(t);
    expect(drafts).toHaveLength(1);
    expect(drafts[0]?.severity).toBe('high');
    expect(drafts[0]?.evidence.missing).toEqual(['SPF', 'DMARC', 'DKIM selector1', 'DKIM selector2']);
    expect(drafts[0]?.evidence.notes).toEqual(['DMARC sp=reject applies to subdomains (not judged)']);
  });

  it('does not count an unchecked record (a DNS failure) as missing or as a pass', () => {
    const unchecked = withTenant((t) => {
      domain(t).spf = { status: 'unchecked', record: null, all: null, redirects: [], detail: 'TXT example.lg.jp: SERVFAIL' };
    });
    expect(check(unchecked)).toEqual([]);
    // What DNS did show missing is still a finding, and the evidence says what could not be read.
    const both = withTenant((t) => {
      const d = domain(t);
      d.spf = { status: 'unchecked', record: null, all: null, redirects: [], detail: 'TXT example.lg.jp: timeout' };
      d.dmarc = { status: 'weak', record: 'v=DMARC1; p=none', p: 'none', sp: null };
    });
    const [draft] = check(both);
    expect(draft?.severity).toBe('medium');
    expect(draft?.evidence).toMatchObject({ missing: ['DMARC'], unchecked: ['TXT example.lg.jp: timeout'] });
  });
});
