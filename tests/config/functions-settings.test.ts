/**
 * The Functions' settings: timer schedules (6-field NCRONTAB in UTC, named when wrong) and the
 * identity-based storage settings (AzureWebJobsStorage__*), down to the storage clients they make
 * (built without any network call: the credential is only asked for a token on the first request).
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import { loadSettings, ncrontabProblem, scheduleFromEnv, SCHEDULE_DEFAULTS } from '../../src/config/settings';
import { ConfigError } from '../../src/errors';
import { depsFromSettings } from '../../src/runtime';
import { storeClients } from '../../src/store/store';

describe('ncrontabProblem', () => {
  it.each(['0 0 18 * * *', '0 */15 * * * *', '0 0 0 1 * *', '0 30 9 * * MON-FRI', '0 0,30 8-17 * JAN,JUL 1-5', '59 59 23 31 12 6'])('accepts %s', (text) => {
    expect(ncrontabProblem(text)).toBeUndefined();
  });

  it.each([
    ['*/15 * * * *', /6 fields .*got 5/],
    ['0 0 18 * * * *', /got 7/],
    ['0 0 24 * * *', /hour field "24" must be from 0 to 23/],
    ['0 60 1 * * *', /minute field "60" must be from 0 to 59/],
    ['0 0 0 0 * *', /day field "0" must be from 1 to 31/],
    ['0 0 0 1 13 *', /month field "13" must be from 1 to 12/],
    ['0 0 0 * * 7', /day-of-week field "7" must be from 0 to 6/],
    ['0 */0 * * * *', /minute field "\*\/0" is not/],
    ['0 0 18 * * FUNDAY', /day-of-week field "FUNDAY" must be from 0 to 6/],
    ['00:15:00', /6 fields .*got 1/],
  ])('refuses %s', (text, problem) => {
    expect(ncrontabProblem(text)).toMatch(problem);
  });
});

describe('scheduleFromEnv', () => {
  it('gives the default when the setting is unset or empty, and the setting when it is valid', () => {
    expect(scheduleFromEnv('M365_AUDIT_SCHEDULE_TENANT_SCAN', {})).toBe('0 0 18 * * *');
    expect(scheduleFromEnv('M365_AUDIT_SCHEDULE_SIGNIN_WATCH', { M365_AUDIT_SCHEDULE_SIGNIN_WATCH: '  ' })).toBe(SCHEDULE_DEFAULTS.M365_AUDIT_SCHEDULE_SIGNIN_WATCH);
    expect(scheduleFromEnv('M365_AUDIT_SCHEDULE_MONTHLY_DIGEST', { M365_AUDIT_SCHEDULE_MONTHLY_DIGEST: '0 0 1 1 * *' })).toBe('0 0 1 1 * *');
  });

  it('names the variable, the problem and the default when the setting is not NCRONTAB', () => {
    const run = (): string => scheduleFromEnv('M365_AUDIT_SCHEDULE_TENANT_SCAN', { M365_AUDIT_SCHEDULE_TENANT_SCAN: '0 3 * * *' });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/M365_AUDIT_SCHEDULE_TENANT_SCAN: must be an NCRONTAB expression of 6 fields .* \(default 0 0 18 \* \* \*\)/);
  });

  it('is checked by loadSettings too, naming the variable', () => {
    expect(() => loadSettings({ M365_AUDIT_SCHEDULE_SIGNIN_WATCH: '0 0 25 * * *' })).toThrow(/M365_AUDIT_SCHEDULE_SIGNIN_WATCH: the hour field "25" must be from 0 to 23; write it in UTC/);
  });
});

describe('identity-based storage settings', () => {
  it('derives the endpoints from AzureWebJobsStorage__accountName', () => {
    expect(loadSettings({ AzureWebJobsStorage__accountName: 'stm365audit01' }).storageIdentity).toEqual({
      blobServiceUri: 'https://stm365audit01.blob.core.windows.net',
      tableServiceUri: 'https://stm365audit01.table.core.windows.net',
      queueServiceUri: 'https://stm365audit01.queue.core.windows.net',
    });
    expect(loadSettings({}).storageIdentity).toBeUndefined();
  });

  it('takes the service URIs as given (custom domains, sovereign clouds)', () => {
    const s = loadSettings({ AzureWebJobsStorage__blobServiceUri: 'https://st.blob.core.usgovcloudapi.net', AzureWebJobsStorage__tableServiceUri: 'https://st.table.core.usgovcloudapi.net' });
    expect(s.storageIdentity).toEqual({ blobServiceUri: 'https://st.blob.core.usgovcloudapi.net', tableServiceUri: 'https://st.table.core.usgovcloudapi.net', queueServiceUri: 'https://st.queue.core.usgovcloudapi.net' });
  });

  it('names what is missing or wrong', () => {
    expect(() => loadSettings({ AzureWebJobsStorage__blobServiceUri: 'https://st.blob.core.windows.net' })).toThrow(/AzureWebJobsStorage__tableServiceUri: required with AzureWebJobsStorage__blobServiceUri/);
    expect(() => loadSettings({ AzureWebJobsStorage__accountName: 'DefaultEndpointsProtocol=https;AccountName=x' })).toThrow(/AzureWebJobsStorage__accountName: must be a storage account name/);
    expect(() => loadSettings({ AzureWebJobsStorage__tableServiceUri: 'http://st.table.core.windows.net', AzureWebJobsStorage__blobServiceUri: 'https://st.blob.core.windows.net' })).toThrow(/AzureWebJobsStorage__tableServiceUri: must start with https:\/\//);
  });

  it('makes table and blob clients on those endpoints with the credential, calling nothing yet', () => {
    const getToken = jest.fn(async (): Promise<AccessToken> => ({ token: 't', expiresOnTimestamp: Date.now() + 3600_000 }));
    const credential: TokenCredential = { getToken };
    const endpoints = loadSettings({ AzureWebJobsStorage__accountName: 'stm365audit01' }).storageIdentity;
    if (!endpoints) throw new Error('no endpoints');
    const clients = storeClients({ endpoints, credential });
    expect(clients.service.url).toBe('https://stm365audit01.table.core.windows.net');
    const ledger = clients.table('ledger');
    expect(ledger.url).toBe('https://stm365audit01.table.core.windows.net');
    expect(ledger.tableName).toBe('ledger');
    expect(clients.blobs.url).toBe('https://stm365audit01.blob.core.windows.net/');
    expect(clients.blobs.getContainerClient('reports').url).toBe('https://stm365audit01.blob.core.windows.net/reports');
    expect(clients.blobs.credential).toBe(credential);
    expect(getToken).not.toHaveBeenCalled();
  });

  it('still makes the connection-string clients (Azurite) as before', () => {
    const clients = storeClients(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
    expect(clients.service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(clients.blobs.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  });
});

describe('depsFromSettings', () => {
  it('names the storage settings to set when neither a connection string nor the identity-based ones are there', async () => {
    await expect(depsFromSettings(loadSettings({ AZURE_TENANT_ID: '00000000-0000-4000-8000-000000000001' }))).rejects.toThrow(/AzureWebJobsStorage__accountName: set it to the storage account of the ledger .*or set AZURE_STORAGE_CONNECTION_STRING/);
  });
});
