/**
 * The infra templates against the code: app setting names against SETTING_NAMES, Key Vault
 * references against the secrets created or documented, the Graph permission lists against the
 * README's table, bicepconfig.json against the extension the module declares, and the az rest
 * script (run for real, against a fake `az` on PATH) against the same lists. Each check is also
 * run on a planted mistake, to show that it catches one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SETTING_NAMES } from '../../src/config/settings';
import { permissionFor } from '../../src/graph/graph';
import {
  checkEvidenceContainer,
  checkExtension,
  checkPermissions,
  checkTemplate,
  createdSecrets,
  keyVaultReferences,
  parseObjectVar,
  parseParams,
  parsePermissionTable,
  rolesFor,
  type GraphPermissions,
  type SettingLists,
} from './template-checks';

const root = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const mainBicep = read('infra/main.bicep');
const moduleBicep = read('infra/modules/graph-permissions.bicep');
const infraReadme = read('infra/README.md');
const readme = read('README.md');
const bicepconfig = read('infra/bicepconfig.json');
const permissions = JSON.parse(read('infra/graph-permissions.json')) as GraphPermissions;
const script = join(root, 'infra', 'grant-graph-permissions.sh');

/**
 * The lists the template is checked with. Each entry says why it is there.
 */
const lists: SettingLists = {
  code: SETTING_NAMES,
  // The Functions host's and the platform's own settings (Microsoft Learn "App settings reference
  // for Azure Functions"): identity-based host storage and Application Insights with Entra auth.
  // FUNCTIONS_EXTENSION_VERSION / FUNCTIONS_WORKER_RUNTIME are deprecated on Flex Consumption
  // (functionAppConfig.runtime), so they are not allowed here either.
  // M365_AUDIT_EVENTHUB__fullyQualifiedNamespace: the signInStream trigger's identity-based connection
  // (functions/signin-stream.ts, connection prefix M365_AUDIT_EVENTHUB), read by the host's extension.
  host: ['AzureWebJobsStorage__accountName', 'APPLICATIONINSIGHTS_CONNECTION_STRING', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', 'M365_AUDIT_EVENTHUB__fullyQualifiedNamespace'],
  // Set by the template for code that is not there yet (the timer schedules are in SETTING_NAMES now).
  pending: [],
  // Read by the code but never set in Azure, on purpose.
  omitted: {
    AZURE_CLIENT_ID: 'the system-assigned managed identity is used; a client id would select a user-assigned identity',
    AZURE_CLIENT_SECRET: 'the managed identity is used, no client secret exists in Azure',
    AZURE_CLIENT_CERTIFICATE_PATH: 'the managed identity is used, no certificate file exists in Azure',
    AZURE_CLIENT_CERTIFICATE_PASSWORD: 'the managed identity is used',
    AzureWebJobsStorage: 'the host uses its identity (AzureWebJobsStorage__accountName), never a connection string',
    AzureWebJobsStorage__blobServiceUri: 'the account is named (AzureWebJobsStorage__accountName); service URIs are for custom domains and sovereign clouds',
    AzureWebJobsStorage__tableServiceUri: 'the account is named (AzureWebJobsStorage__accountName); service URIs are for custom domains and sovereign clouds',
    AzureWebJobsStorage__queueServiceUri: 'the account is named (AzureWebJobsStorage__accountName); service URIs are for custom domains and sovereign clouds',
    IDENTITY_ENDPOINT: 'set by the platform when the managed identity exists',
    MSI_ENDPOINT: 'set by the platform when the managed identity exists',
  },
  secrets: ['TEAMS_WEBHOOK_URL', 'M365_AUDIT_TICKET_WEBHOOK_URL', 'M365_AUDIT_TICKET_WEBHOOK_SECRET', 'AZURE_STORAGE_CONNECTION_STRING'],
};

/** Areas graph-permissions.json has before the README's table has their row (the digest row comes with issue 11). */
const PENDING_README_AREAS = ['digest'];

describe('the parser', () => {
  it('reads params with their decorators, multi-line @allowed and array defaults', () => {
    const params = parseParams(`
@description('x')
@allowed([
  'a'
  'b'
])
param choice string = 'a'

@secure()
param hidden string = ''
param list array = [
  'a'
]
var notAParam = 1
`);
    expect(params.map((p) => p.name)).toEqual(['choice', 'hidden', 'list']);
    expect(params[0]?.allowed).toEqual(['a', 'b']);
    expect(params[0]?.decorators).toHaveLength(2);
    expect(params[1]?.decorators).toEqual(['@secure()']);
    expect(params[2]?.defaultText?.replace(/\s+/g, ' ')).toBe("[ 'a' ]");
  });

  it('reads the top-level entries of an object variable, not nested ones, across comments and braces in strings', () => {
    const entries = parseObjectVar(
      `var appSettings = {
  // a comment with a key-like text: NOT_A_KEY: x
  ONE: 'a{b'
  TWO: cond ? '@Microsoft.KeyVault(SecretUri=\${base}secrets/two-secret/)' : ''
  NESTED: {
    INNER: 1
  }
  THREE: string(3) // trailing comment
}
var other = { FOUR: 4 }`,
      'appSettings',
    );
    expect([...(entries?.keys() ?? [])]).toEqual(['ONE', 'TWO', 'NESTED', 'THREE']);
    expect(keyVaultReferences(entries?.get('TWO') ?? '')).toEqual(['two-secret']);
  });
});

describe('main.bicep app settings and parameters', () => {
  const settings = parseObjectVar(mainBicep, 'appSettings');

  it('sets only names the code or the host reads, covers every code setting or omits it on purpose, keeps secrets in Key Vault, and documents every parameter', () => {
    expect(checkTemplate(mainBicep, infraReadme, lists)).toEqual([]);
  });

  it('sets the settings that matter in Azure', () => {
    for (const name of ['AzureWebJobsStorage__accountName', 'AZURE_TENANT_ID', 'M365_AUDIT_POLICY_FILE', 'TEAMS_WEBHOOK_URL', 'AZURE_STORAGE_CONNECTION_STRING']) {
      expect(settings?.has(name)).toBe(true);
    }
    // Deprecated on Flex Consumption: the runtime is functionAppConfig.runtime.
    expect([...(settings?.keys() ?? [])].filter((k) => /^(FUNCTIONS_WORKER_RUNTIME|FUNCTIONS_EXTENSION_VERSION|WEBSITE_RUN_FROM_PACKAGE|WEBSITE_TIME_ZONE|WEBSITE_CONTENT.*)$/.test(k))).toEqual([]);
    expect(mainBicep).not.toMatch(/name:\s*'(FUNCTIONS_WORKER_RUNTIME|FUNCTIONS_EXTENSION_VERSION)'/);
    expect(mainBicep).toMatch(/runtime:\s*\{\s*name:\s*'node'\s*version:\s*'22'\s*\}/);
    expect(mainBicep).toMatch(/name:\s*'FC1'/);
  });

  it('references only secrets it creates or infra/README.md tells the operator to put', () => {
    const refs = [...(settings?.values() ?? [])].flatMap(keyVaultReferences);
    expect(refs.sort()).toEqual(['storage-connection-string', 'teams-webhook-url', 'ticket-webhook-secret', 'ticket-webhook-url']);
    expect(createdSecrets(mainBicep).sort()).toEqual(refs.sort());
  });

  it('keeps the evidence container immutable for evidenceRetentionDays (default five years, documented)', () => {
    expect(checkEvidenceContainer(mainBicep, infraReadme)).toEqual([]);
    expect(new Map(parseParams(mainBicep).map((p) => [p.name, p.defaultText])).get('evidenceRetentionDays')).toBe('1825');
  });

  it('catches an evidence container without its policy, a fixed period, append writes on, and an undocumented default', () => {
    const withoutPolicy = mainBicep.replace(/resource evidenceImmutability [\s\S]*?\n\}\n/, '');
    expect(checkEvidenceContainer(withoutPolicy, infraReadme)).toEqual(['the evidence container has no immutabilityPolicies resource']);
    const fixed = mainBicep.replace('immutabilityPeriodSinceCreationInDays: evidenceRetentionDays', 'immutabilityPeriodSinceCreationInDays: 7');
    expect(checkEvidenceContainer(fixed, infraReadme)).toEqual(['the immutability period is not the evidenceRetentionDays parameter']);
    const appendable = mainBicep.replace('allowProtectedAppendWrites: false', 'allowProtectedAppendWrites: true');
    expect(checkEvidenceContainer(appendable, infraReadme)).toEqual(['protected append writes are not off']);
    expect(checkEvidenceContainer(mainBicep, infraReadme.replace('| `evidenceRetentionDays` | `1825`', '| `evidenceRetentionDays` | `365`'))).toEqual(['infra/README.md does not give evidenceRetentionDays its default 1825']);
    expect(checkEvidenceContainer(mainBicep.replace("name: 'evidence'", "name: 'evidences'"), infraReadme)).toEqual(["no container named 'evidence' is declared"]);
  });

  it('keeps the schedules in UTC with their JST meaning as defaults', () => {
    const params = new Map(parseParams(mainBicep).map((p) => [p.name, p.defaultText]));
    expect(params.get('scheduleTenantScan')).toBe("'0 0 18 * * *'"); // 03:00 JST
    expect(params.get('scheduleSignInWatch')).toBe("'0 */15 * * * *'");
    expect(params.get('scheduleMonthlyDigest')).toBe("'0 0 0 1 * *'"); // 09:00 JST on the 1st
    expect(settings?.get('M365_AUDIT_SCHEDULE_TENANT_SCAN')).toBe('scheduleTenantScan');
  });

  it('catches a typo in a setting name', () => {
    const planted = mainBicep.replace('M365_AUDIT_REPORT_URL: reportUrl', 'M365_AUDIT_REPORT_URI: reportUrl');
    expect(planted).not.toBe(mainBicep);
    const problems = checkTemplate(planted, infraReadme, lists);
    expect(problems.some((p) => p.startsWith('app setting M365_AUDIT_REPORT_URI: no code reads it'))).toBe(true);
    expect(problems.some((p) => p.startsWith('app setting M365_AUDIT_REPORT_URL: the code reads it'))).toBe(true);
  });

  it('catches a code setting that is neither set nor omitted on purpose', () => {
    const problems = checkTemplate(mainBicep, infraReadme, { ...lists, code: [...lists.code, 'M365_AUDIT_NEW_SETTING'] });
    expect(problems).toEqual(['app setting M365_AUDIT_NEW_SETTING: the code reads it but the template neither sets it nor lists it as deliberately omitted']);
  });

  it('catches a secret passed in plain, a reference to a secret nobody puts, and an omitted setting that is set', () => {
    const plain = mainBicep.replace(/^ {2}TEAMS_WEBHOOK_URL: .*$/m, '  TEAMS_WEBHOOK_URL: teamsWebhookUrl');
    expect(checkTemplate(plain, infraReadme, lists)).toEqual([
      'app setting TEAMS_WEBHOOK_URL: holds a secret, so it must be a Key Vault reference (@Microsoft.KeyVault(SecretUri=…))',
      'app setting TEAMS_WEBHOOK_URL: uses the secure parameter teamsWebhookUrl directly; secrets go into Key Vault and the setting references them',
      expect.stringMatching(/^param enableTeamsAlerts \(line \d+\): is declared but never used$/),
    ]);
    const dangling = mainBicep.replace('secrets/teams-webhook-url/)', 'secrets/teams-hook/)');
    expect(checkTemplate(dangling, infraReadme, lists)).toEqual([
      'app setting TEAMS_WEBHOOK_URL: references Key Vault secret teams-hook, which the template does not create and infra/README.md does not tell anyone to put (az keyvault secret set --name teams-hook)',
    ]);
    const clientId = mainBicep.replace('AZURE_TENANT_ID: tenantId', 'AZURE_TENANT_ID: tenantId\n  AZURE_CLIENT_ID: tenantId');
    expect(checkTemplate(clientId, infraReadme, lists)[0]).toMatch(/^app setting AZURE_CLIENT_ID: is on the deliberately-omitted list/);
  });

  it('catches an undocumented, undescribed or unused parameter', () => {
    const planted = mainBicep.replace("param tags object = {}", "param tags object = {}\n\nparam forgotten string = ''");
    expect(checkTemplate(planted, infraReadme, lists)).toEqual([
      expect.stringMatching(/^param forgotten \(line \d+\): has no @description$/),
      expect.stringMatching(/^param forgotten \(line \d+\): is declared but never used$/),
      'param forgotten: infra/README.md does not say what it means (no `forgotten`)',
    ]);
  });
});

