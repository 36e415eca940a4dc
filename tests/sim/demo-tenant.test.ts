import { RULE_IDS } from '../../src/rules/ids';
import { readControls } from '../support/controls-doc';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { DemoTenant, JsonObject } from '../../src/sim/tenant';

/**
 * Structural tests of the demo tenant. The rules themselves are NOT evaluated here (the rules
 * engine has its own tests; an end-to-end test compares it with this ground truth).
 */

const NOW = new Date('2026-06-15T03:00:00Z');
// 'apps' (issue 15, APP-01) is not in shared/spec/policy.md yet: its keys and defaults are in docs/controls.md.
const POLICY_KEYS = ['organization', 'accounts', 'mail', 'signIns', 'files', 'apps', 'exceptions', 'tickets', 'alerts'];
const NEVER = '0001-01-01T00:00:00Z';

const obj = (v: unknown): JsonObject => v as JsonObject;
const str = (v: unknown): string => v as string;

describe('generateDemoTenant', () => {
  let demo: DemoTenant;
  beforeAll(() => {
    demo = generateDemoTenant({ seed: 1, users: 60, now: NOW });
  });

  test('is deterministic for the same seed, size and now; another seed differs', () => {
    const again = generateDemoTenant({ seed: 1, users: 60, now: NOW });
    expect(again).toEqual(demo);
    expect(JSON.stringify(again)).toBe(JSON.stringify(demo));
    const other = generateDemoTenant({ seed: 2, users: 60, now: NOW });
    expect(other.data.tenantId).not.toBe(demo.data.tenantId);
    expect(other).not.toEqual(demo);
  });

  test('defaults: seed 1, 60 users, now = current time', () => {
    const before = Date.now();
    const d = generateDemoTenant({});
    expect(Date.parse(d.now)).toBeGreaterThanOrEqual(before);
    expect(d.data.users).toHaveLength(60);
    expect(generateDemoTenant({ now: NOW })).toEqual(demo);
    expect(demo.now).toBe(NOW.toISOString());
  });

  test('the users option sets the population size; the planted set does not change', () => {
    const big = generateDemoTenant({ seed: 1, users: 500, now: NOW });
    expect(big.data.users.length).toBeGreaterThanOrEqual(500);
    expect(big.data.users).toHaveLength(500);
    expect(big.groundTruth).toEqual(demo.groundTruth);
    expect(big.policy).toEqual(demo.policy);
  });

  // How fast it is generated is the benchmark's to measure (`npm run bench` reports generateMs), not a test's.
  test('10,000 users are generated with the same ground truth', () => {
    const huge = generateDemoTenant({ seed: 1, users: 10_000, now: NOW });
    expect(huge.data.users).toHaveLength(10_000);
    expect(huge.groundTruth).toEqual(demo.groundTruth);
    expect(new Set(huge.data.users.map((u) => u.id)).size).toBe(10_000);
    expect(new Set(huge.data.users.map((u) => str(u.userPrincipalName).toLowerCase())).size).toBe(10_000);
    const guests = huge.data.users.filter((u) => u.userType === 'Guest');
    expect(guests.length).toBeGreaterThan(100);
    for (const g of guests) expect(str(g.userPrincipalName)).toMatch(/^[a-z0-9.]+_[a-z0-9.-]+#EXT#@exampledemo\.onmicrosoft\.com$/);
    expect(new Set(guests.map((g) => g.mail)).size).toBe(guests.length);
  });

  test('a size below the planted population still yields every planted case', () => {
    const small = generateDemoTenant({ seed: 1, users: 5, now: NOW });
    expect(small.groundTruth).toEqual(demo.groundTruth);
  });

  test('every rule id of controls.md appears in the ground truth', () => {
    expect(new Set(readControls().map((c) => c.id))).toEqual(new Set(RULE_IDS));
    const present = new Set(demo.groundTruth.map((g) => g.ruleId));
    for (const id of RULE_IDS) expect(present).toContain(id);
    for (const g of demo.groundTruth) {
      expect(RULE_IDS).toContain(g.ruleId);
      expect(g.note.length).toBeGreaterThan(0);
    }
    const keys = demo.groundTruth.map((g) => `${g.ruleId} ${g.subjectId}`);
    expect(new Set(keys).size).toBe(keys.length); // one entry per (rule, subject)
  });

  test('every ground-truth subject exists in the data', () => {
    const d = demo.data;
    const userIds = new Set(d.users.map((u) => str(u.id)));
    const siteIds = new Set(d.sites.map((s) => str(s.site.id)));
    const itemKeys = new Set<string>();
    for (const s of d.sites) for (const dr of s.drives) for (const it of dr.items) itemKeys.add(`${str(dr.drive.id)}/${str(it.id)}`);
    const ips = new Set(d.signIns.map((s) => str(s.ipAddress)));
    for (const g of demo.groundTruth) {
      const kind = g.ruleId;
      if (['ACCT-04', 'MFA-03', 'MFA-04', 'FILE-04', 'APP-02'].includes(kind)) expect(g.subjectId).toBe(d.tenantId);
      else if (kind === 'SIGN-02') expect(ips).toContain(g.subjectId);
      else if (kind === 'FILE-05') expect(siteIds).toContain(g.subjectId);
      else if (kind === 'APP-01') expect((d.servicePrincipals ?? []).map((s) => str(s.id))).toContain(g.subjectId);
      else if (kind === 'MAIL-02') expect(d.domains.filter((x) => x.isVerified === true).map((x) => str(x.id))).toContain(g.subjectId);
      else if (['FILE-01', 'FILE-02', 'FILE-03'].includes(kind)) expect(itemKeys).toContain(g.subjectId);
      else expect(userIds).toContain(g.subjectId);
    }
    // Subjects of item findings are roots of sharing hierarchies.
    for (const s of d.sites) for (const dr of s.drives) for (const it of dr.items) {
      if (demo.groundTruth.some((g) => g.subjectId === `${str(dr.drive.id)}/${str(it.id)}`)) {
        expect(it.shared).toBeDefined();
        expect((dr.permissions[str(it.id)] ?? []).some((p) => p.inheritedFrom === undefined)).toBe(true);
      }
    }
  });

  test('tenant and domains', () => {
    const d = demo.data;
    expect(d.tenantId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const byId = new Map(d.domains.map((x) => [str(x.id), x]));
    expect(byId.get('example.lg.jp')).toMatchObject({ isDefault: true, isVerified: true, isInitial: false });
    expect(byId.get('exampledemo.onmicrosoft.com')).toMatchObject({ isInitial: true, isVerified: true });
    expect(d.domains.filter((x) => x.isVerified === false)).toHaveLength(1);
    for (const dom of d.domains) {
      expect(Object.keys(dom).sort()).toEqual([
        'authenticationType', 'availabilityStatus', 'id', 'isAdminManaged', 'isDefault', 'isInitial', 'isRoot',
        'isVerified', 'passwordNotificationWindowInDays', 'passwordValidityPeriodInDays', 'state', 'supportedServices',
      ]);
      expect(dom).toMatchObject({ authenticationType: 'Managed', availabilityStatus: null, state: null, passwordNotificationWindowInDays: 14, passwordValidityPeriodInDays: 2147483647 });
    }
  });

  test('DNS zone (MAIL-02): the compliant domain\'s SPF is split over two strings, the skipped domains have no records', () => {
    const zone = demo.data.dnsZone ?? {};
    expect(zone['example.lg.jp']?.TXT?.[0]).toEqual(['v=spf1 include:spf.protection', '.outlook.com -all']);
    expect(zone['selector1._domainkey.example.lg.jp']?.CNAME).toBe('selector1-example-lg-jp._domainkey.exampledemo.onmicrosoft.com');
    for (const name of Object.keys(zone)) expect(name).not.toMatch(/onmicrosoft\.com$|^sip\.|nishiokitama/);
    // Character-strings are at most 255 bytes (RFC 1035 §3.3.14).
    for (const e of Object.values(zone)) for (const r of e.TXT ?? []) for (const part of r) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(255);
    expect(demo.groundTruth.filter((g) => g.ruleId === 'MAIL-02').map((g) => g.subjectId).sort()).toEqual(['kumiai.example.jp', 'mail.kumiai.example.jp', 'shobo.example.lg.jp', 'tokuyo.example.lg.jp']);
  });

  test('users have the selected properties and real quirks', () => {
    const d = demo.data;
    const sia = ['lastSignInDateTime', 'lastSignInRequestId', 'lastNonInteractiveSignInDateTime', 'lastNonInteractiveSignInRequestId', 'lastSuccessfulSignInDateTime', 'lastSuccessfulSignInRequestId'];
    let sawNever = false;
    let sawBlank = false;
    for (const u of d.users) {
      for (const k of ['id', 'displayName', 'userPrincipalName', 'mail', 'userType', 'accountEnabled', 'createdDateTime', 'department', 'employeeId', 'employeeLeaveDateTime', 'passwordPolicies', 'externalUserState', 'signInActivity']) {
        expect(u).toHaveProperty(k);
      }
      expect(['Member', 'Guest']).toContain(u.userType);
      expect(Object.keys(obj(u.signInActivity)).sort()).toEqual([...sia].sort());
      const a = obj(u.signInActivity);
      if (a.lastSignInDateTime === NEVER) sawNever = true;
      if (a.lastSuccessfulSignInDateTime === '') sawBlank = true;
      const upn = str(u.userPrincipalName);
      if (u.userType === 'Guest') {
        expect(upn).toMatch(/^[^@]+_[a-z0-9.-]+#EXT#@exampledemo\.onmicrosoft\.com$/);
        expect(str(u.mail)).not.toMatch(/@example\.lg\.jp$/);
        expect(['Accepted', 'PendingAcceptance']).toContain(u.externalUserState);
      } else {
        expect(u.externalUserState).toBeNull();
        if (u.mail !== null) expect(u.mail).toBe(upn);
      }
      expect(str(u.displayName)).toMatch(/\S/);
    }
    expect(sawNever).toBe(true);
    expect(sawBlank).toBe(true);
    expect(new Set(d.users.map((u) => u.id)).size).toBe(d.users.length);
    expect(new Set(d.users.map((u) => str(u.userPrincipalName).toLowerCase())).size).toBe(d.users.length);
    // Japanese display names, surname first with a half- or full-width space.
    expect(d.users.some((u) => /^\p{Script=Han}+ \p{Script=Han}+$/u.test(str(u.displayName)))).toBe(true);
  });

  test('userRegistrationDetails: every enabled user once, no disabled user, lower-case userType', () => {
    const d = demo.data;
    const enabled = d.users.filter((u) => u.accountEnabled === true);
    const ids = d.userRegistrationDetails.map((r) => r.id);
    expect(new Set(ids)).toEqual(new Set(enabled.map((u) => u.id)));
    expect(ids).toHaveLength(enabled.length);
    const users = new Map(d.users.map((u) => [u.id, u]));
    for (const r of d.userRegistrationDetails) {
      const u = users.get(r.id);
      expect(u).toBeDefined();
      expect(r.userType).toBe(u?.userType === 'Guest' ? 'guest' : 'member');
      expect(r.userPrincipalName).toBe(u?.userPrincipalName);
      expect(typeof r.isMfaRegistered).toBe('boolean');
      expect(Array.isArray(r.methodsRegistered)).toBe(true);
      expect(r.isMfaRegistered).toBe((r.methodsRegistered as unknown[]).length > 0);
      expect(str(r.lastUpdatedDateTime)).toMatch(/\.\d{7}Z$/);
    }
    // The emergency-access account is registered (MFA-01 does not exempt it).
    const bg = d.users.find((u) => u.userPrincipalName === 'breakglass01@exampledemo.onmicrosoft.com');
    expect(d.userRegistrationDetails.find((r) => r.id === bg?.id)?.isMfaRegistered).toBe(true);
  });

  test('roles: assignments without principal, eligibility schedules in the PIM shape', () => {
    const d = demo.data;
    // Principals are users or role-assignable groups.
    const userIds = new Set([...d.users.map((u) => u.id), ...(d.groups ?? []).map((g) => g.id)]);
    for (const a of d.roleAssignments) {
      expect(Object.keys(a).sort()).toEqual(['directoryScopeId', 'id', 'principalId', 'roleDefinitionId']);
      expect(a).not.toHaveProperty('principal');
      expect(str(a.id)).toMatch(/^[A-Za-z0-9_-]{43}-1$/);
      expect(userIds).toContain(a.principalId);
    }
    expect(d.roleAssignments.some((a) => str(a.id).startsWith('lAPpYvVpN0KRkAEhdxReE'))).toBe(true); // Global Administrator
    for (const e of d.roleEligibilitySchedules) {
      expect(e).toMatchObject({ status: 'Provisioned', memberType: 'Direct', directoryScopeId: '/', appScopeId: null });
      expect(e.createdUsing).toBe(e.id);
      expect(userIds).toContain(e.principalId);
      const exp = obj(obj(e.scheduleInfo).expiration);
      expect(Date.parse(str(exp.endDateTime))).toBeGreaterThan(NOW.getTime());
    }
  });

  test('roles through groups: role-assignable groups without nesting, a violating and a compliant member, a non-privileged near miss', () => {
    const d = demo.data;
    const byName = new Map((d.groups ?? []).map((g) => [g.displayName, g]));
    const upns = (groupName: string): string[] => {
      const g = byName.get(groupName);
      return (d.groupMembers?.[str(g?.id)] ?? []).map((id) => str(d.users.find((u) => u.id === id)?.userPrincipalName)).sort();
    };
    expect([...byName.keys()]).toEqual(['情報システム管理者グループ', '委託先保守グループ', '庁内ポータル閲覧者グループ']);
    for (const g of d.groups ?? []) {
      expect(g).toMatchObject({ isAssignableToRole: true, securityEnabled: true, mailEnabled: false, groupTypes: [], visibility: 'Private' });
      // "Group nesting isn't supported" for role-assignable groups: members are users only.
      for (const m of d.groupMembers?.[str(g.id)] ?? []) expect(d.users.some((u) => u.id === m)).toBe(true);
    }
    expect(upns('情報システム管理者グループ')).toEqual(['hiroshi.takahashi@example.lg.jp', 'shota.shibata@example.lg.jp', 'takuya.umetsu@example.lg.jp']);
    expect(upns('委託先保守グループ')).toEqual(['kaito.hoshino_vendor-it.example.jp#EXT#@exampledemo.onmicrosoft.com']);
    expect(upns('庁内ポータル閲覧者グループ')).toEqual(['haruka.maeda@example.lg.jp']);
    const role = (groupName: string) => [
      ...d.roleAssignments.filter((a) => a.principalId === byName.get(groupName)?.id).map((a) => `active ${str(a.roleDefinitionId)}`),
      ...d.roleEligibilitySchedules.filter((e) => e.principalId === byName.get(groupName)?.id).map((e) => `eligible ${str(e.roleDefinitionId)}`),
    ];
    expect(role('情報システム管理者グループ')).toEqual(['active 62e90394-69f5-4237-9190-012177145e10']);
    expect(role('委託先保守グループ')).toEqual(['eligible 29232cdf-9323-42fd-ade2-1d097af3e4de']);
    expect(role('庁内ポータル閲覧者グループ')).toEqual(['active f2ef992c-3afb-46b9-b7cf-a126ee74c451']);
    // The violating members are planted; the compliant one and the near miss are not.
    const upnOf = (id: string) => str(d.users.find((u) => u.id === id)?.userPrincipalName);
    const truth = demo.groundTruth.map((g) => `${g.ruleId} ${upnOf(g.subjectId)}`);
    expect(truth).toContain('MFA-01 shota.shibata@example.lg.jp');
    expect(truth).toContain('ACCT-05 kaito.hoshino_vendor-it.example.jp#EXT#@exampledemo.onmicrosoft.com');
    expect(truth).toContain('MFA-02 haruka.maeda@example.lg.jp');
    // ACCT-08 is the exception: the group's Global Administrator is permanent, so every member
    // (the compliant one too) holds standing access through it.
    expect(truth.filter((t) => /hiroshi\.takahashi|MFA-01 haruka|MFA-02 shota/.test(t))).toEqual(['ACCT-08 hiroshi.takahashi@example.lg.jp']);
    const registered = (upn: string) => d.userRegistrationDetails.find((r) => r.userPrincipalName === upn)?.isMfaRegistered;
    expect([registered('shota.shibata@example.lg.jp'), registered('hiroshi.takahashi@example.lg.jp'), registered('haruka.maeda@example.lg.jp')]).toEqual([false, true, false]);
  });

  test('security defaults off; Conditional Access policies in the Graph shape', () => {
    const d = demo.data;
    expect(d.securityDefaults).toMatchObject({ id: '00000000-0000-0000-0000-000000000005', isEnabled: false });
    for (const p of d.conditionalAccessPolicies) {
      expect(['enabled', 'disabled', 'enabledForReportingButNotEnforced']).toContain(p.state);
      const c = obj(p.conditions);
      expect(Object.keys(obj(c.users)).sort()).toEqual(['excludeGroups', 'excludeRoles', 'excludeUsers', 'includeGroups', 'includeRoles', 'includeUsers']);
      expect(obj(c.applications)).toHaveProperty('includeApplications');
      expect(obj(p.grantControls)).toMatchObject({ operator: 'OR', customAuthenticationFactors: [], termsOfUse: [] });
    }
    expect(d.conditionalAccessPolicies.some((p) => p.state === 'enabledForReportingButNotEnforced')).toBe(true);
  });

  test('message rules: keyed by existing user ids, Graph rule shape; some users have no mailbox', () => {
    const d = demo.data;
    const users = new Map(d.users.map((u) => [str(u.id), u]));
    for (const [uid, rules] of Object.entries(d.messageRules)) {
      expect(users.get(uid)?.userType).toBe('Member');
      for (const r of rules) {
        expect(r).toMatchObject({ hasError: false, isReadOnly: false });
        expect(typeof r.isEnabled).toBe('boolean');
        expect(typeof r.sequence).toBe('number');
        expect(str(r.id)).toMatch(/^[A-Za-z0-9+/]+=*$/);
        const actions = obj(r.actions);
        for (const k of ['forwardTo', 'redirectTo', 'forwardAsAttachmentTo']) {
          if (actions[k] === undefined) continue;
          expect(Array.isArray(actions[k])).toBe(true);
          for (const rc of actions[k] as JsonObject[]) expect(str(obj(rc.emailAddress).address)).toContain('@');
        }
        for (const v of Object.values(obj(r.conditions))) expect(v).not.toBeNull();
      }
    }
    const enabledMembers = d.users.filter((u) => u.accountEnabled === true && u.userType === 'Member');
    expect(enabledMembers.some((u) => d.messageRules[str(u.id)] === undefined)).toBe(true);
  });

  test('sign-ins: full shape, all within 24 h before now', () => {
    const d = demo.data;
    const userIds = new Set(d.users.map((u) => u.id));
    expect(d.signIns.length).toBeGreaterThan(0);
    for (const s of d.signIns) {
      const t = Date.parse(str(s.createdDateTime));
      expect(t).toBeLessThanOrEqual(NOW.getTime());
      expect(NOW.getTime() - t).toBeLessThan(24 * 3_600_000);
      expect(userIds).toContain(s.userId);
      expect(typeof obj(s.status).errorCode).toBe('number');
      expect(obj(s.location)).toHaveProperty('countryOrRegion');
      for (const k of ['id', 'userPrincipalName', 'appId', 'appDisplayName', 'ipAddress', 'clientAppUsed', 'correlationId', 'conditionalAccessStatus', 'isInteractive', 'riskDetail', 'resourceDisplayName', 'deviceDetail', 'appliedConditionalAccessPolicies']) {
        expect(s).toHaveProperty(k);
      }
    }
    expect(new Set(d.signIns.map((s) => s.id)).size).toBe(d.signIns.length);
  });

  test('files: site, drive and item shapes; sharing roots only carry `shared`', () => {
    const d = demo.data;
    const classesSeen = new Set<string>();
    const assets = (obj(demo.policy.files).assets as JsonObject[]);
    for (const s of d.sites) {
      const site = s.site;
      const url = str(site.webUrl);
      expect(str(site.id)).toMatch(/^[a-z-]+\.sharepoint\.com,[0-9a-f-]{36},[0-9a-f-]{36}$/);
      expect(site.root).toEqual({});
      expect(obj(site.siteCollection).hostname).toBe(new URL(url).host);
      const match = assets.filter((a) => url.startsWith(str(a.location))).sort((a, b) => str(b.location).length - str(a.location).length)[0];
      if (match) classesSeen.add(str(match.class));
      for (const dr of s.drives) {
        const driveId = str(dr.drive.id);
        expect(driveId).toMatch(/^b![A-Za-z0-9_-]+$/);
        expect(['documentLibrary', 'business']).toContain(dr.drive.driveType);
        const first = dr.items[0];
        expect(first?.root).toEqual({});
        const seen = new Set<string>();
        for (const it of dr.items) {
          if (it !== first) {
            const parent = obj(it.parentReference);
            expect(parent.driveId).toBe(driveId);
            expect(seen).toContain(str(parent.id)); // parents before children
          }
          seen.add(str(it.id));
          expect(it.folder !== undefined || it.file !== undefined).toBe(true);
          const perms = dr.permissions[str(it.id)];
          if (perms && perms.length > 0 && perms.every((p) => p.inheritedFrom !== undefined)) {
            expect(it.shared).toBeUndefined();
          }
          if (it.shared !== undefined) {
            expect(['anonymous', 'organization', 'users']).toContain(obj(it.shared).scope);
            expect(perms?.some((p) => p.inheritedFrom === undefined)).toBe(true);
          }
          for (const p of perms ?? []) {
            expect(p.expirationDateTime).toBeDefined();
            expect(Array.isArray(p.roles)).toBe(true);
          }
        }
        for (const id of Object.keys(dr.permissions)) expect(seen).toContain(id);
      }
    }
    for (const c of ['I', 'II', 'III', 'IV']) expect(classesSeen).toContain(c);
    expect(d.sites.some((s) => str(s.site.webUrl).startsWith('https://example-my.sharepoint.com/personal/'))).toBe(true);
    expect(d.sharepointSettings.sharingCapability).toBe('externalUserAndGuestSharing');
  });

  test('policy: only policy.md keys, demo values, a valid exception covering now', () => {
    const p = demo.policy;
    for (const k of Object.keys(p)) expect(POLICY_KEYS).toContain(k);
    const org = obj(p.organization);
    expect(org).toMatchObject({ name: '西置賜行政組合', locale: 'ja', timeZone: 'Asia/Tokyo' });
    expect(Object.keys(org).sort()).toEqual(['ciso', 'departments', 'internalDomains', 'locale', 'name', 'systemAdministrators', 'timeZone']);
    const departments = new Set((org.departments as JsonObject[]).map((x) => x.name));
    for (const u of demo.data.users) if (u.department !== null) expect(departments).toContain(u.department);
    expect(Object.keys(obj(p.accounts))).toEqual(['emergencyAccessAccounts']);
    expect(obj(p.accounts).emergencyAccessAccounts).toHaveLength(1);
    expect(Object.keys(obj(p.mail))).toEqual(['approvedForwardingDomains']);
    expect(obj(p.mail).approvedForwardingDomains).toHaveLength(1);
    expect(Object.keys(obj(p.files))).toEqual(['assets']);
    for (const a of obj(p.files).assets as JsonObject[]) {
      expect(Object.keys(a).sort()).toEqual(['class', 'location', 'name', 'owner']);
      expect(['I', 'II', 'III', 'IV']).toContain(a.class);
    }
    const exceptions = p.exceptions as JsonObject[];
    expect(exceptions).toHaveLength(1);
    const e = exceptions[0] as JsonObject;
    expect(Object.keys(e).sort()).toEqual(['approvedBy', 'approvedOn', 'compensatingControl', 'expiresOn', 'reason', 'ruleId', 'subject']);
    expect(e.ruleId).toBe('ACCT-01');
    expect(str(e.approvedOn)).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(str(e.expiresOn)).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const on = Date.parse(`${str(e.approvedOn)}T00:00:00+09:00`);
    const until = Date.parse(`${str(e.expiresOn)}T00:00:00+09:00`);
    expect(until - on).toBeLessThanOrEqual(365 * 86_400_000);
    expect(on).toBeLessThan(NOW.getTime());
    expect(until).toBeGreaterThan(NOW.getTime());
    // The excepted subject is a planted ACCT-01 finding (still in the ground truth).
    const subject = demo.data.users.find((u) => u.userPrincipalName === e.subject);
    expect(demo.groundTruth.some((g) => g.ruleId === 'ACCT-01' && g.subjectId === subject?.id)).toBe(true);
  });

  test('a late-arriving sign-in: 9 failures visible at now, the 10th only from now + 10 min, the same at any size', () => {
    const d = demo.data;
    const MIN = 60_000;
    expect(demo.late.availableAt).toBe(new Date(NOW.getTime() + 10 * MIN).toISOString());
    expect(demo.late.groundTruth).toEqual([{ ruleId: 'SIGN-01', subjectId: expect.any(String), note: expect.stringMatching(/\S/) }]);
    const userId = demo.late.groundTruth[0]?.subjectId;
    // Not in the ground truth at now, and nothing else about the user is.
    expect(demo.groundTruth.filter((g) => g.subjectId === userId)).toEqual([]);
    const pending = Object.entries(d.signInAvailableAt ?? {});
    expect(pending).toEqual([[expect.any(String), demo.late.availableAt]]);
    const lateId = pending[0]?.[0];
    const mine = d.signIns.filter((s) => s.userId === userId);
    expect(mine).toHaveLength(10);
    for (const s of mine) expect(obj(s.status).errorCode).toBe(50126);
    const minutesBefore = (s: JsonObject) => (NOW.getTime() - Date.parse(str(s.createdDateTime))) / MIN;
    const visible = mine.filter((s) => s.id !== lateId);
    expect(visible).toHaveLength(9);
    for (const s of visible) {
      expect(minutesBefore(s)).toBeGreaterThan(91.5);
      expect(minutesBefore(s)).toBeLessThanOrEqual(100);
    }
    const late = mine.find((s) => s.id === lateId) as JsonObject;
    expect(minutesBefore(late)).toBeGreaterThan(90.5);
    expect(minutesBefore(late)).toBeLessThanOrEqual(91);
    // The served record is an ordinary sign-in: the latency lives beside it, not on it.
    expect(Object.keys(late).sort()).toEqual(Object.keys(visible[0] as JsonObject).sort());
    // signInActivity lags too: it does not show the late failure.
    const user = d.users.find((u) => u.id === userId) as JsonObject;
    expect(obj(user.signInActivity).lastSignInRequestId).not.toBe(lateId);
    // Its own stream: any size plants the same late case.
    const big = generateDemoTenant({ seed: 1, users: 500, now: NOW });
    expect(big.late).toEqual(demo.late);
    expect(big.data.signInAvailableAt).toEqual(d.signInAvailableAt);
  });
});
