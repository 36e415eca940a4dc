/**
 * Mail rules — 電子メールの利用制限 (standard 5-7), controls.md MAIL-01; 電子メールのなりすまし対策
 * (standard 5-6-4), controls.md MAIL-02.
 * Endpoints: GET /users/{id}/mailFolders/inbox/messageRules in $batch (MailboxSettings.Read),
 * GET /domains (Domain.Read.All); MAIL-02 also reads DNS (TXT at the domain and at `_dmarc.`, CNAME
 * at `selector1/2._domainkey.`), which needs no permission (collect/mail-auth.ts).
 *
 * Mailbox-level forwarding (Exchange `ForwardingSmtpAddress`) is not exposed by Graph; the report
 * says so rather than implying it was checked.
 */
import type { DomainMailAuth, ForwardingRule } from '../collect/snapshot';
import { uncheckedParts } from '../collect/mail-auth';
import { domainOf, internalDomainSet, isOutside, normaliseDomain } from './domains';
import { defineRule } from './rule';

const ACTIONS = ['forwardTo', 'redirectTo', 'forwardAsAttachmentTo'] as const;

export const externalForwarding = defineRule({
  id: 'MAIL-01',
  clauses: ['5-7-4', '5-7-1'],
  kind: 'state',
  severity: 'high',
  area: 'mail',
  requires: ['mailRules', 'domains'],
  title: { ja: '外部宛ての自動転送ルール', en: 'Inbox rule forwards mail outside the organisation' },
  remediation: {
    ja: '外部宛ての自動転送ルールを削除してください。業務上やむを得ない場合は最高情報セキュリティ責任者の承認を得て、転送先ドメインをポリシーの approvedForwardingDomains に登録してください。フリーメールへの転送は認められません（5-7-1）。',
    en: 'Delete the inbox rule that forwards outside. If it is unavoidable, obtain the CISO\'s approval and add the destination domain to approvedForwardingDomains in the policy. Forwarding to free mail is never allowed (5-7-1).',
  },
  evaluate: ({ mailRules, domains }, { policy }) => {
    // Exact domain match: a subdomain of a verified domain is only internal if it is verified too.
    const internal = internalDomainSet(domains, policy);
    const approved = new Set(policy.mail.approvedForwardingDomains.map(normaliseDomain));
    const freeMail = new Set(policy.mail.freeMailDomains.map(normaliseDomain));
    return mailRules.mailboxes.flatMap((mailbox) => {
      const offending = mailbox.rules
        .filter((rule: ForwardingRule) => rule.isEnabled)
        .map((rule) => {
          const destinations = ACTIONS.flatMap((action) =>
            rule[action]
              // No domain: an Exchange-internal reference (legacy DN), which cannot leave the tenant.
              .filter((r) => isOutside(r.address, internal, approved))
              .map((r) => ({ action, address: r.address })),
          );
          return { rule, destinations };
        })
        .filter((x) => x.destinations.length > 0);
      if (!offending.length) return [];
      const free = offending.some((x) => x.destinations.some((d) => freeMail.has(domainOf(d.address))));
      return [{
        subject: { kind: 'user' as const, id: mailbox.userId, name: mailbox.userPrincipalName },
        severity: free ? ('critical' as const) : ('high' as const),
        evidence: {
          rules: offending.map((x) => ({
            name: x.rule.displayName,
            id: x.rule.id,
            destinations: x.destinations.map((d) => d.address),
            actions: [...new Set(x.destinations.map((d) => d.action))],
          })),
          freeMail: free,
        },
      }];
    });
  },
});

/** One shortfall of a domain's mail authentication (MAIL-02 evidence). */
export interface MailAuthProblem {
  record: 'SPF' | 'DMARC' | 'DKIM';
  /** `missing` (none, or unusable: counted as none), `weak` (?all/+all, p=none). */
  issue: 'missing' | 'invalid' | 'weak';
  /** The DKIM selector (DKIM only). */
  selector?: string;
  /** What DNS showed, in words (technical English, as the records are written). */
  detail: string;
}

/** The shortfalls of one domain, SPF then DMARC then DKIM; unchecked parts are not shortfalls. */
export function mailAuthProblems(d: DomainMailAuth): MailAuthProblem[] {
  const out: MailAuthProblem[] = [];
  const issue = (status: string): MailAuthProblem['issue'] | undefined =>
    status === 'missing' ? 'missing' : status === 'invalid' ? 'invalid' : status === 'weak' ? 'weak' : undefined;
  const spf = issue(d.spf.status);
  if (spf) out.push({ record: 'SPF', issue: spf, detail: d.spf.detail ?? d.spf.status });
  const dmarc = issue(d.dmarc.status);
  if (dmarc) out.push({ record: 'DMARC', issue: dmarc, detail: d.dmarc.detail ?? d.dmarc.status });
  for (const s of d.dkim.selectors) {
    if (s.status === 'missing') out.push({ record: 'DKIM', issue: 'missing', selector: s.selector, detail: s.detail ?? `no CNAME at ${s.selector}._domainkey.${d.domain}` });
  }
  return out;
}

export const mailAuthentication = defineRule({
  id: 'MAIL-02',
  clauses: ['5-6-4'],
  kind: 'state',
  severity: 'high',
  area: 'mail',
  requires: ['mailAuthentication'],
  title: { ja: '送信ドメイン認証（SPF・DMARC・DKIM）の不備', en: 'Sending domain lacks SPF, DMARC or DKIM' },
  remediation: {
    ja: 'メールを送信するドメインの DNS に、-all（または ~all）で終わる SPF レコードを 1 件だけ、p=quarantine または p=reject の DMARC レコード（_dmarc.<ドメイン>）を公開し、Microsoft 365 Defender ポータルで DKIM を有効にして selector1 と selector2 の CNAME を登録してください。',
    en: 'Publish in the sending domain\'s DNS exactly one SPF record ending in -all (or ~all), a DMARC record (_dmarc.<domain>) with p=quarantine or p=reject, and enable DKIM in the Microsoft 365 Defender portal with the selector1 and selector2 CNAMEs.',
  },
  evaluate: ({ mailAuthentication: auth }) =>
    auth.domains.flatMap((d) => {
      const problems = mailAuthProblems(d);
      if (!problems.length) return [];
      // SPF that does not end in -all/~all, or no usable DMARC: spoofed mail is delivered (high);
      // monitoring-only DMARC or a missing DKIM selector weakens it (medium).
      const high = problems.some((p) => p.record === 'SPF' || (p.record === 'DMARC' && p.issue !== 'weak'));
      const unchecked = uncheckedParts(d);
      const notes: string[] = [];
      if (d.dmarc.sp) notes.push(`DMARC sp=${d.dmarc.sp} applies to subdomains (not judged)`);
      if (d.spf.redirects.length) notes.push(`SPF followed redirect= to ${d.spf.redirects.join(', ')}`);
      return [{
        subject: { kind: 'domain' as const, id: d.domain, name: d.domain },
        severity: high ? ('high' as const) : ('medium' as const),
        evidence: {
          domain: d.domain,
          missing: problems.map((p) => (p.selector ? `${p.record} ${p.selector}` : p.record)),
          problems,
          spf: d.spf.record,
          spfAll: d.spf.all,
          dmarc: d.dmarc.record,
          dmarcPolicy: d.dmarc.p,
          dkim: d.dkim.selectors.map((s) => ({ selector: s.selector, status: s.status, target: s.target })),
          ...(unchecked.length ? { unchecked } : {}),
          ...(notes.length ? { notes } : {}),
        },
      }];
    }),
});

export const MAIL_RULES = [externalForwarding, mailAuthentication];