describe('Graph permissions', () => {
  it('graph-permissions.json matches the README table, main.bicep\'s choices and the module', () => {
    expect(checkPermissions(permissions, readme, mainBicep, moduleBicep, PENDING_README_AREAS)).toEqual([]);
  });

  it('reads the README table: every area, the Sites choice, and the mail row\'s users row', () => {
    const rows = parsePermissionTable(readme);
    const areas = new Set(rows.map((r) => r.area));
    expect([...areas].filter((a) => !(a in permissions.areas))).toEqual([]);
    expect(Object.keys(permissions.areas).filter((a) => !areas.has(a) && !PENDING_README_AREAS.includes(a))).toEqual([]);
    expect(areas.size).toBeGreaterThanOrEqual(7);
    expect(rows.find((r) => r.note === 'recommended')?.permissions).toEqual(['Sites.FullControl.All']);
    expect(rows.find((r) => r.area === 'mail' && r.plusUsersRow)?.permissions).toEqual(['MailboxSettings.Read']);
    expect(rows.filter((r) => r.area === 'signins').flatMap((r) => r.permissions)).toEqual(['AuditLog.Read.All', 'Directory.Read.All']);
  });

  it('gives a pending area the permission the code asks for (digest: sendMail needs Mail.Send)', () => {
    expect(permissions.areas.digest).toEqual([permissionFor('/users/ciso@example.jp/sendMail')]);
  });

  it('catches a README row and a list that disagree', () => {
    const planted = readme.replace('| `GET /domains` (what is internal) | Domain.Read.All |', '| `GET /domains` (what is internal) | Domain.ReadWrite.All |');
    expect(planted).not.toBe(readme);
    expect(checkPermissions(permissions, planted, mainBicep, moduleBicep, PENDING_README_AREAS)).toEqual([
      'graph-permissions.json area mail: differs from the README table; missing Domain.ReadWrite.All; not in the README Domain.Read.All',
    ]);
    const noDigestYet = checkPermissions(permissions, readme, mainBicep, moduleBicep, []);
    const unlisted = PENDING_README_AREAS.filter((a) => !parsePermissionTable(readme).some((r) => r.area === a));
    expect(noDigestYet).toEqual(unlisted.map((a) => `graph-permissions.json area ${a}: the README's permission table has no row for it`));
    expect(checkPermissions(permissions, readme.replace(/^\| tickets \|.*$/m, ''), mainBicep, moduleBicep, PENDING_README_AREAS)).toEqual(['graph-permissions.json area tickets: the README\'s permission table has no row for it']);
    const allowed = mainBicep.replace("  'Sites.FullControl.All'\n])", "  'Sites.Manage.All'\n])");
    expect(checkPermissions(permissions, readme, allowed, moduleBicep, PENDING_README_AREAS)).toEqual(['main.bicep filesSitesPermission: @allowed must be exactly choices.files of graph-permissions.json']);
  });
});

