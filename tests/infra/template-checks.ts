/**
 * Text checks of the Bicep templates against the code. The Bicep CLI cannot be installed here (it
 * downloads a binary), so the templates are read as text by a small, tolerant parser: `param`
 * declarations with their decorators, the entries of an object variable (the app settings), Key
 * Vault references, the Key Vault secrets a template creates. Every check returns problems (empty
 * when fine) rather than throwing, so that the tests can also run it on planted mistakes.
 */

/** A `param` declaration. */
export interface BicepParam {
  name: string;
  type: string;
  /** The default value's text, when there is one (may span lines). */
  defaultText: string | undefined;
  /** Decorator texts above it, e.g. `@secure()`, `@allowed([ 'a' 'b' ])`. */
  decorators: string[];
  /** Values of `@allowed([...])`, when present. */
  allowed: string[] | undefined;
  /** The 1-based line of the declaration. */
  line: number;
}

/** Removes a `//` comment from a line, outside single-quoted strings. */
function stripComment(line: string): string {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === "'") inString = false;
    } else if (c === "'") inString = true;
    else if (c === '/' && line[i + 1] === '/') return line.slice(0, i);
  }
  return line;
}

/** A line without its comment and its string literals' text, keeping `${…}` interpolations (code only). */
function codeOnly(line: string): string {
  return stripComment(line).replace(/'((?:[^'\\]|\\.)*)'/g, (_m, body: string) => ` ${[...body.matchAll(/\$\{([^}]*)\}/g)].map((x) => x[1]).join(' ')} `);
}

/** Net bracket depth change of a line ({, [, ( against their closers), outside strings. */
function depthDelta(line: string): number {
  let d = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === "'") inString = false;
      continue;
    }
    if (c === "'") inString = true;
    else if (c === '{' || c === '[' || c === '(') d++;
    else if (c === '}' || c === ']' || c === ')') d--;
  }
  return d;
}

/** Reads lines from `start` until the brackets opened there are closed; returns the text and the next index. */
function readBalanced(lines: string[], start: number): { text: string; next: number } {
  let depth = 0;
  const parts: string[] = [];
  let i = start;
  do {
    const l = stripComment(lines[i] ?? '');
    parts.push(l);
    depth += depthDelta(l);
    i++;
  } while (depth > 0 && i < lines.length);
  return { text: parts.join('\n'), next: i };
}

