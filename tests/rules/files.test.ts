import type { Grantee, ItemPermission, SharedItem, SliceData } from '../../src/collect/snapshot';
import { anonymousLink, anyoneSharingAllowed, assetFor, classOf, externalGrant, isExternal, organizationLinkOnClassI, unregisteredSite } from '../../src/rules/files';
import type { AnyRule } from '../../src/rules/rule';
import { compliantTenant, fired, fixturePolicy, NOW, TENANT_ID, withTenant } from './fixture';

const SITES = {
  I: 'https://example.sharepoint.com/sites/jinji',
  II: 'https://example.sharepoint.com/sites/soumu',
  III: 'https://example.sharepoint.com/sites/yobou',
  IV: 'https://example.sharepoint.com/sites/kouhou',
} as const;
type Cls = keyof typeof SITES;

const policy = fixturePolicy({
  files: {
    assets: (Object.keys(SITES) as Cls[]).map((cls) => ({ name: cls, owner: 'owner@example.lg.jp', location: SITES[cls], class: cls })),
  },
});

function perm(over: Partial<ItemPermission>): ItemPermission {
  return { id: 'p', roles: ['read'], link: null, expirationDateTime: null, inherited: false, grantees: [], ...over };
}
const link = (scope: string | null, over: Partial<ItemPermission> = {}) => perm({ link: { type: 'view', scope, webUrl: 'https://example.sharepoint.com/:f:/s/x/abc' }, ...over });
const grantee = (over: Partial<Grantee>): Grantee => ({ displayName: 'x', email: null, loginName: null, via: 'grantedToV2', ...over });

function withItem(cls: Cls, permissions: ItemPermission[], siteUrl: string = SITES[cls]): SliceData {
  return withTenant((t) => {
    const item: SharedItem = { driveId: 'b!d', itemId: 'item1', siteId: 's', siteUrl, name: 'f', webUrl: `${siteUrl}/Shared%20Documents/f`, isFolder: false, permissions };
    t.sharing.items = [item];
  });
}
const run = (rule: AnyRule, t: SliceData) => rule.evaluate(t as never, { policy, now: NOW, tenantId: TENANT_ID });

describe('asset register', () => {
  it('gives the longest matching prefix on whole path segments, else the default class', () => {
    const p = fixturePolicy({ files: { defaultClass: 'II', assets: [
      { name: 'all sites', owner: 'a@example.lg.jp', location: 'https://example.sharepoint.com/sites/', class: 'III' },
      { name: 'jinji', owner: 'a@example.lg.jp', location: 'https://example.sharepoint.com/sites/jinji', class: 'I' },
    ] } });
    expect(classOf('https://example.sharepoint.com/sites/jinji', p)).toBe('I');
    expect(classOf('https://example.sharepoint.com/sites/jinji/sub', p)).toBe('I');
    expect(classOf('https://EXAMPLE.sharepoint.com/sites/Jinji', p)).toBe('I');
    expect(classOf('https://example.sharepoint.com/sites/jinji2', p)).toBe('III');
    expect(classOf('https://example.sharepoint.com', p)).toBe('II');
    expect(assetFor('https://example.sharepoint.com', p.files.assets)).toBeUndefined();
  });
});

describe('FILE-01 anonymous link', () => {
  it.each([['I', 'critical'], ['II', 'high'], ['III', 'medium']] as const)('fires on class %s with severity %s', (cls, severity) => {
    const [d] = run(anonymousLink, withItem(cls, [link('anonymous')]));
    expect(d?.severity).toBe(severity);
    expect(d?.subject).toEqual({ kind: 'driveItem', id: 'b!d/item1', name: `${new URL(SITES[cls]).pathname}/Shared Documents/f`, url: `${SITES[cls]}/Shared%20Documents/f` });
    expect(d?.evidence).toMatchObject({ class: cls, permissions: [{ linkType: 'view', linkScope: 'anonymous', expires: null }] });
  });
  it('does not fire on class IV, for other scopes, or for an expired link', () => {
    expect(run(anonymousLink, withItem('IV', [link('anonymous')]))).toEqual([]);
    expect(run(anonymousLink, withItem('I', [link('organization'), link('users'), link(null)]))).toEqual([]);
    expect(run(anonymousLink, withItem('I', [link('anonymous', { expirationDateTime: '2026-11-26T00:00:00.000Z' })]))).toEqual([]);
    expect(run(anonymousLink, withItem('I', [link('anonymous', { expirationDateTime: '2026-12-31T00:00:00.000Z' })]))).toHaveLength(1);
  });
  it('uses defaultClass for a site outside the register', () => {
    expect(run(anonymousLink, withItem('I', [link('anonymous')], 'https://example.sharepoint.com/sites/unknown'))[0]?.severity).toBe('medium');
  });
});

