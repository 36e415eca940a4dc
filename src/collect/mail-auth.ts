/**
 * Mail authentication of the tenant's sending domains (MAIL-02, standard 5-6-4): SPF, DMARC and
 * the two Microsoft 365 DKIM selector CNAMEs, read from DNS (collect/dns.ts). Endpoint: GET
 * /domains (Domain.Read.All) for which domains; the records themselves come from DNS, which
 * needs no Graph permission.
 *
 * Which domains: verified, `Email` in `supportedServices`, and not `*.onmicrosoft.com` (Microsoft
 * runs that zone and publishes its SPF; the tenant cannot change it).
 *
 * Graph's `GET /domains/{id}/serviceConfigurationRecords` ("List serviceConfigurationRecords",
 * https://learn.microsoft.com/en-us/graph/api/domain-list-serviceconfigurationrecords; types
 * domainDnsRecord / domainDnsTxtRecord `text` / domainDnsCnameRecord `canonicalName` in the
 * metadata) lists the records Microsoft 365 wants for each service: for Email an MX, the SPF TXT
 * `v=spf1 include:spf.protection.outlook.com -all` and the autodiscover CNAME. It holds no DMARC
 * and no DKIM selector records (the selector targets come from Exchange's DKIM signing
 * configuration, which Graph does not expose), so it cannot say what MAIL-02 asks; it is not read.
 * MAIL-02 judges the published records, whatever they include (a tenant may relay through another
 * service that the SPF names instead).
 *
 * SPF (RFC 7208): the TXT records at the domain whose text, its character-strings joined without
 * separator (§3.3), starts with `v=spf1` (case-insensitive, then a space or the end). None:
 * missing. More than one: permerror (§4.5), reported as invalid. The `all` mechanism decides: `-all`
 * or `~all` is ok, `?all`, `+all`/`all` or none is weak. Without `all`, a `redirect=` modifier
 * hands the decision to another domain's record (§6.1): it is followed, at most
 * {@link MAX_REDIRECTS} times; a loop or a longer chain is invalid (the §4.6.4 lookup limit is 10).
 * `include:` is not followed: the included record's `all` never decides the including one's.
 *
 * DMARC (RFC 7489 §6.3, §6.6.3): the TXT records at `_dmarc.<domain>` that start with `v=DMARC1`
 * (the first tag). None (NXDOMAIN/NODATA or only other TXT): missing. More than one: invalid (the
 * RFC says to act as if there were none). `p=` none → weak; quarantine / reject → ok; absent or
 * another value → invalid. `sp=` is kept as a note (it governs subdomains). The organisational
 * domain fallback of §6.6.3 is not followed: a verified subdomain is judged by its own record.
 *
 * DKIM: CNAMEs at `selector1._domainkey.<domain>` and `selector2._domainkey.<domain>` (Microsoft
 * 365's DKIM for custom domains, "Set up DKIM to sign mail from your Microsoft 365 domain"). A TXT
 * key published at the selector instead of the CNAME answers NODATA for CNAME and counts as
 * missing: Microsoft 365 signs with its own keys only through the CNAMEs.
 *
 * A DNS failure (SERVFAIL, REFUSED, timeout) marks that record `unchecked` and the slice partial,
 * naming the domain and the question: never a pass, never a fail, and a partial slice resolves no
 * MAIL-02 finding (rules/engine.ts completeRules).
 */
import type { Collector } from './context';
import { createDnsLookup, dnsServersFor, type DnsLookup } from './dns';
import { normaliseDomain } from '../rules/domains';
import type { DkimResult, DmarcResult, Domain, DomainMailAuth, MailAuthentication, SpfResult } from './snapshot';

/** `redirect=` hops followed before the SPF record is called invalid. */
export const MAX_REDIRECTS = 5;
/** Microsoft 365's two DKIM selectors. */
export const DKIM_SELECTORS = ['selector1', 'selector2'] as const;
/** Domains whose DNS is read at once. */
const CONCURRENCY = 4;

