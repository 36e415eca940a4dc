/**
 * File-sharing rules — 文書サーバ等の設定 (standard 5-9, 2-2, 2-3), controls.md FILE-01…05.
 * Endpoints: GET /sites/getAllSites, /sites/{id}/drives, /drives/{id}/root/delta,
 * /drives/{id}/items/{id}/permissions (Sites.Read.All), /admin/sharepoint/settings
 * (SharePointTenantSettings.Read.All).
 *
 * A site's class comes from the asset register (情報資産管理簿, 2-2): the entry whose location is
 * the longest prefix of the site URL, matched on whole path segments (`/sites/jinji` covers
 * `/sites/jinji/…` but not `/sites/jinji2`); no entry → `defaultClass` and FILE-05.
 * An expired link grants nothing. Inheritance is decided from the item hierarchy, never from
 * `inheritedFrom` ("Permission resource type": OneDrive for Business and SharePoint document
 * libraries don't return it, and list an ancestor's permissions on every item below under the
 * same ids): a permission that a tracked ancestor also carries is that ancestor's finding, so it
 * is reported once, on the topmost item carrying it — and on the next item down once the
 * ancestor loses it.
 */
import type { Asset, Policy } from '../config/policy';
import type { Grantee, ItemPermission, Sharing, SharedItem } from '../collect/snapshot';
import { internalDomainSet, isOutside } from './domains';
import type { Severity } from './ids';
import { defineRule, type FindingDraft } from './rule';

export type InfoClass = 'I' | 'II' | 'III' | 'IV';

/** The asset register entry covering a URL (longest prefix on whole path segments), if any. */
export function assetFor(url: string, assets: readonly Asset[]): Asset | undefined {
  const target = url.toLowerCase().replace(/\/+$/, '');
  let best: Asset | undefined;
  for (const a of assets) {
    const prefix = a.location.toLowerCase();
    const bare = prefix.replace(/\/+$/, '');
    const covers = target === bare || target.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
    if (covers && (!best || bare.length > best.location.replace(/\/+$/, '').length)) best = a;
  }
  return best;
}

/** A site's class from the register, or `defaultClass`. */
export function classOf(siteUrl: string, policy: Policy): InfoClass {
  return assetFor(siteUrl, policy.files.assets)?.class ?? policy.files.defaultClass;
}

/**
 * controls.md FILE-02: external when the email or UPN domain is not internal, or the login name
 * contains `#ext#` or `urn:spo:guest`.
 */
export function isExternal(g: Grantee, internal: ReadonlySet<string>): boolean {
  const login = (g.loginName ?? '').toLowerCase();
  if (login.includes('#ext#') || login.includes('urn:spo:guest')) return true;
  // The claim's last segment is the UPN: i:0#.f|membership|name@example.lg.jp
  const upn = login.includes('|') ? login.slice(login.lastIndexOf('|') + 1) : '';
  return [g.email ?? '', upn].some((address) => isOutside(address, internal));
}

/** Each shared item with the permissions that are its own (see the header), expired links left out. */
export function ownPermissions(sharing: Sharing, now: Date): Array<{ item: SharedItem; permissions: ItemPermission[] }> {
  const byKey = new Map(sharing.items.map((i) => [`${i.driveId}/${i.itemId}`, i] as const));
  return sharing.items.map((item) => {
    const fromAbove = new Set<string>();
    for (const a of item.ancestorIds ?? []) for (const p of byKey.get(`${item.driveId}/${a}`)?.permissions ?? []) fromAbove.add(p.id);
    const permissions = item.permissions.filter((p) => !fromAbove.has(p.id) && !(p.link && p.expirationDateTime && Date.parse(p.expirationDateTime) <= now.getTime()));
    return { item, permissions };
  });
}

function itemSubject(item: SharedItem): FindingDraft['subject'] {
  let path = item.webUrl;
  try {
    path = decodeURIComponent(new URL(item.webUrl).pathname);
  } catch {
    // keep the raw URL
  }
  return { kind: 'driveItem', id: `${item.driveId}/${item.itemId}`, name: path || item.name, url: item.webUrl };
}

function describe(p: ItemPermission) {
  return {
    id: p.id,
    roles: p.roles,
    ...(p.link ? { linkType: p.link.type, linkScope: p.link.scope } : {}),
    expires: p.expirationDateTime,
    grantees: p.grantees.map((g) => g.email ?? g.loginName ?? g.displayName),
  };
}

function itemEvidence(item: SharedItem, cls: InfoClass, permissions: ItemPermission[]): Record<string, unknown> {
  return {
    path: itemSubject(item).name,
    webUrl: item.webUrl,
    site: item.siteUrl,
    class: cls,
    isFolder: item.isFolder,
    permissions: permissions.map(describe),
    ...(item.asOf ? { asOf: item.asOf } : {}),
  };
}

const LINK_SEVERITY: Partial<Record<InfoClass, Severity>> = { I: 'critical', II: 'high', III: 'medium' };
const GRANT_SEVERITY: Partial<Record<InfoClass, Severity>> = { I: 'critical', II: 'high' };