/** The single-quoted string literals of a text. */
export function stringLiterals(text: string): string[] {
  return [...text.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => (m[1] ?? '').replace(/\\'/g, "'"));
}

/** Every `param` of a Bicep file, with its decorators. */
export function parseParams(bicep: string): BicepParam[] {
  const lines = bicep.split('\n');
  const params: BicepParam[] = [];
  let decorators: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const line = stripComment(lines[i] ?? '').trim();
    if (line.startsWith('@')) {
      const { text, next } = readBalanced(lines, i);
      decorators.push(text.trim());
      i = next;
      continue;
    }
    const m = /^param\s+([A-Za-z_]\w*)\s+([A-Za-z_]\w*)(?:\s*=\s*(.*))?$/.exec(line);
    if (m) {
      const { text, next } = readBalanced(lines, i);
      const defaultText = m[3] === undefined ? undefined : text.slice(text.indexOf('=') + 1).trim();
      const allowedDecorator = decorators.find((d) => d.startsWith('@allowed'));
      params.push({
        name: m[1] ?? '',
        type: m[2] ?? '',
        defaultText,
        decorators,
        allowed: allowedDecorator ? stringLiterals(allowedDecorator) : undefined,
        line: i + 1,
      });
      decorators = [];
      i = next;
      continue;
    }
    if (line !== '') decorators = [];
    i++;
  }
  return params;
}

/** The entries (key → value text) of `var <name> = { ... }`, at its top level. */
export function parseObjectVar(bicep: string, name: string): Map<string, string> | undefined {
  const lines = bicep.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\s*var\\s+${name}\\s*=\\s*\\{`).test(l));
  if (start < 0) return undefined;
  const entries = new Map<string, string>();
  let depth = depthDelta(stripComment(lines[start] ?? ''));
  for (let i = start + 1; i < lines.length && depth > 0; ) {
    const l = stripComment(lines[i] ?? '');
    const m = depth === 1 ? /^\s*([A-Za-z_][\w]*|'[^']+')\s*:\s*(.*)$/.exec(l) : null;
    if (m) {
      const { text, next } = readBalanced(lines, i);
      const key = (m[1] ?? '').replace(/^'|'$/g, '');
      entries.set(key, text.slice(text.indexOf(':') + 1).trim());
      depth += depthDelta(text);
      i = next;
      continue;
    }
    depth += depthDelta(l);
    i++;
  }
  return entries;
}

/** Secret names of the `@Microsoft.KeyVault(SecretUri=…/secrets/<name>/…)` references in a text. */
export function keyVaultReferences(text: string): string[] {
  return [...text.matchAll(/@Microsoft\.KeyVault\(SecretUri=[^)]*?secrets\/([A-Za-z0-9-]+)(?:\/[^)]*)?\)/g)].map((m) => m[1] ?? '');
}

/** Names of the `Microsoft.KeyVault/vaults/secrets` resources a template declares. */
export function createdSecrets(bicep: string): string[] {
  const names: string[] = [];
  const re = /^resource\s+\w+\s+'Microsoft\.KeyVault\/vaults\/secrets@[^']+'/gm;
  for (const m of bicep.matchAll(re)) {
    const rest = bicep.slice((m.index ?? 0) + m[0].length);
    const name = /\bname:\s*'([^']+)'/.exec(rest);
    if (name?.[1]) names.push(name[1]);
  }
  return names;
}

/** Secrets a README tells the operator to put: `az keyvault secret set … --name <name>`. */
export function documentedSecrets(readme: string): string[] {
  return [...readme.matchAll(/az keyvault secret set\b[^\n]*?--name\s+([A-Za-z0-9-]+)/g)].map((m) => m[1] ?? '');
}

/** What the template check knows beyond the code's own settings. */
export interface SettingLists {
  /** SETTING_NAMES of src/config/settings.ts. */
  code: readonly string[];
  /** Settings of the Functions host / platform the template may set. */
  host: readonly string[];
  /** Settings other branches add to the code, allowed until SETTING_NAMES has them. */
  pending: readonly string[];
  /** Settings the code reads that the template deliberately never sets, with why. */
  omitted: Readonly<Record<string, string>>;
  /** Settings that hold secrets: only ever Key Vault references. */
  secrets: readonly string[];
}

/** Problems of the app settings and parameters of a template (empty: none). */
export function checkTemplate(bicep: string, infraReadme: string, lists: SettingLists): string[] {
  const problems: string[] = [];
  const settings = parseObjectVar(bicep, 'appSettings');
  if (!settings) return ['main.bicep: no `var appSettings = { … }` object'];
  const known = new Set([...lists.code, ...lists.host, ...lists.pending]);
  for (const name of settings.keys()) {
    if (!known.has(name)) problems.push(`app setting ${name}: no code reads it (not in SETTING_NAMES, the host allow-list or the pending list) — a typo?`);
    if (name in lists.omitted) problems.push(`app setting ${name}: is on the deliberately-omitted list (${lists.omitted[name]}) but the template sets it`);
  }
  for (const name of lists.code) {
    if (!settings.has(name) && !(name in lists.omitted)) problems.push(`app setting ${name}: the code reads it but the template neither sets it nor lists it as deliberately omitted`);
  }
  const params = parseParams(bicep);
  const secureParams = params.filter((p) => p.decorators.some((d) => d.startsWith('@secure'))).map((p) => p.name);
  const created = new Set(createdSecrets(bicep));
  const documented = new Set(documentedSecrets(infraReadme));
  for (const [name, value] of settings) {
    const refs = keyVaultReferences(value);
    if (lists.secrets.includes(name) && refs.length === 0) problems.push(`app setting ${name}: holds a secret, so it must be a Key Vault reference (@Microsoft.KeyVault(SecretUri=…))`);
    for (const p of secureParams) {
      if (new RegExp(`\\b${p}\\b`).test(value)) problems.push(`app setting ${name}: uses the secure parameter ${p} directly; secrets go into Key Vault and the setting references them`);
    }
    for (const secret of refs) {
      if (!created.has(secret) && !documented.has(secret)) problems.push(`app setting ${name}: references Key Vault secret ${secret}, which the template does not create and infra/README.md does not tell anyone to put (az keyvault secret set --name ${secret})`);
    }
  }
  for (const p of params) {
    if (!p.decorators.some((d) => d.startsWith('@description'))) problems.push(`param ${p.name} (line ${p.line}): has no @description`);
    const uses = bicep.split('\n').filter((l, i) => i !== p.line - 1 && new RegExp(`\\b${p.name}\\b`).test(codeOnly(l))).length;
    if (uses === 0) problems.push(`param ${p.name} (line ${p.line}): is declared but never used`);
    if (!infraReadme.includes(`\`${p.name}\``)) problems.push(`param ${p.name}: infra/README.md does not say what it means (no \`${p.name}\`)`);
  }
  return problems;
}