describe('bicepconfig.json and the Graph extension', () => {
  it('enables microsoftGraphV1, which the module declares, with @v1.0 resources', () => {
    expect(checkExtension(bicepconfig, { 'main.bicep': mainBicep, 'modules/graph-permissions.bicep': moduleBicep })).toEqual([]);
    expect(moduleBicep).toMatch(/^extension microsoftGraphV1$/m);
  });

  it('catches a missing extension entry and a module without the extension', () => {
    expect(checkExtension('{"extensions": {}}', {})).toEqual(['bicepconfig.json: extensions.microsoftGraphV1 must be br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:<version>']);
    expect(checkExtension(bicepconfig, { 'm.bicep': moduleBicep.replace('extension microsoftGraphV1', '') })).toEqual(['m.bicep: declares Microsoft.Graph resources without `extension microsoftGraphV1`']);
  });
});

/** A fake `az` on PATH: answers the script's calls from a JSON state file and records them. */
const FAKE_AZ = `#!/usr/bin/env node
const fs = require('fs');
const file = process.env.FAKE_AZ_STATE;
const state = JSON.parse(fs.readFileSync(file, 'utf8'));
const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i < 0 ? undefined : args[i + 1]; };
state.calls.push(args.join(' '));
const save = () => fs.writeFileSync(file, JSON.stringify(state));
if (args[0] === 'functionapp' && args[1] === 'identity') { save(); process.stdout.write(state.principalId + '\\n'); process.exit(0); }
if (args[0] !== 'rest') { save(); process.stderr.write('fake az: unexpected ' + args.join(' ')); process.exit(3); }
const method = opt('--method'); const url = opt('--url');
const assignments = '/v1.0/servicePrincipals/' + state.principalId + '/appRoleAssignments';
if (method === 'GET' && url.includes("servicePrincipals(appId='00000003-0000-0000-c000-000000000000')")) {
  process.stdout.write(JSON.stringify({ id: 'graph-sp', appRoles: state.graphRoles.map((v) => ({ id: 'role-' + v, value: v, allowedMemberTypes: ['Application'] })) }));
} else if (method === 'GET' && url.endsWith(assignments)) {
  process.stdout.write(JSON.stringify({ value: state.assignments }));
} else if (method === 'POST' && url.endsWith(assignments)) {
  const body = JSON.parse(opt('--body'));
  state.assignments.push({ id: 'a' + state.assignments.length + '-' + body.appRoleId, principalId: body.principalId, resourceId: body.resourceId, appRoleId: body.appRoleId });
} else if (method === 'DELETE' && url.includes(assignments + '/')) {
  const id = url.slice(url.lastIndexOf('/') + 1);
  state.assignments = state.assignments.filter((a) => a.id !== id);
} else { save(); process.stderr.write('fake az: unexpected ' + method + ' ' + url); process.exit(3); }
save();
`;

