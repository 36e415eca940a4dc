import { userConsentToAnyApp } from '../../src/rules/apps';
import { compliantTenant, fired, TENANT_ID, withTenant } from './fixture';

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
