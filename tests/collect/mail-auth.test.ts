/**
 * MAIL-02 collection against a real DNS server on 127.0.0.1 (src/sim/dns-server.ts, packets by
 * dns-packet) and the Graph simulator over HTTPS for GET /domains: SPF (split strings joined, two
 * records a permerror, ?all/+all weak, redirect= followed, loops invalid), DMARC (missing as
 * NXDOMAIN and as NODATA, p=none, sp= kept), DKIM (one selector missing), DNS failures (SERVFAIL,
 * REFUSED, timeout) as partial coverage that resolves nothing, which domains are asked at all,
 * truncated UDP answers repeated over TCP, and the servers a scan asks.
 */
import { dnsServersFor, dnsServerProblem } from '../../src/collect/dns';
import { collectMailAuthentication } from '../../src/collect/mail-auth';
import type { DomainMailAuth, MailAuthentication, Slice } from '../../src/collect/snapshot';
import { defaultPolicy, validatePolicy } from '../../src/config/policy';
import { collect } from '../../src/pipeline';
import { evaluate } from '../../src/rules/engine';
import { RULES } from '../../src/rules/index';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startDnsServer, type DnsServer, type DnsZone } from '../../src/sim/dns-server';
import type { JsonObject, TenantData } from '../../src/sim/tenant';
import { startTestSim, testContext, type TestSim } from '../support/sim';

const demo = generateDemoTenant({ seed: 590, users: 30 });
const D = 'mail.example.jp';

const domainObject = (id: string, isVerified: boolean, supportedServices: string[]): JsonObject => ({
  authenticationType: 'Managed', availabilityStatus: null, isAdminManaged: true, isDefault: false, isInitial: false, isRoot: true, isVerified, id, supportedServices,
});

/** A domain that passes all three checks. */
const compliant = (d: string): DnsZone => ({
  [d]: { TXT: [['v=spf1 include:spf.protection.outlook.com -all']] },
  [`_dmarc.${d}`]: { TXT: [['v=DMARC1; p=reject']] },
  [`selector1._domainkey.${d}`]: { CNAME: `selector1-${d.replace(/\./g, '-')}._domainkey.contoso.onmicrosoft.com` },
  [`selector2._domainkey.${d}`]: { CNAME: `selector2-${d.replace(/\./g, '-')}._domainkey.contoso.onmicrosoft.com` },
});

let t: TestSim | undefined;
let extra: DnsServer | undefined;
afterEach(async () => {
  await t?.close();
  await extra?.close();
  t = undefined;
  extra = undefined;
});

async function start(zone: DnsZone, domains: JsonObject[] = [domainObject(D, true, ['Email'])]): Promise<TestSim> {
  const tenant = JSON.parse(JSON.stringify(demo.data)) as TenantData;
  tenant.domains = domains;
  tenant.dnsZone = zone;
  t = await startTestSim({ tenant, throttle: false });
  return t;
}

const fast = validatePolicy({ mail: { dnsTimeoutMs: 300, dnsTries: 1 } }, 'test policy');

async function read(sim: TestSim, policy = fast, over: Parameters<typeof testContext>[1] = {}): Promise<Slice<MailAuthentication>> {
  return collectMailAuthentication(testContext(sim.graph(), { policy, ...over }));
}

function only(slice: Slice<MailAuthentication>): DomainMailAuth {
  if (slice.status === 'failed') throw new Error(`slice failed: ${slice.detail}`);
  const [d] = slice.data.domains;
  if (!d) throw new Error('no domain checked');
  return d;
}