/** The Graph permission lists (infra/graph-permissions.json). */
export interface GraphPermissions {
  graphAppId: string;
  areas: Record<string, string[]>;
  choices: Record<string, string[]>;
}

/** One row of the README's "Graph permissions" table, reduced to what matters here. */
export interface PermissionRow {
  area: string;
  /** The area cell carried a note, e.g. "files (recommended)". */
  note: string | undefined;
  permissions: string[];
  /** "(plus the users row)": the row also needs the accounts row. */
  plusUsersRow: boolean;
}

/** Rows of the table under `## Graph permissions` in the top-level README. */
export function parsePermissionTable(readme: string): PermissionRow[] {
  const start = readme.indexOf('\n## Graph permissions');
  if (start < 0) return [];
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const rows: PermissionRow[] = [];
  const tableLines = section.split('\n').filter((l) => l.trim().startsWith('|'));
  for (const line of tableLines.slice(2)) {
    const cells = line.replace(/\\\|/g, '\u0000').split('|').slice(1, -1).map((c) => c.trim());
    const [areaCell, , permissionCell] = cells;
    if (areaCell === undefined || permissionCell === undefined) continue;
    const m = /^([a-z]+)\s*(?:\((.+)\))?$/.exec(areaCell);
    if (!m) continue;
    rows.push({
      area: m[1] ?? '',
      note: m[2],
      permissions: [...permissionCell.matchAll(/\b[A-Z][A-Za-z]*(?:-[A-Za-z]+)*(?:\.[A-Za-z]+)+\b/g)].map((x) => x[0]),
      plusUsersRow: /plus the users row/i.test(permissionCell),
    });
  }
  return rows;
}

function sameSet(a: Iterable<string>, b: Iterable<string>): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
}

/** Problems of graph-permissions.json against the README table and the templates (empty: none). */
export function checkPermissions(json: GraphPermissions, readme: string, mainBicep: string, moduleBicep: string, pendingAreas: readonly string[]): string[] {
  const problems: string[] = [];
  const rows = parsePermissionTable(readme);
  if (rows.length === 0) return ['README.md: no table under "## Graph permissions"'];
  const byArea = new Map<string, Set<string>>();
  for (const row of rows) {
    const set = byArea.get(row.area) ?? new Set<string>();
    row.permissions.forEach((p) => set.add(p));
    byArea.set(row.area, set);
  }
  for (const row of rows.filter((r) => r.plusUsersRow)) {
    for (const p of byArea.get('accounts') ?? []) byArea.get(row.area)?.add(p);
  }
  for (const [area, perms] of byArea) {
    const listed = json.areas[area];
    if (!listed) {
      problems.push(`graph-permissions.json: the README's area ${area} has no list`);
      continue;
    }
    const expected = [...listed, ...(json.choices[area] ?? [])];
    if (!sameSet(expected, perms)) {
      const missing = [...perms].filter((p) => !expected.includes(p));
      const extra = expected.filter((p) => !perms.has(p));
      problems.push(`graph-permissions.json area ${area}: differs from the README table${missing.length ? `; missing ${missing.join(', ')}` : ''}${extra.length ? `; not in the README ${extra.join(', ')}` : ''}`);
    }
    if (new Set(listed).size !== listed.length) problems.push(`graph-permissions.json area ${area}: lists a permission twice`);
  }
  for (const row of rows.filter((r) => r.note)) {
    const choices = json.choices[row.area] ?? [];
    for (const p of row.permissions) {
      if (!choices.includes(p)) problems.push(`graph-permissions.json: the README row "${row.area} (${row.note})" names ${p}, which is not among choices.${row.area}`);
    }
  }
  for (const area of Object.keys(json.areas)) {
    if (!byArea.has(area) && !pendingAreas.includes(area)) problems.push(`graph-permissions.json area ${area}: the README's permission table has no row for it`);
  }
  const main = new Map(parseParams(mainBicep).map((p) => [p.name, p]));
  const areasParam = main.get('graphPermissionAreas');
  if (!areasParam?.allowed || !sameSet(areasParam.allowed, Object.keys(json.areas))) problems.push('main.bicep graphPermissionAreas: @allowed must be exactly the areas of graph-permissions.json');
  for (const d of areasParam?.defaultText ? stringLiterals(areasParam.defaultText) : []) {
    if (!(d in json.areas)) problems.push(`main.bicep graphPermissionAreas: default area ${d} is not in graph-permissions.json`);
  }
  const sitesParam = main.get('filesSitesPermission');
  if (!sitesParam?.allowed || !sameSet(sitesParam.allowed, json.choices.files ?? [])) problems.push('main.bicep filesSitesPermission: @allowed must be exactly choices.files of graph-permissions.json');
  if (!/loadJsonContent\('\.\.\/graph-permissions\.json'\)/.test(moduleBicep)) problems.push('modules/graph-permissions.bicep: does not load ../graph-permissions.json (one source of truth for the lists)');
  if (!/'Microsoft\.Graph\/servicePrincipals@v1\.0'\s+existing/.test(moduleBicep) || !/permissions\.graphAppId/.test(moduleBicep)) problems.push('modules/graph-permissions.bicep: does not look up the Graph service principal by graphAppId');
  if (!/'Microsoft\.Graph\/appRoleAssignedTo@v1\.0'/.test(moduleBicep)) problems.push('modules/graph-permissions.bicep: no Microsoft.Graph/appRoleAssignedTo@v1.0 resource');
  if (json.graphAppId !== '00000003-0000-0000-c000-000000000000') problems.push('graph-permissions.json graphAppId: is not Microsoft Graph\'s appId');
  return problems;
}

