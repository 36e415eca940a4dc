/**
 * The access inventory (アクセス権の棚卸, standard 1-1-3, 5-2-2, 5-9-2): who holds what, taken
 * from a scan's own slices at scan time, so that the CISO's monthly digest can show the state of
 * access as a scan saw it, not as someone remembers it. Pure: {@link accessInventory} reads a
 * {@link Snapshot} and the policy; the pipeline stores the result (see {@link inventoryKey}).
 *
 * Every section says how complete its inputs were. A section whose slice was partial or failed
 * says so (`status`, `detail`), so that a short list is never read as "nothing else exists".
 *
 * Storage (a decision the issue left open): one state blob per tenant and month,
 * `digest-inventory/YYYY-MM` (the month of the scan's start in the organisation's time zone),
 * holding the month's latest inventory whose sections were all complete; a partial inventory is
 * kept only while the month has no complete one. The digest of a month reads that blob, so a
 * month's inventory is what was true at its last complete scan.
 */
import { DateTime } from 'luxon';
import type { Policy, PolicyException } from '../config/policy';
import type { CoverageStatus, DirectoryUser, Slice, SliceName, Snapshot } from '../collect/snapshot';
import { covers, inForce } from '../findings/exceptions';
import type { Finding } from '../findings/finding';
import { sharedAccount, lastSignIn } from '../rules/accounts';
import { internalDomainSet } from '../rules/domains';
import { classOf, isExternal, ownPermissions, type InfoClass } from '../rules/files';
import { roleHolders } from '../rules/privileged';

/** One section of the inventory, with the completeness of the slices it was built from. */
export interface InventorySection<T> {
  status: CoverageStatus;
  /** Which slices were not complete, and why (absent when complete). */
  detail?: string;
  rows: T[];
}

/** A privileged role held by a principal, one row per role and way of holding it. */
export interface PrivilegedRow {
  principalId: string;
  principalName: string | null;
  /** `user`, `group` (members unknown), `servicePrincipal`, … */
  principalType: string;
  principalUserType: string | null;
  role: string;
  roleId: string;
  via: 'active' | 'eligible';
  /** The group the role is held through, when not held directly. */
  group: string | null;
  /** True when the principal is a group whose members could not be read. */
  membersUnknown: boolean;
  /** null: unknown (no registration record read, or not a user). */
  mfaRegistered: boolean | null;
  /** null: never signed in, or unknown (see `lastSignInKnown`). */
  lastSignIn: string | null;
  lastSignInKnown: boolean;
}

/** A guest account (B2B) in the directory. */
export interface GuestRow {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  accountEnabled: boolean;
  externalUserState: string | null;
  createdDateTime: string | null;
  lastSignIn: string | null;
  lastSignInKnown: boolean;
}

/** An anonymous link or an external grant on class I/II content. */
export interface ShareRow {
  /** `<driveId>/<itemId>`: the FILE-01/02 subject id (the digest adds when it was first seen). */
  subjectId: string;
  path: string;
  webUrl: string;
  site: string;
  class: InfoClass;
  kind: 'anonymous' | 'external';
  linkType: string | null;
  roles: string[];
  /** Who has access: the external addresses, or `anyone` for an anonymous link. */
  who: string[];
  /** null: no expiry. */
  expires: string | null;
  /** Set when the drive failed this time and this is its last successful read. */
  asOf?: string;
}

/** An enabled account that looks shared (ACCT-01), with the exception that allows it, if any. */
export interface SharedAccountRow {
  id: string;
  userPrincipalName: string;
  displayName: string;
  department: string | null;
  /** Why it counts as shared: the word in its display name, or the `sharedAccountPatterns` entry its UPN matched. */
  reason: string;
  reasonKind: 'displayName' | 'pattern';
  exception: (Pick<PolicyException, 'reason' | 'approvedBy' | 'approvedOn' | 'expiresOn' | 'compensatingControl'> & { inForce: boolean }) | null;
}

export interface AccessInventory {
  schemaVersion: 1;
  tenantId: string;
  scanId: string;
  /** When the scan started (ISO). */
  takenAt: string;
  privileged: InventorySection<PrivilegedRow>;
  guests: InventorySection<GuestRow>;
  shares: InventorySection<ShareRow>;
  sharedAccounts: InventorySection<SharedAccountRow>;
}

const RANK: Record<CoverageStatus, number> = { complete: 0, partial: 1, failed: 2 };

/**
 * The section status from the slices it reads: the worst of them, a slice not read counting as
 * failed. `optional` slices only fill in columns (MFA, last sign-in): without them the rows are
 * still all there, so they make the section partial at worst, never failed.
 */
function sectionStatus(slices: Snapshot['slices'], required: readonly SliceName[], optional: readonly SliceName[] = []): { status: CoverageStatus; detail?: string } {
  let status: CoverageStatus = 'complete';
  const notes: string[] = [];
  const look = (name: SliceName, isOptional: boolean): void => {
    const s = slices[name] as Slice<unknown> | undefined;
    const own: CoverageStatus = s ? s.status : 'failed';
    if (own === 'complete') return;
    const effective: CoverageStatus = isOptional ? 'partial' : own;
    if (RANK[effective] > RANK[status]) status = effective;
    notes.push(`${name}: ${s ? `${s.status}${s.detail ? ` (${s.detail})` : ''}` : 'not read by this scan'}`);
  };
  for (const n of required) look(n, false);
  for (const n of optional) look(n, true);
  return notes.length ? { status, detail: notes.join('; ') } : { status };
}

