/**
 * Mail rules — 電子メールの利用制限 (standard 5-7), controls.md MAIL-01.
 * Endpoints: GET /users/{id}/mailFolders/inbox/messageRules in $batch (MailboxSettings.Read),
 * GET /domains (Domain.Read.All).
 *
 * Mailbox-level forwarding (Exchange `ForwardingSmtpAddress`) is not exposed by Graph; the report
 * says so rather than implying it was checked.
 */
import type { ForwardingRule } from '../collect/snapshot';
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

export const MAIL_RULES = [externalForwarding];