describe('mailAuthentication over a real DNS server', () => {
  it('passes a compliant domain, reading the simulator\'s DNS for its loopback Graph root', async () => {
    const sim = await start(compliant(D));
    const slice = await read(sim);
    expect(slice.status).toBe('complete');
    const d = only(slice);
    expect(d.spf).toEqual({ status: 'ok', record: 'v=spf1 include:spf.protection.outlook.com -all', all: '-all', redirects: [] });
    expect(d.dmarc).toEqual({ status: 'ok', record: 'v=DMARC1; p=reject', p: 'reject', sp: null });
    expect(d.dkim.selectors.map((s) => [s.selector, s.status, s.target])).toEqual([
      ['selector1', 'ok', 'selector1-mail-example-jp._domainkey.contoso.onmicrosoft.com'],
      ['selector2', 'ok', 'selector2-mail-example-jp._domainkey.contoso.onmicrosoft.com'],
    ]);
    expect(sim.sim.dnsQueries().sort()).toEqual([`CNAME selector1._domainkey.${D}`, `CNAME selector2._domainkey.${D}`, `TXT ${D}`, `TXT _dmarc.${D}`].sort());
  });

  it('joins a TXT record split into several strings before reading it', async () => {
    const sim = await start({ ...compliant(D), [D]: { TXT: [['v=spf1 include:spf.prot', 'ection.outlook.com', ' -all']] }, [`_dmarc.${D}`]: { TXT: [['v=DMARC1; ', 'p=quarantine']] } });
    const d = only(await read(sim));
    expect(d.spf).toMatchObject({ status: 'ok', record: 'v=spf1 include:spf.protection.outlook.com -all', all: '-all' });
    expect(d.dmarc).toMatchObject({ status: 'ok', p: 'quarantine' });
  });

  it('reports SPF missing when the domain has only other TXT records, or none', async () => {
    const sim = await start({ ...compliant(D), [D]: { TXT: [['MS=ms12345678'], ['google-site-verification=abc']] } });
    expect(only(await read(sim)).spf).toMatchObject({ status: 'missing', record: null });
    delete sim.sim.tenant.dnsZone?.[D];
    expect(only(await read(sim)).spf).toMatchObject({ status: 'missing', detail: 'no v=spf1 record (NXDOMAIN)' });
  });

  it.each([
    ['?all', 'weak'], ['+all', 'weak'], ['all', 'weak'], ['~all', 'ok'], ['-ALL', 'ok'],
  ])('judges an SPF record ending in %s as %s', async (all, status) => {
    const sim = await start({ ...compliant(D), [D]: { TXT: [[`v=spf1 ip4:192.0.2.0/24 ${all}`]] } });
    expect(only(await read(sim)).spf).toMatchObject({ status, all: all.toLowerCase() });
  });

  it('calls an SPF record without any all mechanism weak', async () => {
    const sim = await start({ ...compliant(D), [D]: { TXT: [['v=spf1 include:spf.protection.outlook.com']] } });
    expect(only(await read(sim)).spf).toMatchObject({ status: 'weak', all: null, detail: 'has no all mechanism (-all or ~all)' });
  });

  it('treats two v=spf1 records as a permerror (invalid), never as a pass', async () => {
    const sim = await start({ ...compliant(D), [D]: { TXT: [['v=spf1 include:spf.protection.outlook.com -all'], ['v=spf1 ip4:192.0.2.25 -all']] } });
    const d = only(await read(sim));
    expect(d.spf.status).toBe('invalid');
    expect(d.spf.detail).toMatch(/^2 v=spf1 records at mail\.example\.jp \(permerror/);
    // A v=spf10 or spf2.0 record is not SPF version 1 and does not count as a second one.
    sim.sim.tenant.dnsZone = { ...compliant(D), [D]: { TXT: [['v=spf1 -all'], ['v=spf10 -all'], ['spf2.0/pra -all']] } };
    expect(only(await read(sim)).spf).toMatchObject({ status: 'ok', record: 'v=spf1 -all' });
  });

  it('follows redirect= when the record has no all, and calls a loop invalid', async () => {
    const sim = await start({
      ...compliant(D),
      [D]: { TXT: [['v=spf1 redirect=_spf.example.jp']] },
      '_spf.example.jp': { TXT: [['v=spf1 include:spf.protection.outlook.com ~all']] },
    });
    expect(only(await read(sim)).spf).toMatchObject({ status: 'ok', all: '~all', redirects: ['_spf.example.jp'] });
    sim.sim.tenant.dnsZone = { ...compliant(D), [D]: { TXT: [['v=spf1 redirect=a.example.jp']] }, 'a.example.jp': { TXT: [['v=spf1 redirect=mail.example.jp']] } };
    expect(only(await read(sim)).spf).toMatchObject({ status: 'invalid' });
    sim.sim.tenant.dnsZone = { ...compliant(D), [D]: { TXT: [['v=spf1 redirect=gone.example.jp']] } };
    expect(only(await read(sim)).spf).toMatchObject({ status: 'invalid', detail: 'no v=spf1 record at gone.example.jp (reached by redirect= from mail.example.jp)' });
  });

  it('reports DMARC missing for NXDOMAIN and for NODATA / only other TXT at _dmarc', async () => {
    const zone = compliant(D);
    delete zone[`_dmarc.${D}`];
    const sim = await start(zone);
    expect(only(await read(sim)).dmarc).toMatchObject({ status: 'missing', detail: `no v=DMARC1 record at _dmarc.${D} (NXDOMAIN)` });
    sim.sim.tenant.dnsZone = { ...zone, [`_dmarc.${D}`]: { CNAME: undefined, TXT: [] } };
    expect(only(await read(sim)).dmarc).toMatchObject({ status: 'missing', detail: `no v=DMARC1 record at _dmarc.${D} (NODATA)` });
    sim.sim.tenant.dnsZone = { ...zone, [`_dmarc.${D}`]: { TXT: [['some other text']] } };
    expect(only(await read(sim)).dmarc).toMatchObject({ status: 'missing' });
  });

  it('reads p= and sp= of DMARC: p=none is weak, two records or no p= invalid', async () => {
    const sim = await start({ ...compliant(D), [`_dmarc.${D}`]: { TXT: [['v=DMARC1; p=none; sp=reject; rua=mailto:d@example.jp']] } });
    expect(only(await read(sim)).dmarc).toEqual({ status: 'weak', record: 'v=DMARC1; p=none; sp=reject; rua=mailto:d@example.jp', p: 'none', sp: 'reject', detail: 'p=none (monitoring only)' });
    sim.sim.tenant.dnsZone = { ...compliant(D), [`_dmarc.${D}`]: { TXT: [['v=DMARC1; p=reject'], ['v=DMARC1; p=none']] } };
    expect(only(await read(sim)).dmarc).toMatchObject({ status: 'invalid' });
    sim.sim.tenant.dnsZone = { ...compliant(D), [`_dmarc.${D}`]: { TXT: [['v=DMARC1; rua=mailto:d@example.jp']] } };
    expect(only(await read(sim)).dmarc).toMatchObject({ status: 'invalid', detail: 'no p= tag' });
  });

  it('reports one DKIM selector missing; a TXT key at the selector is not the CNAME', async () => {
    const zone = compliant(D);
    delete zone[`selector2._domainkey.${D}`];
    const sim = await start(zone);
    expect(only(await read(sim)).dkim.selectors.map((s) => s.status)).toEqual(['ok', 'missing']);
    sim.sim.tenant.dnsZone = { ...compliant(D), [`selector1._domainkey.${D}`]: { TXT: [['v=DKIM1; k=rsa; p=MIGf']] } };
    expect(only(await read(sim)).dkim.selectors.map((s) => s.status)).toEqual(['missing', 'ok']);
  });

  it.each(['SERVFAIL', 'REFUSED', 'timeout'] as const)('takes %s as coverage: unchecked, the slice partial, MAIL-02 resolving nothing', async (fault) => {
    const sim = await start({ ...compliant(D), [D]: { fault } });
    const slice = await read(sim);
    expect(slice.status).toBe('partial');
    const d = only(slice);
    expect(d.spf).toMatchObject({ status: 'unchecked', detail: `TXT ${D}: ${fault}` });
    expect(d.dmarc.status).toBe('ok');
    if (slice.status !== 'failed') expect(slice.detail).toContain(`DNS did not answer for 1 domain(s) via ${sim.sim.dnsServer}: ${D} (TXT ${D}: ${fault})`);
    // The rule runs on what is known and finds nothing here; the ledger may resolve nothing of MAIL-02.
    const snapshot = { tenantId: demo.data.tenantId, takenAt: new Date(), slices: { mailAuthentication: slice } };
    const result = evaluate(snapshot, RULES.filter((r) => r.id === 'MAIL-02'), fast, ['mail']);
    expect(result.findings).toEqual([]);
    expect(result.completeRules).not.toContain('MAIL-02');
    expect(result.coverage.mail?.status).toBe('partial');
  });

  it('checks only verified domains with Email that are not onmicrosoft.com, asking DNS nothing about the others', async () => {
    const sim = await start({}, [
      domainObject('contoso.onmicrosoft.com', true, ['Email', 'OfficeCommunicationsOnline']),
      domainObject('sip.example.jp', true, ['OfficeCommunicationsOnline']),
      domainObject('new.example.jp', false, ['Email']),
      domainObject(D, true, ['Email']),
      { id: 'bare.example.jp', isVerified: true },
    ]);
    const slice = await read(sim);
    if (slice.status === 'failed') throw new Error(slice.detail);
    expect(slice.data.domains.map((d) => d.domain)).toEqual([D]);
    expect([...slice.data.skipped].sort((a, b) => a.domain.localeCompare(b.domain))).toEqual([
      { domain: 'bare.example.jp', reason: 'no Email service' },
      { domain: 'contoso.onmicrosoft.com', reason: 'onmicrosoft.com' },
      { domain: 'new.example.jp', reason: 'unverified' },
      { domain: 'sip.example.jp', reason: 'no Email service' },
    ]);
    expect(sim.sim.dnsQueries().every((q) => q.endsWith(D))).toBe(true);
  });

  it('repeats a truncated UDP answer over TCP (a long SPF record), against mail.dnsServers', async () => {
    const sim = await start({});
    const long = `v=spf1 ${Array.from({ length: 30 }, (_, i) => `ip4:198.51.100.${i}`).join(' ')} include:spf.protection.outlook.com -all`;
    const chunks = long.match(/.{1,200}/g) as string[];
    extra = await startDnsServer({ zone: { ...compliant(D), [D]: { TXT: [chunks, ['MS=ms1'], ['x'.repeat(200)], ['y'.repeat(200)]] } }, udpLimit: 512 });
    const policy = validatePolicy({ mail: { dnsServers: [extra.address], dnsTimeoutMs: 1000, dnsTries: 1 } }, 'test policy');
    const d = only(await read(sim, policy));
    expect(d.spf).toMatchObject({ status: 'ok', record: long });
    expect(extra.queries().filter((q) => q === `TXT ${D}`).length).toBeGreaterThanOrEqual(2); // UDP, then TCP
    expect(sim.sim.dnsQueries()).toEqual([]);
  });

  it('fails the slice without asking anybody when neither servers nor the Graph root are known', async () => {
    const sim = await start(compliant(D));
    const ctx = testContext(sim.graph({ baseUrl: undefined }), { policy: defaultPolicy() });
    const slice = await collectMailAuthentication(ctx);
    expect(slice).toMatchObject({ status: 'failed', detail: expect.stringContaining('no DNS servers known: set mail.dnsServers') });
    expect(sim.sim.dnsQueries()).toEqual([]);
  });

  it('fails the slice when the domain list fails, so MAIL-02 does not run', async () => {
    const sim = await start(compliant(D));
    sim.sim.setFaults([{ endpoint: 'domains', status: 403 }]);
    const { slice: _s, ...base } = testContext(sim.graph(), { policy: fast });
    const slices = await collect(['domains', 'mailAuthentication'], base);
    expect(slices.mailAuthentication?.status).toBe('failed');
    const result = evaluate({ tenantId: 't', takenAt: new Date(), slices }, RULES.filter((r) => r.id === 'MAIL-02'), fast, ['mail']);
    expect(result.skipped).toEqual([{ ruleId: 'MAIL-02', reason: 'input not collected: mailAuthentication' }]);
  });
});

describe('DNS servers', () => {
  it.each([['192.0.2.53'], ['192.0.2.53:5353'], ['[2001:db8::53]:53'], ['2001:db8::53']])('accepts %s', (entry) => {
    expect(dnsServerProblem(entry)).toBeUndefined();
    expect(validatePolicy({ mail: { dnsServers: [entry] } }, 'p').mail.dnsServers).toEqual([entry]);
  });
  it.each([['dns.example.jp'], ['192.0.2.53:0'], ['192.0.2.53:70000'], ['[192.0.2.53]:53'], ['192.0.2.300']])('refuses %s, naming the field', (entry) => {
    expect(() => validatePolicy({ mail: { dnsServers: [entry] } }, 'p')).toThrow(/mail\.dnsServers\[0\]/);
  });
  it('bounds the timeout and the tries', () => {
    expect(() => validatePolicy({ mail: { dnsTimeoutMs: 60_000 } }, 'p')).toThrow(/mail\.dnsTimeoutMs/);
    expect(() => validatePolicy({ mail: { dnsTries: 0 } }, 'p')).toThrow(/mail\.dnsTries/);
    expect(defaultPolicy().mail).toMatchObject({ dnsServers: [], dnsTimeoutMs: 2000, dnsTries: 2 });
  });
  it('asks the configured servers, else a loopback Graph root\'s port, else the system resolver', () => {
    expect(dnsServersFor(['192.0.2.53'], 'https://127.0.0.1:8443')).toEqual(['192.0.2.53']);
    expect(dnsServersFor([], 'https://127.0.0.1:8443')).toEqual(['127.0.0.1:8443']);
    expect(dnsServersFor([], 'https://graph.microsoft.com')).toEqual([]);
    expect(dnsServersFor([], undefined)).toEqual([]);
  });
});
