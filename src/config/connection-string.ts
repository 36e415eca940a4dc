/**
 * Checks an Azure Storage connection string before the SDKs see it. The SDKs' own parsers fail
 * with "Cannot read properties of undefined (reading 'toLowerCase')" or "Invalid TableEndpoint in
 * the provided SAS Connection String" for a string that lacks an account name or key, which says
 * neither what is missing nor how to fix it.
 *
 * The forms accepted are those of "Configure a connection string" (Azure Storage docs):
 * `UseDevelopmentStorage=true` (Azurite); an account key string
 * (`DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net`,
 * or with explicit `BlobEndpoint=`/`TableEndpoint=` URLs); and a SAS string
 * (`BlobEndpoint=…;TableEndpoint=…;SharedAccessSignature=…`). The ledger uses both Tables and
 * Blobs, so both endpoints must be reachable from the string. The problems name keys only: the
 * string holds the account key, and no value of it is ever repeated.
 */

/** Keys of a storage connection string ("Configure a connection string"), exact case. */
const KNOWN_KEYS = [
  'DefaultEndpointsProtocol', 'AccountName', 'AccountKey', 'EndpointSuffix', 'SharedAccessSignature',
  'BlobEndpoint', 'TableEndpoint', 'QueueEndpoint', 'FileEndpoint',
  'BlobSecondaryEndpoint', 'TableSecondaryEndpoint', 'QueueSecondaryEndpoint', 'FileSecondaryEndpoint',
  'UseDevelopmentStorage', 'DevelopmentStorageProxyUri',
] as const;

/**
 * What is wrong with a storage connection string, one line per problem, each starting with
 * `variable:`; empty when it is usable. Never includes any value from the string.
 */
export function storageConnectionStringProblems(text: string, variable: string): string[] {
  const parts = new Map<string, string>();
  const problems: string[] = [];
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) {
      problems.push(`${variable}: is not a connection string of key=value pairs separated by ';' (copy it from the storage account's "Access keys" page)`);
      return problems;
    }
    const key = part.slice(0, eq).trim();
    const known = KNOWN_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
    if (!known) problems.push(`${variable}: unknown key ${key.slice(0, 40)} (the keys are ${KNOWN_KEYS.slice(0, 7).join(', ')}, …)`);
    else if (known !== key) problems.push(`${variable}: key ${key} must be written ${known} (the storage SDKs read keys case-sensitively)`);
    else parts.set(known, part.slice(eq + 1).trim());
  }
  if (problems.length) return problems;
  if (parts.get('UseDevelopmentStorage')?.toLowerCase() === 'true') return [];

  const endpointProblem = (key: 'BlobEndpoint' | 'TableEndpoint'): string | undefined => {
    const value = parts.get(key);
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${variable}: ${key} must be an https:// URL`;
    } catch {
      return `${variable}: ${key} is not a URL (e.g. https://ACCOUNT.${key === 'BlobEndpoint' ? 'blob' : 'table'}.core.windows.net)`;
    }
    return undefined;
  };
  for (const key of ['BlobEndpoint', 'TableEndpoint'] as const) {
    const p = endpointProblem(key);
    if (p) problems.push(p);
  }

  if (parts.has('SharedAccessSignature') && !parts.has('AccountKey')) {
    if (!parts.get('SharedAccessSignature')) problems.push(`${variable}: SharedAccessSignature is empty`);
    for (const key of ['BlobEndpoint', 'TableEndpoint'] as const) {
      if (!parts.get(key)) problems.push(`${variable}: a SAS connection string needs ${key} (the ledger uses both Blob and Table storage)`);
    }
    return problems;
  }

  if (!parts.get('AccountName')) problems.push(`${variable}: AccountName is missing (the storage account's name)`);
  const key = parts.get('AccountKey');
  if (!key) problems.push(`${variable}: AccountKey is missing (one of the storage account's access keys), or use a SharedAccessSignature with BlobEndpoint and TableEndpoint`);
  else if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) problems.push(`${variable}: AccountKey is not base64 (copy the key again; it ends in ==)`);
  const protocol = parts.get('DefaultEndpointsProtocol');
  // @azure/storage-blob treats a string without DefaultEndpointsProtocol as a SAS string.
  if (!protocol) problems.push(`${variable}: DefaultEndpointsProtocol is missing (https; http only for Azurite)`);
  else if (!['https', 'http'].includes(protocol.toLowerCase())) problems.push(`${variable}: DefaultEndpointsProtocol must be https (or http for Azurite)`);
  const missing = (['BlobEndpoint', 'TableEndpoint'] as const).filter((k) => !parts.get(k));
  if (missing.length && !parts.get('EndpointSuffix')) {
    problems.push(`${variable}: no endpoint for ${missing.map((k) => k.replace('Endpoint', '')).join(' and ')} storage: add EndpointSuffix=core.windows.net (or ${missing.join(' and ')})`);
  }
  return problems;
}