/** The data of a slice that was read (complete or partial); undefined when it failed or was not read. */
function dataOf<K extends SliceName>(snapshot: Snapshot, name: K): Snapshot['slices'][K] extends Slice<infer T> | undefined ? T | undefined : never {
  const s = snapshot.slices[name] as Slice<unknown> | undefined;
  return (s && s.status !== 'failed' ? s.data : undefined) as never;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The access inventory of one scan. Pure. */
export function accessInventory(snapshot: Snapshot, policy: Policy, scanId: string): AccessInventory {
  const now = snapshot.takenAt;
  const users = dataOf(snapshot, 'users') as DirectoryUser[] | undefined;
  const activity = dataOf(snapshot, 'signInActivity') as DirectoryUser[] | undefined;
  const lastSeen = new Map((activity ?? []).map((u) => [u.id, lastSignIn(u)] as const));
  // The registration read is filtered (identity.ts `collectMfaRegistration`): the unregistered
  // users plus the record of every role holder, so a registered holder is here as registered. A
  // holder without a record (disabled: the report omits them; or the roles were unreadable at
  // collection, `readFilter.alsoRead` null) stays null, "unknown", as with the unfiltered read.
  const mfa = dataOf(snapshot, 'mfaRegistration');
  const registered = new Map((mfa ?? []).map((r) => [r.id, r.isMfaRegistered] as const));

  // Privileged role holders: every holding, a group's members each on their own row.
  const roles = dataOf(snapshot, 'roles');
  const privilegedRows: PrivilegedRow[] = [];
  if (roles) {
    for (const h of roleHolders(roles, policy.accounts.privilegedRoles).values()) {
      const isUser = h.principalType === 'user';
      for (const r of h.roles) {
        privilegedRows.push({
          principalId: h.principalId,
          principalName: h.principalName,
          principalType: h.principalType,
          principalUserType: h.principalUserType,
          role: r.roleName,
          roleId: r.roleId,
          via: r.via,
          group: r.group ? (r.group.displayName ?? r.group.id) : null,
          membersUnknown: h.membersUnknown === true,
          mfaRegistered: isUser ? (registered.get(h.principalId) ?? null) : null,
          lastSignIn: isUser ? (lastSeen.get(h.principalId) ?? null) : null,
          lastSignInKnown: isUser && lastSeen.has(h.principalId),
        });
      }
    }
  }
  privilegedRows.sort((a, b) => byText(a.role, b.role) || byText(a.principalName ?? a.principalId, b.principalName ?? b.principalId) || byText(a.via, b.via) || byText(a.group ?? '', b.group ?? ''));

  // Guests: from the user list; their last sign-in only with signInActivity (Entra ID P1).
  const guestRows: GuestRow[] = (users ?? [])
    .filter((u) => u.userType.toLowerCase() === 'guest')
    .map((u) => ({
      id: u.id,
      userPrincipalName: u.userPrincipalName,
      displayName: u.displayName,
      mail: u.mail,
      accountEnabled: u.accountEnabled,
      externalUserState: u.externalUserState,
      createdDateTime: u.createdDateTime,
      lastSignIn: lastSeen.get(u.id) ?? null,
      lastSignInKnown: lastSeen.has(u.id),
    }))
    .sort((a, b) => byText(a.userPrincipalName, b.userPrincipalName));

  // External and anonymous access to class I/II content, as the file rules see it (own
  // permissions only, expired links left out: they grant nothing).
  const sharing = dataOf(snapshot, 'sharing');
  const domains = dataOf(snapshot, 'domains');
  const internal = internalDomainSet(domains ?? [], policy);
  const shareRows: ShareRow[] = [];
  if (sharing) {
    for (const { item, permissions } of ownPermissions(sharing, now)) {
      const cls = classOf(item.siteUrl, policy);
      if (cls !== 'I' && cls !== 'II') continue;
      let path = item.webUrl;
      try {
        path = decodeURIComponent(new URL(item.webUrl).pathname);
      } catch {
        // keep the raw URL
      }
      for (const p of permissions) {
        const base = {
          subjectId: `${item.driveId}/${item.itemId}`,
          path: path || item.name,
          webUrl: item.webUrl,
          site: item.siteUrl,
          class: cls,
          linkType: p.link?.type ?? null,
          roles: [...p.roles],
          expires: p.expirationDateTime,
          ...(item.asOf ? { asOf: item.asOf } : {}),
        };
        if (p.link?.scope?.toLowerCase() === 'anonymous') {
          shareRows.push({ ...base, kind: 'anonymous', who: ['anyone'] });
          continue;
        }
        // Without the domain list nothing can be called external but guest login names.
        const outside = p.grantees.filter((g) => isExternal(g, internal));
        if (outside.length) shareRows.push({ ...base, kind: 'external', who: outside.map((g) => g.email ?? g.loginName ?? g.displayName ?? '?') });
      }
    }
  }
  shareRows.sort((a, b) => byText(a.path, b.path) || byText(a.kind, b.kind) || byText(a.who.join(','), b.who.join(',')));

  // Shared accounts: what ACCT-01 flags (the rule itself, so that the two never disagree), with
  // the exception register's entry for it, in force or not.
  const sharedRows: SharedAccountRow[] = [];
  if (users) {
    const drafts = sharedAccount.evaluate({ users }, { policy, now, tenantId: snapshot.tenantId });
    const byId = new Map(users.map((u) => [u.id, u] as const));
    for (const d of drafts) {
      const u = byId.get(d.subject.id);
      const pseudo = { ruleId: 'ACCT-01', subject: d.subject } as unknown as Finding;
      const matching = policy.exceptions.filter((e) => covers(e, pseudo));
      const e = matching.find((x) => inForce(x, now, policy.organization.timeZone)) ?? matching[matching.length - 1];
      const ev = d.evidence as { matchedPattern?: string; displayNameContains?: string };
      sharedRows.push({
        id: d.subject.id,
        userPrincipalName: d.subject.name,
        displayName: u?.displayName ?? d.subject.name,
        department: u?.department ?? null,
        reason: ev.displayNameContains ?? ev.matchedPattern ?? '',
        reasonKind: ev.displayNameContains ? 'displayName' : 'pattern',
        exception: e
          ? { reason: e.reason, approvedBy: e.approvedBy, approvedOn: e.approvedOn, expiresOn: e.expiresOn, compensatingControl: e.compensatingControl, inForce: inForce(e, now, policy.organization.timeZone) }
          : null,
      });
    }
  }
  sharedRows.sort((a, b) => byText(a.userPrincipalName, b.userPrincipalName));

  return {
    schemaVersion: 1,
    tenantId: snapshot.tenantId,
    scanId,
    takenAt: now.toISOString(),
    privileged: { ...sectionStatus(snapshot.slices, ['roles'], ['mfaRegistration', 'signInActivity']), rows: privilegedRows },
    guests: { ...sectionStatus(snapshot.slices, ['users'], ['signInActivity']), rows: guestRows },
    shares: { ...sectionStatus(snapshot.slices, ['sharing', 'sites'], ['domains']), rows: shareRows },
    sharedAccounts: { ...sectionStatus(snapshot.slices, ['users']), rows: sharedRows },
  };
}

/** True when every section of the inventory was built from complete slices. */
export function inventoryComplete(inv: AccessInventory): boolean {
  return [inv.privileged, inv.guests, inv.shares, inv.sharedAccounts].every((s) => s.status === 'complete');
}

/** The month (YYYY-MM) of an instant in the organisation's time zone. */
export function monthOf(iso: string, timeZone: string): string {
  return DateTime.fromISO(iso, { zone: 'utc' }).setZone(timeZone).toFormat('yyyy-MM');
}

/** The state blob key holding a month's inventory. */
export function inventoryKey(month: string): string {
  return `digest-inventory/${month}`;
}

/** What {@link recordInventory} needs from a store. */
export interface InventoryStore {
  getStateBlob(tenantId: string, key: string): Promise<string | undefined>;
  putStateBlob(tenantId: string, key: string, value: string): Promise<void>;
}

/** How incomplete an inventory is: 0 when every section is complete, more the worse its sections are. */
export function incompleteness(inv: AccessInventory): number {
  return [inv.privileged, inv.guests, inv.shares, inv.sharedAccounts].reduce((n, s) => n + RANK[s.status], 0);
}

/**
 * Whether `next` should replace the month's stored inventory: a more complete one does, and a
 * later one that is as complete. A less complete one never does, so a partial scan (or a
 * sign-in watch, which reads none of these slices) at the month's end cannot hide the complete
 * inventory of a week before.
 */
export function replacesStored(stored: AccessInventory | undefined, next: AccessInventory): boolean {
  if (!stored) return true;
  const a = incompleteness(next);
  const b = incompleteness(stored);
  return a < b || (a === b && next.takenAt >= stored.takenAt);
}

/** Stores a scan's inventory as its month's, when it {@link replacesStored replaces} the stored one. */
export async function recordInventory(store: InventoryStore, inv: AccessInventory, timeZone: string): Promise<boolean> {
  const key = inventoryKey(monthOf(inv.takenAt, timeZone));
  const raw = await store.getStateBlob(inv.tenantId, key);
  const stored = raw ? (JSON.parse(raw) as AccessInventory) : undefined;
  if (!replacesStored(stored, inv)) return false;
  await store.putStateBlob(inv.tenantId, key, JSON.stringify(inv));
  return true;
}

/** Reads the stored inventory of a month, if any scan of that month recorded one. */
export async function loadInventory(store: InventoryStore, tenantId: string, month: string): Promise<AccessInventory | undefined> {
  const raw = await store.getStateBlob(tenantId, inventoryKey(month));
  return raw ? (JSON.parse(raw) as AccessInventory) : undefined;
}
