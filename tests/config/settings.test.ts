import { loadSettings } from '../../src/config/settings';
import { ConfigError } from '../../src/errors';

describe('deployment settings', () => {
  it('reads credentials and storage from the environment, treating empty values as unset', () => {
    const s = loadSettings({ AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's3cr3t-value', TEAMS_WEBHOOK_URL: '', IDENTITY_ENDPOINT: 'http://169.254.1.1' });
    expect(s).toMatchObject({ tenantId: 't', clientId: 'c', clientSecret: 's3cr3t-value', teamsWebhookUrl: undefined, managedIdentity: true });
  });

  it('names the variables at fault and never echoes a secret', () => {
    let err: unknown;
    try {
      loadSettings({ AZURE_CLIENT_SECRET: 'super-secret-value', AZURE_CLIENT_CERTIFICATE_PATH: '/x.pem', TEAMS_WEBHOOK_URL: 'http://hook.example/abc?sig=topsecret' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toMatch(/TEAMS_WEBHOOK_URL: must start with https:\/\//);
    expect(message).not.toContain('topsecret');
    expect(message).not.toContain('super-secret-value');
  });

  it('takes a Teams webhook over https (plain http on loopback only), warns about a retired connector URL, and refuses a SAS report link', () => {
    expect(loadSettings({ TEAMS_WEBHOOK_URL: 'http://127.0.0.1:9000/hook?sig=x' }).teamsWebhookUrl).toBe('http://127.0.0.1:9000/hook?sig=x');
    const workflows = loadSettings({ TEAMS_WEBHOOK_URL: 'https://prod-01.japaneast.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s3cret' });
    expect(workflows.warnings).toEqual([]);
    const connector = loadSettings({ TEAMS_WEBHOOK_URL: 'https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456' });
    expect(connector.warnings[0]).toMatch(/^TEAMS_WEBHOOK_URL: is an Office 365 connector URL .* create a Workflows webhook/);
    expect(connector.warnings.join()).not.toContain('IncomingWebhook/123');
    expect(loadSettings({ M365_AUDIT_REPORT_URL: 'https://contoso.sharepoint.com/sites/audit/Shared%20Documents/report.html' }).reportUrl).toContain('sharepoint.com');
    let err: unknown;
    try {
      loadSettings({ M365_AUDIT_REPORT_URL: 'https://acct.blob.core.windows.net/reports/r.html?sv=2024-01-01&se=2027-01-01&sig=t0pS3cret' });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/M365_AUDIT_REPORT_URL: looks like a SAS URL/);
    expect((err as Error).message).not.toContain('t0pS3cret');
  });

  it('reads M365_AUDIT_LICENCE_COUNT as a whole number (it sizes the SharePoint resource-unit budget)', () => {
    expect(loadSettings({ M365_AUDIT_LICENCE_COUNT: '1500' }).licenceCount).toBe(1500);
    expect(loadSettings({}).licenceCount).toBeUndefined();
    expect(() => loadSettings({ M365_AUDIT_LICENCE_COUNT: 'many' })).toThrow(/M365_AUDIT_LICENCE_COUNT: a whole number of licences/);
  });

  it('requires the client id and tenant with client credentials, and one credential only', () => {
    expect(() => loadSettings({ AZURE_CLIENT_SECRET: 'x' })).toThrow(/AZURE_CLIENT_ID: required[\s\S]*AZURE_TENANT_ID: required/);
    expect(() => loadSettings({ AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 'x', AZURE_CLIENT_CERTIFICATE_PATH: '/c.pem' })).toThrow(/either a secret or AZURE_CLIENT_CERTIFICATE_PATH/);
  });

  it('reads the sign-in overlap (minutes) and refuses a value that is not a whole number in range', () => {
    expect(loadSettings({}).signInOverlapMinutes).toBeUndefined();
    expect(loadSettings({ M365_AUDIT_SIGNIN_OVERLAP_MINUTES: '180' }).signInOverlapMinutes).toBe(180);
    expect(() => loadSettings({ M365_AUDIT_SIGNIN_OVERLAP_MINUTES: '2h' })).toThrow(/M365_AUDIT_SIGNIN_OVERLAP_MINUTES: must be a whole number of minutes/);
    expect(() => loadSettings({ M365_AUDIT_SIGNIN_OVERLAP_MINUTES: '5000' })).toThrow(/M365_AUDIT_SIGNIN_OVERLAP_MINUTES: must be from 0 to 1440/);
  });
});

describe('AZURE_STORAGE_CONNECTION_STRING', () => {
  const KEY = 'c2VjcmV0LWtleS12YWx1ZS0xMjM0NTY3OA==';
  const problems = (cs: string): string => {
    try {
      loadSettings({ AZURE_STORAGE_CONNECTION_STRING: cs });
      return '';
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
  };

  it('accepts the account-key, explicit-endpoint, SAS and development forms', () => {
    expect(problems(`DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${KEY};EndpointSuffix=core.windows.net`)).toBe('');
    expect(problems(`DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;`)).toBe('');
    expect(problems('BlobEndpoint=https://acme.blob.core.windows.net;TableEndpoint=https://acme.table.core.windows.net;SharedAccessSignature=sv=2022-11-02&sig=abc%3D')).toBe('');
    expect(problems('UseDevelopmentStorage=true')).toBe('');
  });

  it('says what is missing, and never repeats the key', () => {
    expect(problems('garbage')).toMatch(/AZURE_STORAGE_CONNECTION_STRING: is not a connection string of key=value pairs/);
    const noName = problems(`DefaultEndpointsProtocol=https;AccountKey=${KEY};EndpointSuffix=core.windows.net`);
    expect(noName).toMatch(/AZURE_STORAGE_CONNECTION_STRING: AccountName is missing/);
    expect(noName).not.toContain(KEY);
    expect(problems('DefaultEndpointsProtocol=https;AccountName=acme;EndpointSuffix=core.windows.net')).toMatch(/AccountKey is missing/);
    const notBase64 = problems('DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=not base64!;EndpointSuffix=core.windows.net');
    expect(notBase64).toMatch(/AccountKey is not base64/);
    expect(notBase64).not.toContain('not base64!');
    expect(problems(`AccountName=acme;AccountKey=${KEY}`)).toMatch(/DefaultEndpointsProtocol is missing[\s\S]*no endpoint for Blob and Table storage: add EndpointSuffix=core.windows.net/);
    expect(problems(`DefaultEndpointsProtocol=https;accountname=acme;AccountKey=${KEY};EndpointSuffix=core.windows.net`)).toMatch(/key accountname must be written AccountName/);
    expect(problems('BlobEndpoint=https://acme.blob.core.windows.net;SharedAccessSignature=sv=x&sig=y')).toMatch(/a SAS connection string needs TableEndpoint/);
    expect(problems('BlobEndpoint=https://acme.blob.core.windows.net;SharedAccessSignature=sv=x&sig=y')).not.toContain('sig=y');
  });

  it('checks AzureWebJobsStorage when it is the storage used', () => {
    expect(() => loadSettings({ AzureWebJobsStorage: 'AccountName=x' })).toThrow(/AzureWebJobsStorage: AccountKey is missing/);
  });
});

describe('M365_AUDIT_TICKET_WEBHOOK_URL', () => {
  it('accepts plain http on loopback with or without a path, IPv6 loopback included', () => {
    for (const url of ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/hook', 'http://[::1]:8080', 'http://[::1]:8080/hook', 'http://localhost:9000', 'https://hooks.example.lg.jp/tickets']) {
      expect(loadSettings({ M365_AUDIT_TICKET_WEBHOOK_URL: url }).ticketWebhook?.url).toBe(url);
    }
  });

  it('refuses plain http anywhere else, naming the variable', () => {
    for (const url of ['http://hooks.example.lg.jp/tickets', 'http://127.0.0.1.example.com/x', 'http://[::2]:8080/']) {
      expect(() => loadSettings({ M365_AUDIT_TICKET_WEBHOOK_URL: url })).toThrow(/M365_AUDIT_TICKET_WEBHOOK_URL: must start with https:\/\/ \(plain http only on loopback/);
    }
  });
});
