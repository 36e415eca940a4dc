import type { AppPermission, ForeignApp } from '../../src/collect/snapshot';
import { outsideAppHighRiskPermission, permissionPattern, userConsentToAnyApp } from '../../src/rules/apps';
import { APPROVED_APP, compliantTenant, fired, fixturePolicy, GRAPH_SP, MICROSOFT_TENANT, NOW, TENANT_ID, VENDOR_TENANT, withTenant } from './fixture';

const LEGACY = 'ManagePermissionGrantsForSelf.microsoft-user-default-legacy';

describe('APP-02 users may consent to any app', () => {
  it('is silent on the compliant tenant (consent limited to microsoft-user-default-low)', () => {
    expect(fired(userConsentToAnyApp, compliantTenant())).toEqual([]);
  });
  it('fires once, on the tenant, when the legacy user-consent policy is assigned', () => {
    const t = withTenant((t) => { t.authorizationPolicy.permissionGrantPoliciesAssigned = [LEGACY]; });
    expect(fired(userConsentToAnyApp, t)).toEqual([TENANT_ID]);
    const [draft] = userConsentToAnyApp.evaluate(t, { policy: undefined as never, now: new Date(), tenantId: TENANT_ID });
    expect(draft?.evidence).toEqual({ permissionGrantPoliciesAssigned: [LEGACY] });
  });
  it('fires when the legacy policy sits beside others, and in another case', () => {
    const t = withTenant((t) => { t.authorizationPolicy.permissionGrantPoliciesAssigned.push(LEGACY.toLowerCase()); });
    expect(fired(userConsentToAnyApp, t)).toEqual([TENANT_ID]);
  });
  it('does not fire with user consent off (an empty list) or for a look-alike id', () => {
    expect(fired(userConsentToAnyApp, withTenant((t) => { t.authorizationPolicy.permissionGrantPoliciesAssigned = []; }))).toEqual([]);
    // The owned-resource family (team/chat resource-specific consent) is not user consent to any app.
    expect(fired(userConsentToAnyApp, withTenant((t) => { t.authorizationPolicy.permissionGrantPoliciesAssigned = ['ManagePermissionGrantsForOwnedResource.microsoft-user-default-legacy']; }))).toEqual([]);
    expect(fired(userConsentToAnyApp, withTenant((t) => { t.authorizationPolicy.permissionGrantPoliciesAssigned = ['ManagePermissionGrantsForSelf.microsoft-user-default-legacy-old']; }))).toEqual([]);
  });
});

describe('APP-01 outside app with a high-risk permission', () => {
  const app = (over: Partial<ForeignApp> = {}): ForeignApp => ({
    id: 'sp-vendor', appId: 'dddddddd-4444-4444-8444-444444444444', displayName: 'Kintai Cloud', appOwnerOrganizationId: VENDOR_TENANT, permissions: [], ...over,
  });
  const perm = (type: AppPermission['type'], value: string): AppPermission => ({ type, resourceId: GRAPH_SP, resourceName: 'Microsoft Graph', value });
  const withApp = (a: ForeignApp) => withTenant((t) => { t.appGrants.apps.push(a); });
  const run = (t: ReturnType<typeof withApp>, policy = fixturePolicy()) => outsideAppHighRiskPermission.evaluate(t, { policy, now: NOW, tenantId: TENANT_ID });

  it('is silent on the compliant tenant (approved app, low-risk permissions, a Microsoft app)', () => {
    expect(fired(outsideAppHighRiskPermission, compliantTenant())).toEqual([]);
  });
  it('an application permission to mail is critical, with the offending permissions as evidence', () => {
    const drafts = run(withApp(app({ permissions: [perm('application', 'Mail.Read'), perm('application', 'Calendars.Read')] })));
    expect(drafts).toEqual([{
      subject: { kind: 'servicePrincipal', id: 'sp-vendor', name: 'Kintai Cloud' },
      severity: 'critical',
      evidence: { appId: 'dddddddd-4444-4444-8444-444444444444', appOwnerOrganizationId: VENDOR_TENANT, highRiskPermissions: [{ type: 'application', value: 'Mail.Read', resource: 'Microsoft Graph' }] },
    }]);
  });
  it.each([
    ['application', 'Files.ReadWrite.All', 'critical'],
    ['application', 'sites.read.all', 'critical'],
    ['application', 'full_access_as_app', 'critical'],
    ['application', 'MailboxSettings.ReadWrite', 'critical'],
    ['application', 'Directory.ReadWrite.All', 'high'],
    ['application', 'RoleManagement.ReadWrite.Directory', 'high'],
    ['application', 'AppRoleAssignment.ReadWrite.All', 'high'],
    ['application', 'Application.ReadWrite.All', 'high'],
    ['delegated', 'Mail.Send', 'high'],
    ['delegated', 'Files.ReadWrite.All', 'high'],
  ] as const)('%s %s → %s', (type, value, severity) => {
    const drafts = run(withApp(app({ permissions: [perm(type, value)] })));
    expect(drafts.map((d) => [d.subject.id, d.severity])).toEqual([['sp-vendor', severity]]);
  });
  it('does not fire for a low-risk permission, or for patterns that match only part of a value', () => {
    expect(run(withApp(app({ permissions: [perm('application', 'User.Read.All'), perm('delegated', 'Files.Read'), perm('application', 'Sites.Selected')] })))).toEqual([]);
  });
  it('does not fire for an approved app (appId, any case), a Microsoft-owned app, the tenant\'s own app or an unknown owner', () => {
    const mail = [perm('application', 'Mail.ReadWrite')];
    expect(run(withApp(app({ permissions: mail })), fixturePolicy({ apps: { approvedApps: [APPROVED_APP, 'DDDDDDDD-4444-4444-8444-444444444444'] } }))).toEqual([]);
    expect(run(withApp(app({ permissions: mail, appOwnerOrganizationId: MICROSOFT_TENANT.toUpperCase() })))).toEqual([]);
    expect(run(withApp(app({ permissions: mail, appOwnerOrganizationId: TENANT_ID })))).toEqual([]);
    expect(run(withApp(app({ permissions: mail, appOwnerOrganizationId: '' })))).toEqual([]);
  });
  it('reads apps.highRiskPermissions from the policy: a narrower list leaves mail apps alone, a wider one catches more', () => {
    const t = withApp(app({ permissions: [perm('application', 'Mail.Read'), perm('application', 'Calendars.Read')] }));
    expect(run(t, fixturePolicy({ apps: { approvedApps: [APPROVED_APP], highRiskPermissions: ['Directory.ReadWrite.All'] } }))).toEqual([]);
    const wider = run(withApp(app({ permissions: [perm('application', 'Calendars.Read')] })), fixturePolicy({ apps: { approvedApps: [APPROVED_APP], highRiskPermissions: ['Calendars.*'] } }));
    expect(wider.map((d) => [d.subject.id, d.severity])).toEqual([['sp-lowrisk', 'high'], ['sp-vendor', 'high']]);
  });
});

describe('permission patterns', () => {
  it('match whole values, case-insensitively, * as any run of characters, dots literal', () => {
    expect(permissionPattern('Files.*.All').test('files.readwrite.all')).toBe(true);
    expect(permissionPattern('Files.*.All').test('Files.Read')).toBe(false);
    expect(permissionPattern('Mail.*').test('Mail.Send')).toBe(true);
    expect(permissionPattern('Mail.*').test('MailboxSettings.Read')).toBe(false);
    expect(permissionPattern('Mail.Read').test('MailxRead')).toBe(false);
  });
});
