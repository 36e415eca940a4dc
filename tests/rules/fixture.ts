/**
 * One compliant tenant, as snapshot slices. Each rule test changes one field of it
 * (`withTenant(t => { … })`) and checks that exactly the expected finding appears.
 */
import { validatePolicy, type Policy } from '../../src/config/policy';
import type { DirectoryUser, SliceData } from '../../src/collect/snapshot';
import type { AnyRule } from '../../src/rules/rule';

export const NOW = new Date('2026-11-27T00:00:00.000Z');
export const TENANT_ID = '11111111-2222-3333-4444-555555555555';
export const GA = '62e90394-69f5-4237-9190-012177145e10';
/** Microsoft Services, the owner tenant of Microsoft's first-party apps. */
export const MICROSOFT_TENANT = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
export const VENDOR_TENANT = '0a0b0c0d-1111-4222-8333-444455556666';
export const APPROVED_APP = 'aaaaaaaa-1111-4111-8111-111111111111';
export const GRAPH_SP = 'sp-graph';
export const USER_ADMIN = 'fe930be7-5e62-47db-91af-98c3a49a38b1';

const DAY = 86_400_000;
/** An ISO time `days` days before NOW (fractions allowed). */
export const daysAgo = (days: number): string => new Date(NOW.getTime() - days * DAY).toISOString();

function user(id: string, upn: string, over: Partial<DirectoryUser> = {}): DirectoryUser {
  return {
    id,
    displayName: upn.split('@')[0] ?? upn,
    userPrincipalName: upn,
    mail: upn,
    userType: 'Member',
    accountEnabled: true,
    createdDateTime: daysAgo(400),
    department: '総務課',
    employeeId: id.slice(0, 6),
    employeeLeaveDateTime: null,
    passwordPolicies: 'None',
    externalUserState: null,
    lastSignInDateTime: daysAgo(1),
    lastSuccessfulSignInDateTime: daysAgo(1),
    lastNonInteractiveSignInDateTime: daysAgo(0.5),
    ...over,
  };
}

/** The compliant tenant: every rule is silent on it. */
export function compliantTenant(): SliceData {
  const t = compliantSlices();
  // ACCT-02/06 read the signInActivity slice: a full read holds every user, as the users list.
  t.signInActivity = t.users;
  return t;
}