/** Which domains MAIL-02 checks, and why the others are left out. */
export function sendingDomains(domains: readonly Domain[]): { checked: string[]; skipped: Array<{ domain: string; reason: string }> } {
  const checked: string[] = [];
  const skipped: Array<{ domain: string; reason: string }> = [];
  for (const d of domains) {
    const name = normaliseDomain(d.id);
    if (!d.isVerified) skipped.push({ domain: name, reason: 'unverified' });
    else if (name === 'onmicrosoft.com' || name.endsWith('.onmicrosoft.com')) skipped.push({ domain: name, reason: 'onmicrosoft.com' });
    else if (!(d.supportedServices ?? []).some((s) => s.toLowerCase() === 'email')) skipped.push({ domain: name, reason: 'no Email service' });
    else checked.push(name);
  }
  return { checked, skipped };
}

/** A TXT record's text: its character-strings joined without separator (RFC 7208 §3.3, RFC 7489 §6.6.3). */
export function joinTxt(strings: readonly string[]): string {
  return strings.join('');
}

/** True when the record is an SPF version 1 record (RFC 7208 §4.5). */
export function isSpf(record: string): boolean {
  return /^v=spf1(\s|$)/i.test(record.trim());
}

/** The `all` mechanism and the `redirect=` target of one SPF record. */
export function parseSpf(record: string): { all: string | null; redirect: string | null } {
  const terms = record.trim().split(/\s+/).slice(1);
  let all: string | null = null;
  let redirect: string | null = null;
  for (const term of terms) {
    if (all === null && /^[+\-~?]?all$/i.test(term)) all = term.toLowerCase();
    const m = /^redirect=(.+)$/i.exec(term);
    if (m && redirect === null) redirect = normaliseDomain(m[1] as string);
  }
  return { all, redirect };
}

/** The tags of a DMARC record (`v=DMARC1; p=reject; sp=none`), names lower case. */
export function dmarcTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    if (name && !tags.has(name)) tags.set(name, part.slice(eq + 1).trim());
  }
  return tags;
}

/** True when the record is a DMARC record: its first tag is `v=DMARC1` (RFC 7489 §6.3). */
export function isDmarc(record: string): boolean {
  return /^v\s*=\s*DMARC1\s*(;|$)/i.test(record.trim());
}

async function checkSpf(dns: DnsLookup, domain: string): Promise<SpfResult> {
  const redirects: string[] = [];
  let name = domain;
  for (;;) {
    const answer = await dns.txt(name);
    if (answer.kind === 'failed') return { status: 'unchecked', record: null, all: null, redirects, detail: `TXT ${name}: ${answer.code}` };
    const records = answer.kind === 'found' ? answer.data.map(joinTxt).filter(isSpf) : [];
    const where = name === domain ? '' : ` (reached by redirect= from ${domain})`;
    if (records.length === 0) {
      return { status: redirects.length ? 'invalid' : 'missing', record: null, all: null, redirects, detail: redirects.length ? `no v=spf1 record at ${name}${where}` : `no v=spf1 record${answer.kind === 'absent' ? ` (${answer.code})` : ''}` };
    }
    if (records.length > 1) {
      return { status: 'invalid', record: records.join(' | '), all: null, redirects, detail: `${records.length} v=spf1 records at ${name}${where} (permerror, RFC 7208 §4.5)` };
    }
    const record = records[0] as string;
    const { all, redirect } = parseSpf(record);
    if (all !== null || redirect === null) {
      const ok = all === '-all' || all === '~all';
      return { status: ok ? 'ok' : 'weak', record, all, redirects, ...(ok ? {} : { detail: all ? `ends in ${all}, not -all or ~all` : 'has no all mechanism (-all or ~all)' }) };
    }
    if (redirects.includes(redirect) || redirect === domain || redirects.length >= MAX_REDIRECTS) {
      return { status: 'invalid', record, all: null, redirects: [...redirects, redirect], detail: `redirect= chain loops or is longer than ${MAX_REDIRECTS} (permerror)` };
    }
    redirects.push(redirect);
    name = redirect;
  }
}

async function checkDmarc(dns: DnsLookup, domain: string): Promise<DmarcResult> {
  const name = `_dmarc.${domain}`;
  const answer = await dns.txt(name);
  if (answer.kind === 'failed') return { status: 'unchecked', record: null, p: null, sp: null, detail: `TXT ${name}: ${answer.code}` };
  const records = answer.kind === 'found' ? answer.data.map(joinTxt).filter(isDmarc) : [];
  if (records.length === 0) return { status: 'missing', record: null, p: null, sp: null, detail: `no v=DMARC1 record at ${name}${answer.kind === 'absent' ? ` (${answer.code})` : ''}` };
  if (records.length > 1) return { status: 'invalid', record: records.join(' | '), p: null, sp: null, detail: `${records.length} v=DMARC1 records at ${name} (RFC 7489 §6.6.3: none applies)` };
  const record = records[0] as string;
  const tags = dmarcTags(record);
  const p = tags.get('p')?.toLowerCase() ?? null;
  const sp = tags.get('sp')?.toLowerCase() ?? null;
  if (p === 'quarantine' || p === 'reject') return { status: 'ok', record, p, sp };
  if (p === 'none') return { status: 'weak', record, p, sp, detail: 'p=none (monitoring only)' };
  return { status: 'invalid', record, p, sp, detail: p === null ? 'no p= tag' : `p=${p} is not none, quarantine or reject` };
}

