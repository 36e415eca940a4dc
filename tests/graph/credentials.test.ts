/**
 * Token authority and credential failures. National clouds take their tokens from their own
 * authority ("Microsoft Graph national cloud deployments"), so the credential must be built with
 * it; and a credential that cannot give a token stops the run at once (CredentialError naming the
 * variable to fix) instead of being retried as a network failure.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationRequiredError, ClientCertificateCredential, ClientSecretCredential, CredentialUnavailableError, type TokenCredential } from '@azure/identity';
import { generate } from 'selfsigned';
import { loadSettings } from '../../src/config/settings';
import { validatePolicy } from '../../src/config/policy';
import { ConfigError, CredentialError } from '../../src/errors';
import { authorityHostFor, chooseCredential, createGraphClient, graphScope, guardCredential, isNetworkFailure } from '../../src/graph/client';
import { Graph } from '../../src/graph/graph';
import { runScan } from '../../src/pipeline';
import { startTestSim, type TestSim } from '../support/sim';

// The real classes, observed: what each credential is constructed with.
jest.mock('@azure/identity', () => {
  const actual = jest.requireActual<typeof import('@azure/identity')>('@azure/identity');
  return {
    ...actual,
    ClientSecretCredential: jest.fn().mockImplementation((...args: ConstructorParameters<typeof actual.ClientSecretCredential>) => new actual.ClientSecretCredential(...args)),
    ClientCertificateCredential: jest.fn().mockImplementation((...args: ConstructorParameters<typeof actual.ClientCertificateCredential>) => new actual.ClientCertificateCredential(...args)),
  };
});

const TENANT = '00000000-0000-0000-0000-0000000000aa';
const CLIENT = '00000000-0000-0000-0000-0000000000bb';

describe('token authority', () => {
  it.each([
    ['https://graph.microsoft.com', 'https://login.microsoftonline.com'],
    ['https://graph.microsoft.us', 'https://login.microsoftonline.us'],
    ['https://dod-graph.microsoft.us', 'https://login.microsoftonline.us'],
    ['https://microsoftgraph.chinacloudapi.cn', 'https://login.chinacloudapi.cn'],
  ])('%s takes its tokens from %s, with the scope of its own origin', (graphUrl, authority) => {
    expect(authorityHostFor(graphUrl)).toBe(authority);
    expect(graphScope(graphUrl)).toBe(`${graphUrl}/.default`);
  });

  it('takes AZURE_AUTHORITY_HOST for a host it does not know, and refuses one of another cloud', () => {
    expect(authorityHostFor('https://graph.proxy.example.lg.jp')).toBeUndefined();
    expect(authorityHostFor('https://graph.proxy.example.lg.jp', 'https://login.microsoftonline.us/')).toBe('https://login.microsoftonline.us');
    expect(authorityHostFor('https://graph.microsoft.us', 'https://login.microsoftonline.us')).toBe('https://login.microsoftonline.us');
    expect(() => authorityHostFor('https://graph.microsoft.us', 'https://login.microsoftonline.com')).toThrow(ConfigError);
    expect(() => authorityHostFor('https://graph.microsoft.us', 'https://login.microsoftonline.com')).toThrow(/AZURE_AUTHORITY_HOST: graph\.microsoft\.us takes tokens from https:\/\/login\.microsoftonline\.us/);
  });

  it('validates AZURE_AUTHORITY_HOST as a setting', () => {
    expect(loadSettings({ AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/' }).authorityHost).toBe('https://login.microsoftonline.us');
    expect(() => loadSettings({ AZURE_AUTHORITY_HOST: 'login.microsoftonline.us' })).toThrow(/AZURE_AUTHORITY_HOST/);
  });

  it('builds the secret and certificate credentials with the authority of the Graph host', () => {
    const secret = loadSettings({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_SECRET: 'not-a-real-secret' });
    chooseCredential('https://graph.microsoft.us', secret);
    expect(ClientSecretCredential).toHaveBeenLastCalledWith(TENANT, CLIENT, 'not-a-real-secret', { authorityHost: 'https://login.microsoftonline.us' });
    chooseCredential('https://microsoftgraph.chinacloudapi.cn', secret);
    expect(ClientSecretCredential).toHaveBeenLastCalledWith(TENANT, CLIENT, 'not-a-real-secret', { authorityHost: 'https://login.chinacloudapi.cn' });
    const cert = loadSettings({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_CERTIFICATE_PATH: '/nonexistent/app.pem', AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us' });
    chooseCredential('https://dod-graph.microsoft.us', cert);
    expect(ClientCertificateCredential).toHaveBeenLastCalledWith(TENANT, CLIENT, { certificatePath: '/nonexistent/app.pem', authorityHost: 'https://login.microsoftonline.us' });
  });
});

describe('credential failures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'm365-audit-cred-'));
  const garbage = join(dir, 'garbage.pem');
  const pfx = join(dir, 'app.pfx');
  writeFileSync(garbage, 'this is not a certificate\n');
  writeFileSync(pfx, randomBytes(512));
  const certCredential = (path: string) => chooseCredential('https://graph.microsoft.com', loadSettings({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_CERTIFICATE_PATH: path }));

  it.each([['a garbage file', garbage], ['a PFX where PEM is expected', pfx]])('a certificate path to %s is a CredentialError naming the variable and the fix (no network needed)', async (_what, path) => {
    const err = await certCredential(path).getToken('https://graph.microsoft.com/.default').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect((err as Error).message).toMatch(/AZURE_CLIENT_CERTIFICATE_PATH: .*PEM.*openssl pkcs12/);
    expect((err as Error).message).not.toContain(path);
  });

  it('a PEM file without its private key is a CredentialError naming the variables (AuthenticationRequiredError)', async () => {
    const certOnly = join(dir, 'cert-only.pem');
    // A self-signed certificate, no key: what a user gets exporting only the public part.
    const pems = await generate([{ name: 'commonName', value: 'm365-audit test' }], { keyType: 'rsa', keySize: 2048, algorithm: 'sha256' });
    writeFileSync(certOnly, pems.cert);
    const err = await certCredential(certOnly).getToken('https://graph.microsoft.com/.default').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect((err as Error).message).toMatch(/AuthenticationRequiredError: .*AZURE_CLIENT_CERTIFICATE_PATH \(a PEM file with the certificate and its private key/);
  });

  it('a certificate path to nothing names the variable, not the path', async () => {
    const missing = join(dir, 'missing.pem');
    const err = await certCredential(missing).getToken('https://graph.microsoft.com/.default').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect((err as Error).message).toMatch(/AZURE_CLIENT_CERTIFICATE_PATH: the certificate file cannot be read \(ENOENT\)/);
    expect((err as Error).message).not.toContain(missing);
  });

  it('a certificate path through a file (ENOTDIR, or any other file-system code) names the variable, not the path', async () => {
    const through = join(garbage, 'app.pem');
    const err = await certCredential(through).getToken('https://graph.microsoft.com/.default').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect((err as Error).message).toMatch(/AZURE_CLIENT_CERTIFICATE_PATH: the certificate file cannot be read \(ENOTDIR\)/);
    expect((err as Error).message).not.toContain(dir);
  });

  it('a network failure on the way to the token authority is not a credential error: it is retried like any network failure', async () => {
    // Port 9 on loopback refuses at once: what an outage of the authority looks like to MSAL
    // (@azure/identity wraps it as a CredentialUnavailableError: endpoints_resolution_error).
    const inner = new ClientSecretCredential(TENANT, CLIENT, 'not-a-secret', { authorityHost: 'https://127.0.0.1:9', retryOptions: { maxRetries: 0 } });
    const err = await guardCredential(inner, 'check AZURE_TENANT_ID').getToken('https://graph.microsoft.com/.default').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(CredentialError);
    expect(isNetworkFailure(err)).toBe(true);
  });

  it('tells network failures from credential ones by code, MSAL errorCode or message, through causes', () => {
    expect(isNetworkFailure(Object.assign(new Error('x'), { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }))).toBe(true);
    expect(isNetworkFailure(Object.assign(new Error('ClientSecretCredential: failed'), { errorCode: 'network_error' }))).toBe(true);
    expect(isNetworkFailure(new CredentialUnavailableError('ManagedIdentityCredential: no managed identity endpoint found'))).toBe(false);
    expect(isNetworkFailure(new Error('AADSTS7000215: Invalid client secret provided.'))).toBe(false);
  });

  describe('through the Graph client', () => {
    let t: TestSim;
    beforeEach(async () => {
      t = await startTestSim({ throttle: false });
    });
    afterEach(async () => {
      await t.close();
    });

    /** A Graph over the simulator whose credential throws `error` (wrapped as production wraps it). */
    function graphWith(error: Error): { graph: Graph; calls: () => number; close(): Promise<void> } {
      let calls = 0;
      const failing: TokenCredential = {
        getToken: async () => {
          calls++;
          throw error;
        },
      };
      // The production guard, over a credential that fails as a managed identity or MSAL does.
      const handle = createGraphClient({ graphUrl: t.sim.url, settings: loadSettings({}), caPem: t.sim.caPem, credential: guardCredential(failing, 'enable the managed identity') });
      return { graph: new Graph(handle.client, { baseBackoffMs: 1 }), calls: () => calls, close: () => handle.close() };
    }

    it.each([
      ['CredentialUnavailableError', new CredentialUnavailableError('ManagedIdentityCredential: no managed identity endpoint found')],
      ['AuthenticationRequiredError', new AuthenticationRequiredError({ scopes: ['https://graph.microsoft.com/.default'], message: 'interaction required' })],
    ])('a %s stops at once: not retried, no request sent, every later request refused too', async (name, error) => {
      const g = graphWith(error);
      try {
        const err = await g.graph.get('/domains').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CredentialError);
        expect((err as Error).message).toContain(`${name}: `);
        expect((err as Error).message).toContain('enable the managed identity');
        expect(g.calls()).toBe(1);
        expect(g.graph.stats.retries).toBe(0);
        expect(t.sim.counts().total ?? 0).toBe(0);
        await expect(g.graph.all('/users')).rejects.toBeInstanceOf(CredentialError);
        expect(g.calls()).toBe(1);
      } finally {
        await g.close();
      }
    });

    it('a scan without a token rejects with the CredentialError instead of reporting failed areas', async () => {
      const g = graphWith(new CredentialUnavailableError('no identity'));
      try {
        await expect(runScan({ graph: g.graph, policy: validatePolicy({}), tenantId: TENANT })).rejects.toBeInstanceOf(CredentialError);
        // Collectors start together, so a few may have asked for a token; none was retried or sent.
        expect(g.graph.stats.retries).toBe(0);
        expect(t.sim.counts().total ?? 0).toBe(0);
      } finally {
        await g.close();
      }
    });
  });
});