/** Problems of bicepconfig.json and the extension declarations (empty: none). */
export function checkExtension(bicepconfig: string, templates: Record<string, string>): string[] {
  const problems: string[] = [];
  let config: { extensions?: Record<string, unknown> };
  try {
    config = JSON.parse(bicepconfig) as typeof config;
  } catch (err) {
    return [`bicepconfig.json: not JSON (${(err as Error).message})`];
  }
  const ref = config.extensions?.microsoftGraphV1;
  if (typeof ref !== 'string' || !/^br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:\d+\.\d+\.\d+$/.test(ref)) {
    problems.push('bicepconfig.json: extensions.microsoftGraphV1 must be br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:<version>');
  }
  for (const [file, text] of Object.entries(templates)) {
    const usesGraph = /'Microsoft\.Graph\//.test(text);
    if (usesGraph && !/^extension\s+microsoftGraphV1\s*$/m.test(text)) problems.push(`${file}: declares Microsoft.Graph resources without \`extension microsoftGraphV1\``);
    for (const m of text.matchAll(/'Microsoft\.Graph\/[A-Za-z/]+@([^']+)'/g)) {
      if (m[1] !== 'v1.0') problems.push(`${file}: Microsoft.Graph resource with API version ${m[1]} (the v1.0 extension serves @v1.0)`);
    }
  }
  return problems;
}

/** The roles the chosen areas need, as the Bicep module computes them (flatten, then union). */
export function rolesFor(json: GraphPermissions, areas: readonly string[], sites: string): string[] {
  const roles = areas.flatMap((a) => json.areas[a] ?? []);
  if (areas.includes('files')) roles.push(sites);
  return [...new Set(roles)];
}

/**
 * The evidence container (src/store/evidence.ts, 5-3-2): declared as a container named `evidence`
 * (the name Store.connect uses), with a child `immutabilityPolicies` resource named `default`
 * whose period is the `evidenceRetentionDays` parameter, protected append writes off (records
 * are block blobs written once), and that parameter documented with its default in infra/README.md.
 * Returns every problem found.
 */
export function checkEvidenceContainer(bicep: string, infraReadme: string): string[] {
  const problems: string[] = [];
  const container = /resource (\w+) 'Microsoft\.Storage\/storageAccounts\/blobServices\/containers@[\w-]+' = \{\s*parent: \w+\s*name: 'evidence'/.exec(bicep);
  if (!container) return ["no container named 'evidence' is declared"];
  const symbol = container[1] ?? '';
  const policy = new RegExp(`resource \\w+ 'Microsoft\\.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@[\\w-]+' = \\{([\\s\\S]*?)\\n\\}`).exec(bicep);
  if (!policy) return ['the evidence container has no immutabilityPolicies resource'];
  const body = policy[1] ?? '';
  if (!new RegExp(`parent: ${symbol}\\b`).test(body)) problems.push(`the immutability policy's parent is not the evidence container (${symbol})`);
  if (!/name: 'default'/.test(body)) problems.push("the immutability policy is not named 'default'");
  if (!/immutabilityPeriodSinceCreationInDays: evidenceRetentionDays\b/.test(body)) problems.push('the immutability period is not the evidenceRetentionDays parameter');
  if (!/allowProtectedAppendWrites: false\b/.test(body)) problems.push('protected append writes are not off');
  const param = parseParams(bicep).find((p) => p.name === 'evidenceRetentionDays');
  if (!param) problems.push('no evidenceRetentionDays parameter');
  else if (!new RegExp(`\\| \`evidenceRetentionDays\` \\| \`${param.defaultText}\``).test(infraReadme)) problems.push(`infra/README.md does not give evidenceRetentionDays its default ${param.defaultText}`);
  return problems;
}