interface FakeState {
  principalId: string;
  graphRoles: string[];
  assignments: { id: string; principalId: string; resourceId: string; appRoleId: string }[];
  calls: string[];
}

describe('grant-graph-permissions.sh (az rest), against a fake az', () => {
  let dir: string;
  let stateFile: string;
  const allRoles = [...new Set([...Object.values(permissions.areas).flat(), ...(permissions.choices.files ?? []), 'Mail.ReadWrite'])];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'grant-graph-'));
    writeFileSync(join(dir, 'az'), FAKE_AZ);
    chmodSync(join(dir, 'az'), 0o755);
    stateFile = join(dir, 'state.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const setState = (s: Omit<FakeState, 'calls'>): void => writeFileSync(stateFile, JSON.stringify({ ...s, calls: [] }));
  const state = (): FakeState => JSON.parse(readFileSync(stateFile, 'utf8')) as FakeState;
  const run = (...args: string[]) =>
    spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, FAKE_AZ_STATE: stateFile } });
  const graphRolesHeld = (): string[] => state().assignments.filter((a) => a.resourceId === 'graph-sp').map((a) => a.appRoleId.replace(/^role-/, '')).sort();

  it('prints the same roles the Bicep module computes, from the same file', () => {
    for (const [areas, sites] of [['accounts,mfa,roles,mail,signins,files', 'Sites.Read.All'], ['mail,files,tickets,digest', 'Sites.FullControl.All'], ['signins', 'Sites.Read.All']] as const) {
      const out = execFileSync('bash', [script, '--print-roles', '--areas', areas, '--files-permission', sites], { encoding: 'utf8' });
      expect(out.trim().split('\n')).toEqual(rolesFor(permissions, areas.split(','), sites));
    }
  });

  it('assigns what is missing, skips what is assigned, and a second run changes nothing', () => {
    setState({ principalId: 'mi-1', graphRoles: allRoles, assignments: [{ id: 'old', principalId: 'mi-1', resourceId: 'graph-sp', appRoleId: 'role-User.Read.All' }] });
    const first = run('--principal-id', 'mi-1', '--areas', 'mail,files', '--files-permission', 'Sites.FullControl.All');
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const wanted = rolesFor(permissions, ['mail', 'files'], 'Sites.FullControl.All');
    expect(graphRolesHeld()).toEqual([...wanted].sort());
    expect(first.stdout).toContain('already assigned: User.Read.All');
    expect(state().calls.filter((c) => c.includes('--method POST'))).toHaveLength(wanted.length - 1);
    expect(first.stdout.trim().split('\n').pop()).toBe(`done: ${wanted.length - 1} assigned, 1 already assigned`);

    writeFileSync(stateFile, JSON.stringify({ ...state(), calls: [] }));
    const second = run('--principal-id', 'mi-1', '--areas', 'mail,files', '--files-permission', 'Sites.FullControl.All');
    expect(second.status).toBe(0);
    expect(state().calls.filter((c) => !c.includes('--method GET'))).toEqual([]);
    expect(second.stdout.trim().split('\n').pop()).toBe(`done: 0 assigned, ${wanted.length} already assigned`);
  });

  it('--prune removes Graph roles the areas do not need and leaves other APIs\' roles alone; --dry-run changes nothing', () => {
    setState({
      principalId: 'mi-2',
      graphRoles: allRoles,
      assignments: [
        { id: 'x1', principalId: 'mi-2', resourceId: 'graph-sp', appRoleId: 'role-Mail.ReadWrite' },
        { id: 'x2', principalId: 'mi-2', resourceId: 'graph-sp', appRoleId: 'role-AuditLog.Read.All' },
        { id: 'x3', principalId: 'mi-2', resourceId: 'other-api', appRoleId: 'role-Mail.ReadWrite' },
      ],
    });
    const dry = run('--principal-id', 'mi-2', '--areas', 'signins', '--prune', '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('would assign: Directory.Read.All');
    expect(dry.stdout).toContain('would remove: Mail.ReadWrite');
    expect(state().assignments).toHaveLength(3);
    expect(state().calls.filter((c) => !c.includes('--method GET'))).toEqual([]);

    const real = run('--principal-id', 'mi-2', '--areas', 'signins', '--prune');
    expect(real.status).toBe(0);
    expect(graphRolesHeld()).toEqual(['AuditLog.Read.All', 'Directory.Read.All']);
    expect(state().assignments.find((a) => a.resourceId === 'other-api')?.id).toBe('x3');
    expect(real.stdout.trim().split('\n').pop()).toBe('done: 1 assigned, 1 already assigned, 1 removed');
  });

  it('looks the identity up from the Function App, and stops on a role Graph does not have', () => {
    setState({ principalId: 'mi-3', graphRoles: allRoles.filter((r) => r !== 'User-LifeCycleInfo.Read.All'), assignments: [] });
    const result = run('--resource-group', 'rg', '--app-name', 'app', '--areas', 'accounts');
    expect(state().calls[0]).toBe('functionapp identity show --resource-group rg --name app --query principalId --output tsv');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Graph has no application permission named User-LifeCycleInfo.Read.All (check graph-permissions.json)');
  });

  it('refuses an unknown area or Sites permission, naming the option', () => {
    const area = run('--print-roles', '--areas', 'accounts,mailbox');
    expect(area.status).toBe(1);
    expect(area.stderr).toContain("--areas: unknown area 'mailbox'");
    const sites = run('--print-roles', '--files-permission', 'Sites.Manage.All');
    expect(sites.status).toBe(1);
    expect(sites.stderr).toContain('--files-permission: must be one of Sites.Read.All, Sites.FullControl.All');
  });
});