function compliantSlices(): SliceData {
  return {
    domains: [
      { id: 'example.lg.jp', isVerified: true, supportedServices: ['Email', 'OfficeCommunicationsOnline'] },
      { id: 'exampledemo.onmicrosoft.com', isVerified: true, supportedServices: ['Email', 'OfficeCommunicationsOnline'] },
    ],
    users: [
      user('u-member', 'kenta.sato@example.lg.jp', { displayName: '佐藤 健太' }),
      user('u-admin', 'hanako.suzuki@example.lg.jp', { displayName: '鈴木 花子', department: '事務局' }),
      user('u-guest', 'taro_partner.example.jp#EXT#@exampledemo.onmicrosoft.com', {
        displayName: '委託 太郎', userType: 'Guest', mail: 'taro@partner.example.jp', externalUserState: 'Accepted',
        lastSignInDateTime: daysAgo(10), lastSuccessfulSignInDateTime: daysAgo(10), createdDateTime: daysAgo(100), department: null,
      }),
      user('u-breakglass', 'breakglass01@exampledemo.onmicrosoft.com', {
        displayName: 'Emergency access 01', lastSignInDateTime: daysAgo(200), lastSuccessfulSignInDateTime: daysAgo(200), department: null,
      }),
    ],
    directory: [],
    // withTenant makes it the users list, as collectUsers does when signInActivity was read.
    signInActivity: [],
    mfaRegistration: [
      { id: 'u-member', userPrincipalName: 'kenta.sato@example.lg.jp', isMfaRegistered: true, userType: 'member', methodsRegistered: ['microsoftAuthenticatorPush', 'softwareOneTimePasscode'] },
      // The Global Administrators hold a phishing-resistant method (MFA-05).
      { id: 'u-admin', userPrincipalName: 'hanako.suzuki@example.lg.jp', isMfaRegistered: true, userType: 'member', methodsRegistered: ['microsoftAuthenticatorPush', 'passKeyDeviceBoundAuthenticator'] },
      { id: 'u-guest', userPrincipalName: 'taro_partner.example.jp#EXT#@exampledemo.onmicrosoft.com', isMfaRegistered: true, userType: 'guest', methodsRegistered: ['mobilePhone'] },
      { id: 'u-breakglass', userPrincipalName: 'breakglass01@exampledemo.onmicrosoft.com', isMfaRegistered: true, userType: 'member', methodsRegistered: ['fido2SecurityKey'] },
    ],
    roles: {
      assignments: [
        { id: 'a1', principalId: 'u-admin', roleDefinitionId: GA, directoryScopeId: '/', principalType: 'user', principalName: 'hanako.suzuki@example.lg.jp', principalUserType: 'Member' },
        { id: 'a2', principalId: 'u-breakglass', roleDefinitionId: GA, directoryScopeId: '/', principalType: 'user', principalName: 'breakglass01@exampledemo.onmicrosoft.com', principalUserType: 'Member' },
      ],
      eligibility: [],
    },
    // ACCT-08: the admin's Global Administrator is time-bound (PIM, ends in 30 days); the
    // break-glass account's is permanent, as it must be, and it is an emergency-access account.
    roleAssignmentInstances: [
      { id: 'a1', principalId: 'u-admin', roleDefinitionId: GA, directoryScopeId: '/', assignmentType: 'Assigned', memberType: 'Direct', startDateTime: daysAgo(60), endDateTime: daysAgo(-30), principalType: 'user', principalName: 'hanako.suzuki@example.lg.jp' },
      { id: 'a2', principalId: 'u-breakglass', roleDefinitionId: GA, directoryScopeId: '/', assignmentType: 'Assigned', memberType: 'Direct', startDateTime: null, endDateTime: null, principalType: 'user', principalName: 'breakglass01@exampledemo.onmicrosoft.com' },
    ],
    securityDefaults: { isEnabled: false },
    conditionalAccess: [
      {
        id: 'ca-mfa', displayName: 'MFA for everyone', state: 'enabled', includeUsers: ['All'], includeApplications: ['All'],
        clientAppTypes: ['all'], builtInControls: ['mfa'], hasAuthenticationStrength: false,
      },
      {
        id: 'ca-legacy', displayName: 'Block legacy authentication', state: 'enabled', includeUsers: ['All'], includeApplications: ['All'],
        clientAppTypes: ['exchangeActiveSync', 'other'], builtInControls: ['block'], hasAuthenticationStrength: false,
      },
    ],
    mailRules: {
      mailboxes: [
        {
          userId: 'u-member',
          userPrincipalName: 'kenta.sato@example.lg.jp',
          rules: [
            // Internal and approved destinations are compliant; so is any destination of a disabled rule.
            { id: 'r1', displayName: '課内へ転送', isEnabled: true, forwardTo: [{ address: 'soumu@example.lg.jp', name: '総務課' }], redirectTo: [], forwardAsAttachmentTo: [] },
            { id: 'r2', displayName: '委託先へ転送', isEnabled: true, forwardTo: [], redirectTo: [{ address: 'desk@partner.example.jp', name: null }], forwardAsAttachmentTo: [] },
            { id: 'r3', displayName: '旧設定', isEnabled: false, forwardTo: [{ address: 'kenta@gmail.com', name: null }], redirectTo: [], forwardAsAttachmentTo: [] },
          ],
        },
        { userId: 'u-admin', userPrincipalName: 'hanako.suzuki@example.lg.jp', rules: [] },
      ],
      withoutMailbox: 1,
    },
    // MAIL-02: the one sending domain publishes strict SPF, DMARC and both DKIM selectors.
    mailAuthentication: {
      resolver: '127.0.0.1:5353',
      domains: [
        {
          domain: 'example.lg.jp',
          spf: { status: 'ok', record: 'v=spf1 include:spf.protection.outlook.com -all', all: '-all', redirects: [] },
          dmarc: { status: 'ok', record: 'v=DMARC1; p=reject; rua=mailto:dmarc@example.lg.jp', p: 'reject', sp: null },
          dkim: {
            selectors: [
              { selector: 'selector1', status: 'ok', target: 'selector1-example-lg-jp._domainkey.exampledemo.onmicrosoft.com' },
              { selector: 'selector2', status: 'ok', target: 'selector2-example-lg-jp._domainkey.exampledemo.onmicrosoft.com' },
            ],
          },
        },
      ],
      skipped: [{ domain: 'exampledemo.onmicrosoft.com', reason: 'onmicrosoft.com' }],
    },
    signIns: { from: daysAgo(1), to: NOW.toISOString(), read: 0, detections: [] },
    sites: [
      { id: 'example.sharepoint.com,s1,w1', webUrl: 'https://example.sharepoint.com/sites/jinji', name: '人事給与' },
      { id: 'example.sharepoint.com,s2,w2', webUrl: 'https://example.sharepoint.com/sites/kouhou', name: '広報' },
      { id: 'example-my.sharepoint.com,s3,w3', webUrl: 'https://example-my.sharepoint.com/personal/kenta_sato_example_lg_jp', name: 'OneDrive' },
    ],
    sharing: {
      items: [
        {
          // Class I, shared with specific internal people only: compliant.
          driveId: 'b!jinji', itemId: 'i-kyuyo', siteId: 'example.sharepoint.com,s1,w1', siteUrl: 'https://example.sharepoint.com/sites/jinji',
          name: '給与', webUrl: 'https://example.sharepoint.com/sites/jinji/Shared%20Documents/%E7%B5%A6%E4%B8%8E', isFolder: true,
          permissions: [
            { id: 'p-owner', roles: ['owner'], link: null, expirationDateTime: null, inherited: false, grantees: [{ displayName: '佐藤 誠', email: 'makoto.sato@example.lg.jp', loginName: 'i:0#.f|membership|makoto.sato@example.lg.jp', via: 'grantedToV2' }] },
            { id: 'p-users', roles: ['read'], link: { type: 'view', scope: 'users', webUrl: 'https://example.sharepoint.com/:f:/s/jinji/x' }, expirationDateTime: null, inherited: false, grantees: [{ displayName: '鈴木 花子', email: 'hanako.suzuki@example.lg.jp', loginName: null, via: 'grantedToIdentitiesV2' }] },
          ],
        },
        {
          // Class IV (public), anonymous link: allowed.
          driveId: 'b!kouhou', itemId: 'i-kouhoushi', siteId: 'example.sharepoint.com,s2,w2', siteUrl: 'https://example.sharepoint.com/sites/kouhou',
          name: '広報誌.pdf', webUrl: 'https://example.sharepoint.com/sites/kouhou/Shared%20Documents/kouhoushi.pdf', isFolder: false,
          permissions: [{ id: 'p-anon', roles: ['read'], link: { type: 'view', scope: 'anonymous', webUrl: 'https://example.sharepoint.com/:b:/s/kouhou/y' }, expirationDateTime: null, inherited: false, grantees: [] }],
        },
      ],
      drives: 3,
      resynced: 0,
    },
    sharepointSettings: { sharingCapability: 'externalUserSharingOnly' },
    // User consent limited to verified publishers and low-impact permissions: compliant (APP-02).
    // Outside apps: an approved one with mail access, one with only low-risk permissions, and a
    // Microsoft app (the collector would not keep it; the rule must not report it either).
    appGrants: {
      servicePrincipals: 40,
      apps: [
        {
          id: 'sp-approved', appId: APPROVED_APP, displayName: '文書管理 連携', appOwnerOrganizationId: VENDOR_TENANT,
          permissions: [{ type: 'application', resourceId: GRAPH_SP, resourceName: 'Microsoft Graph', value: 'Mail.ReadWrite' }],
        },
        {
          id: 'sp-lowrisk', appId: 'bbbbbbbb-2222-4222-8222-222222222222', displayName: '施設予約', appOwnerOrganizationId: VENDOR_TENANT,
          permissions: [
            { type: 'application', resourceId: GRAPH_SP, resourceName: 'Microsoft Graph', value: 'Calendars.Read' },
            { type: 'delegated', resourceId: GRAPH_SP, resourceName: 'Microsoft Graph', value: 'User.Read' },
            { type: 'delegated', resourceId: GRAPH_SP, resourceName: 'Microsoft Graph', value: 'offline_access' },
          ],
        },
        {
          id: 'sp-microsoft', appId: 'cccccccc-3333-4333-8333-333333333333', displayName: 'Microsoft Teams Services', appOwnerOrganizationId: MICROSOFT_TENANT,
          permissions: [{ type: 'application', resourceId: GRAPH_SP, resourceName: 'Microsoft Graph', value: 'Mail.Read' }],
        },
      ],
    },
    authorizationPolicy: { id: 'authorizationPolicy', permissionGrantPoliciesAssigned: ['ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team', 'ManagePermissionGrantsForSelf.microsoft-user-default-low'] },
  };
}

