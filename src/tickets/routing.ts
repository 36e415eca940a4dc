/**
 * Who a ticket goes to (outputs.md "Tickets"): a user's department → that department's
 * 情報セキュリティ責任者; file content and sites → the asset owner of the register; tenant and IP
 * subjects → the 情報システム管理者 (system administrators). No match → the system
 * administrators, and the ticket counts as unrouted (the digest reports those).
 */
import type { Policy } from '../config/policy';
import type { LedgerEntry } from '../findings/ledger';
import { assetFor } from '../rules/files';

export interface Route {
  assignees: string[];
  /** False when no owner matched and the system administrators got it by default. */
  routed: boolean;
  /** How it was routed, for the ticket body. */
  reason: string;
}

/** Routes a ledger entry. `departmentOf` maps a user object id to `user.department`. */
export function routeTicket(entry: LedgerEntry, policy: Policy, departmentOf: (userId: string) => string | null | undefined): Route {
  const admins = policy.organization.systemAdministrators;
  const fallback = (why: string): Route => ({ assignees: [...admins], routed: false, reason: why });
  const { subject } = entry;
  if (subject.kind === 'tenant' || subject.kind === 'ip') {
    return { assignees: [...admins], routed: admins.length > 0, reason: 'tenant-wide: system administrators' };
  }
  // An app's consent is granted tenant-wide by an administrator: the system administrators own it (APP-01).
  if (subject.kind === 'servicePrincipal') {
    return { assignees: [...admins], routed: admins.length > 0, reason: 'app consent: system administrators' };
  }
  // A domain's DNS records are the tenant's, set by its administrators (MAIL-02).
  if (subject.kind === 'domain') {
    return { assignees: [...admins], routed: admins.length > 0, reason: 'domain DNS: system administrators' };
  }
  if (subject.kind === 'user') {
    const department = departmentOf(subject.id);
    if (!department) return fallback('the user has no department');
    const owner = policy.organization.departments.find((d) => d.name === department)?.owner;
    return owner ? { assignees: [owner], routed: true, reason: `department ${department}` } : fallback(`no owner for department ${department}`);
  }
  const url = subject.kind === 'site' ? (subject.url ?? subject.name) : String(entry.evidence.site ?? subject.url ?? '');
  const asset = url ? assetFor(url, policy.files.assets) : undefined;
  return asset ? { assignees: [asset.owner], routed: true, reason: `asset ${asset.name}` } : fallback('no asset register entry covers it');
}