async function checkDkim(dns: DnsLookup, domain: string): Promise<DkimResult> {
  const selectors = await Promise.all(
    DKIM_SELECTORS.map(async (selector) => {
      const name = `${selector}._domainkey.${domain}`;
      const answer = await dns.cname(name);
      if (answer.kind === 'failed') return { selector, status: 'unchecked' as const, target: null, detail: `CNAME ${name}: ${answer.code}` };
      if (answer.kind === 'absent' || answer.data.length === 0) return { selector, status: 'missing' as const, target: null, detail: `no CNAME at ${name}${answer.kind === 'absent' ? ` (${answer.code})` : ''}` };
      return { selector, status: 'ok' as const, target: normaliseDomain(answer.data[0] ?? '') };
    }),
  );
  return { selectors };
}

/** One domain's three checks. */
export async function checkDomain(dns: DnsLookup, domain: string): Promise<DomainMailAuth> {
  const [spf, dmarc, dkim] = await Promise.all([checkSpf(dns, domain), checkDmarc(dns, domain), checkDkim(dns, domain)]);
  return { domain, spf, dmarc, dkim };
}

/** The DNS failures of one domain's checks, in words (empty: every answer was conclusive). */
export function uncheckedParts(d: DomainMailAuth): string[] {
  return [
    ...(d.spf.status === 'unchecked' ? [d.spf.detail ?? 'SPF'] : []),
    ...(d.dmarc.status === 'unchecked' ? [d.dmarc.detail ?? 'DMARC'] : []),
    ...d.dkim.selectors.filter((s) => s.status === 'unchecked').map((s) => s.detail ?? s.selector),
  ];
}

export const collectMailAuthentication: Collector<'mailAuthentication'> = async (ctx) => {
  const domains = await ctx.slice('domains');
  if (domains.status === 'failed') return { status: 'failed', items: 0, detail: `the domain list could not be read: ${domains.detail}` };
  const { checked, skipped } = sendingDomains(domains.data);
  const servers = ctx.dnsServers ?? dnsServersFor(ctx.policy.mail.dnsServers, ctx.graph.baseUrl);
  // A Graph client that does not say where it goes (built in code, not by the CLI or the
  // Functions app) may be a simulator's: without servers named, no question leaves for the
  // system resolver.
  if (!ctx.dnsLookup && !servers.length && ctx.graph.baseUrl === undefined) {
    return { status: 'failed', items: 0, detail: 'no DNS servers known: set mail.dnsServers, or build the Graph client with its root (GraphOptions.root or baseUrl)' };
  }
  const dns = ctx.dnsLookup ?? createDnsLookup({ servers, timeoutMs: ctx.policy.mail.dnsTimeoutMs, tries: ctx.policy.mail.dnsTries });
  const results: DomainMailAuth[] = new Array(checked.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, checked.length) }, async () => {
      while (next < checked.length) {
        const i = next++;
        results[i] = await checkDomain(dns, checked[i] as string);
      }
    }),
  );
  const details: string[] = [];
  if (domains.status === 'partial') details.push('the domain list was partial, so some domains may not have been checked');
  const failures = results.flatMap((d) => {
    const parts = uncheckedParts(d);
    return parts.length ? [`${d.domain} (${parts.join(', ')})`] : [];
  });
  if (failures.length) details.push(`DNS did not answer for ${failures.length} domain(s) via ${dns.describe()}: ${failures.join('; ')}; their records are not known (not a pass or a fail)`);
  const data: MailAuthentication = { resolver: dns.describe(), domains: results, skipped };
  return details.length
    ? { status: 'partial', data, items: results.length, detail: details.join('; ') }
    : { status: 'complete', data, items: results.length };
};
