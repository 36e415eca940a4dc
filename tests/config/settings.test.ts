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