export const anonymousLink = defineRule({
  id: 'FILE-01',
  clauses: ['5-9-1', '2-3-1'],
  kind: 'state',
  severity: 'medium',
  area: 'files',
  requires: ['sharing'],
  title: { ja: '匿名リンク（リンクを知っていれば誰でも）による共有', en: 'Anyone (anonymous) sharing link' },
  remediation: {
    ja: '「リンクを知っていれば誰でも」リンクを削除し、必要な相手だけに「特定のユーザー」リンクで共有してください。分類 I・II・III の情報資産は匿名で共有できません。',
    en: 'Delete the "Anyone with the link" link and share with the specific people who need it instead. Class I, II and III information may not be shared anonymously.',
  },
  evaluate: ({ sharing }, { policy, now }) =>
    ownPermissions(sharing, now).flatMap(({ item, permissions }) => {
      const cls = classOf(item.siteUrl, policy);
      const severity = LINK_SEVERITY[cls];
      const links = permissions.filter((p) => p.link?.scope?.toLowerCase() === 'anonymous');
      return severity && links.length ? [{ subject: itemSubject(item), severity, evidence: itemEvidence(item, cls, links) }] : [];
    }),
});

export const externalGrant = defineRule({
  id: 'FILE-02',
  clauses: ['5-9-1'],
  kind: 'state',
  severity: 'high',
  area: 'files',
  requires: ['sharing', 'domains'],
  title: { ja: '外部の利用者へのアクセス権付与（分類 I・II）', en: 'External person has access to class I/II content' },
  remediation: {
    ja: '外部の利用者・ゲストのアクセス権を削除してください。委託先等との共有が必要な場合は、申請・承認のうえ、期限付きで共有し、記録してください（5-9-2）。',
    en: 'Remove the external person\'s or guest\'s access. If sharing with a contractor is needed, have it requested and approved, share with an expiry, and record it (5-9-2).',
  },
  evaluate: ({ sharing, domains }, { policy, now }) => {
    const internal = internalDomainSet(domains, policy);
    return ownPermissions(sharing, now).flatMap(({ item, permissions }) => {
      const cls = classOf(item.siteUrl, policy);
      const severity = GRANT_SEVERITY[cls];
      if (!severity) return [];
      const grants = permissions
        .map((p) => ({ ...p, grantees: p.grantees.filter((g) => isExternal(g, internal)) }))
        .filter((p) => p.grantees.length > 0);
      return grants.length ? [{ subject: itemSubject(item), severity, evidence: itemEvidence(item, cls, grants) }] : [];
    });
  },
});

export const organizationLinkOnClassI = defineRule({
  id: 'FILE-03',
  clauses: ['5-9-1'],
  kind: 'state',
  severity: 'medium',
  area: 'files',
  requires: ['sharing'],
  title: { ja: '分類 I の情報資産に組織全体リンク', en: 'Organisation-wide link on class I content' },
  remediation: {
    ja: '「組織内のユーザー」リンクを削除し、職務上必要な者だけにアクセス権を付与してください（必要最小限の者のみが取り扱う：2-3-1）。',
    en: 'Delete the "People in your organization" link and grant access only to those whose duties need it (2-3-1: only the minimum of people handle it).',
  },
  evaluate: ({ sharing }, { policy, now }) =>
    ownPermissions(sharing, now).flatMap(({ item, permissions }) => {
      const cls = classOf(item.siteUrl, policy);
      if (cls !== 'I') return [];
      const links = permissions.filter((p) => p.link?.scope?.toLowerCase() === 'organization');
      return links.length ? [{ subject: itemSubject(item), evidence: itemEvidence(item, cls, links) }] : [];
    }),
});

export const anyoneSharingAllowed = defineRule({
  id: 'FILE-04',
  clauses: ['5-9-1'],
  kind: 'state',
  severity: 'high',
  area: 'files',
  requires: ['sharepointSettings'],
  title: { ja: 'テナントで匿名リンク（誰でも）の共有が許可されている', en: 'Tenant allows Anyone links' },
  remediation: {
    ja: 'SharePoint 管理センターの外部共有設定を「新規および既存のゲスト」以下に下げ、匿名リンクを作成できないようにしてください。',
    en: 'In the SharePoint admin center, lower external sharing to "New and existing guests" or below so that Anyone links cannot be created.',
  },
  evaluate: ({ sharepointSettings }, { tenantId }) =>
    sharepointSettings.sharingCapability === 'externalUserAndGuestSharing'
      ? [{ subject: { kind: 'tenant' as const, id: tenantId, name: tenantId }, evidence: { sharingCapability: sharepointSettings.sharingCapability } }]
      : [],
});

export const unregisteredSite = defineRule({
  id: 'FILE-05',
  clauses: ['2-2'],
  kind: 'state',
  severity: 'low',
  area: 'files',
  requires: ['sites'],
  title: { ja: '情報資産管理簿に登録されていないサイト', en: 'Site not in the asset register' },
  remediation: {
    ja: 'サイトを情報資産管理簿（ポリシーの files.assets）に、名称・情報セキュリティ責任者・保管場所・分類区分とともに登録してください。不要なサイトは削除してください。',
    en: 'Register the site in the asset register (files.assets in the policy) with its name, owner, location and class, or delete it if unused.',
  },
  evaluate: ({ sites }, { policy }) =>
    sites
      .filter((s) => !assetFor(s.webUrl, policy.files.assets))
      .map((s) => ({ subject: { kind: 'site' as const, id: s.id, name: s.webUrl, url: s.webUrl }, evidence: { name: s.name, webUrl: s.webUrl, defaultClass: policy.files.defaultClass } })),
});

export const FILE_RULES = [anonymousLink, externalGrant, organizationLinkOnClassI, anyoneSharingAllowed, unregisteredSite];