describe('FILE-02 external principal', () => {
  const shapes: Array<[string, Grantee]> = [
    ['an external email', grantee({ email: 'someone@gmail.com' })],
    ['a guest login (#ext#)', grantee({ email: null, loginName: 'i:0#.f|membership|taro_partner.example.jp#ext#@exampledemo.onmicrosoft.com' })],
    ['an urn:spo:guest login', grantee({ loginName: 'i:0#.f|membership|urn:spo:guest#kobayashi.m@gmail.com' })],
    ['an external UPN in the claim', grantee({ loginName: 'i:0#.f|membership|a@other.example.com' })],
    ['a specific-people link to a guest', grantee({ email: 'taro@partner.example.jp', via: 'grantedToIdentitiesV2' })],
    ['an invitation', grantee({ email: 'jd@outlook.com', via: 'invitation' })],
  ];
  it.each(shapes)('fires for %s on class I (critical) and II (high)', (_name, g) => {
    expect(run(externalGrant, withItem('I', [perm({ grantees: [g] })]))[0]?.severity).toBe('critical');
    expect(run(externalGrant, withItem('II', [perm({ grantees: [g] })]))[0]?.severity).toBe('high');
  });
  it.each(shapes)('does not fire for %s on class III or IV', (_name, g) => {
    expect(run(externalGrant, withItem('III', [perm({ grantees: [g] })]))).toEqual([]);
    expect(run(externalGrant, withItem('IV', [perm({ grantees: [g] })]))).toEqual([]);
  });
  it('treats verified and configured internal domains as internal, case-insensitively', () => {
    const internal = new Set(['example.lg.jp', 'town.example.jp']);
    expect(isExternal(grantee({ email: 'A@Example.LG.JP', loginName: 'i:0#.f|membership|a@example.lg.jp' }), internal)).toBe(false);
    expect(isExternal(grantee({ email: 'b@town.example.jp' }), internal)).toBe(false);
    expect(isExternal(grantee({ email: null, loginName: 'c:0o.c|federateddirectoryclaimprovider|group-id' }), internal)).toBe(false);
    expect(run(externalGrant, withItem('I', [perm({ grantees: [grantee({ email: 'kanri@town.example.jp' })] })]))).toHaveLength(1);
  });
});

describe('inheritance from the item hierarchy (SharePoint returns no inheritedFrom)', () => {
  const site = SITES.I;
  const item = (itemId: string, permissions: ItemPermission[], ancestorIds: string[] = []): SharedItem => ({
    driveId: 'b!d', itemId, siteId: 's', siteUrl: site, name: itemId, webUrl: `${site}/Shared%20Documents/${itemId}`, isFolder: itemId !== 'file', permissions, ancestorIds,
  });
  const anon = link('anonymous', { id: 'p-anon' });
  const guest = perm({ id: 'p-guest', grantees: [grantee({ email: 'x@gmail.com' })] });
  const tenant = (items: SharedItem[]) => withTenant((t) => { t.sharing.items = items; });

  it('reports a permission listed on an item and its shared ancestors once, on the topmost', () => {
    // folder ⊃ sub ⊃ file: the folder's link is listed on all three under the same id.
    const t = tenant([item('folder', [anon]), item('sub', [anon], ['folder']), item('file', [anon, guest], ['sub', 'folder'])]);
    expect(fired(anonymousLink, t, policy)).toEqual(['b!d/folder']);
    // The file's own grant is still its own finding, and only that grant is its evidence.
    const [d] = run(externalGrant, t);
    expect(d?.subject.id).toBe('b!d/file');
    expect((d?.evidence as { permissions: Array<{ id: string }> }).permissions.map((p) => p.id)).toEqual(['p-guest']);
  });

  it('ancestor loses the permission → reported on the child', () => {
    // The folder's link was removed; the child still lists it (its own, now): the child reports it.
    expect(fired(anonymousLink, tenant([item('folder', [perm({ id: 'p-owner' })]), item('file', [anon], ['folder'])]), policy)).toEqual(['b!d/file']);
    // The folder is no longer tracked at all (unshared): same.
    expect(fired(anonymousLink, tenant([item('file', [anon], ['folder'])]), policy)).toEqual(['b!d/file']);
    // The next item down, not every one: sub carries it, so the file does not report it.
    expect(fired(anonymousLink, tenant([item('folder', []), item('sub', [anon], ['folder']), item('file', [anon], ['sub', 'folder'])]), policy)).toEqual(['b!d/sub']);
  });

  it('does not rely on inheritedFrom: a marked entry no tracked ancestor carries is a finding', () => {
    expect(fired(anonymousLink, tenant([item('file', [link('anonymous', { id: 'p-anon', inherited: true })])]), policy)).toEqual(['b!d/file']);
  });

  it('matches ancestors within the same drive only', () => {
    const other: SharedItem = { ...item('folder', [anon]), driveId: 'b!other' };
    expect(fired(anonymousLink, tenant([other, item('file', [anon], ['folder'])]), policy).sort()).toEqual(['b!d/file', 'b!other/folder']);
  });
});

describe('FILE-03 organisation link on class I', () => {
  it('fires only on class I', () => {
    expect(fired(organizationLinkOnClassI, withItem('I', [link('organization')]), policy)).toEqual(['b!d/item1']);
    expect(fired(organizationLinkOnClassI, withItem('II', [link('organization')]), policy)).toEqual([]);
    expect(fired(organizationLinkOnClassI, withItem('I', [link('users')]), policy)).toEqual([]);
  });
});

describe('FILE-04 tenant allows Anyone links', () => {
  it('fires for externalUserAndGuestSharing only', () => {
    expect(fired(anyoneSharingAllowed, withTenant((t) => { t.sharepointSettings.sharingCapability = 'externalUserAndGuestSharing'; }))).toEqual([TENANT_ID]);
    for (const c of ['disabled', 'externalUserSharingOnly', 'existingExternalUserSharingOnly']) {
      expect(fired(anyoneSharingAllowed, withTenant((t) => { t.sharepointSettings.sharingCapability = c; }))).toEqual([]);
    }
  });
});

describe('FILE-05 site outside the register', () => {
  it('fires for a site no asset covers, including the bare root site', () => {
    const t = withTenant((t) => {
      t.sites.push({ id: 'root', webUrl: 'https://example.sharepoint.com', name: 'root' }, { id: 'new', webUrl: 'https://example.sharepoint.com/sites/jinji-archive', name: 'archive' });
    });
    expect(fired(unregisteredSite, t)).toEqual(['new', 'root']);
    expect(fired(unregisteredSite, compliantTenant())).toEqual([]);
  });
});