/** The compliant tenant with one change applied. */
export function withTenant(change: (t: SliceData) => void): SliceData {
  const t = compliantTenant();
  change(t);
  t.signInActivity = t.users;
  t.directory = t.users.map(({ id, userPrincipalName, mail, userType, accountEnabled, department }) => ({ id, userPrincipalName, mail, userType, accountEnabled, department }));
  return t;
}

/** The policy the fixture is compliant with (defaults + the break-glass account). */
export function fixturePolicy(over: Record<string, unknown> = {}): Policy {
  return validatePolicy({
    accounts: { emergencyAccessAccounts: ['breakglass01@exampledemo.onmicrosoft.com'] },
    mail: { approvedForwardingDomains: ['partner.example.jp'] },
    apps: { approvedApps: [APPROVED_APP] },
    files: {
      assets: [
        { name: '人事給与ファイル', owner: 'makoto.sato@example.lg.jp', location: 'https://example.sharepoint.com/sites/jinji', class: 'I' },
        { name: '広報資料', owner: 'kouhou@example.lg.jp', location: 'https://example.sharepoint.com/sites/kouhou', class: 'IV' },
        { name: '職員 OneDrive', owner: 'sysadmin@example.lg.jp', location: 'https://example-my.sharepoint.com/personal/', class: 'III' },
      ],
    },
    ...over,
  });
}

/** The subject ids a rule reports on a tenant. */
export function fired(rule: AnyRule, tenant: SliceData, policy: Policy = fixturePolicy(), now: Date = NOW): string[] {
  return rule.evaluate(tenant as never, { policy, now, tenantId: TENANT_ID }).map((d) => d.subject.id).sort();
}

/** Finds a user of the fixture by id (throws if absent, to keep tests honest). */
export function userOf(t: SliceData, id: string): DirectoryUser {
  const u = t.users.find((x) => x.id === id);
  if (!u) throw new Error(`fixture has no user ${id}`);
  return u;
}
