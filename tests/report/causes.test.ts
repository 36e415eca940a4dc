import { causeOf, collapseCauses, withoutQueries } from '../../src/report/causes';

describe('one message per cause', () => {
  const refused = (path: string) => `GET ${path} answered 401 (InvalidAuthenticationToken: Access token is empty.) — the access token was refused: check AZURE_TENANT_ID / AZURE_CLIENT_ID and the credential`;

  it('reads the cause after the last endpoint of a message', () => {
    expect(causeOf(`the user list could not be read: ${refused('/users?$select=id&$top=999')}`)).toEqual({
      cause: 'answered 401 (InvalidAuthenticationToken: Access token is empty.) — the access token was refused: check AZURE_TENANT_ID / AZURE_CLIENT_ID and the credential',
      endpoints: ['GET /users'],
    });
    expect(causeOf('not collected')).toEqual({ cause: 'not collected', endpoints: [] });
    expect(withoutQueries(refused('/users?$select=id&$top=999'))).toBe(refused('/users'));
  });

  it('collapses identical causes into one line naming every slice and endpoint, and leaves a lone cause as it was', () => {
    const lines = collapseCauses([
      { label: 'users', message: refused('/users?$top=999') },
      { label: 'domains', message: refused('/domains') },
      { label: 'roles', message: 'GET /roleManagement/directory/roleEligibilitySchedules answered 403 (Forbidden) — needs Entra ID P2' },
      { label: 'mailRules', message: `the user list could not be read: ${refused('/users?$top=999')}` },
    ]);
    expect(lines).toEqual([
      'users, domains, mailRules: answered 401 (InvalidAuthenticationToken: Access token is empty.) — the access token was refused: check AZURE_TENANT_ID / AZURE_CLIENT_ID and the credential (GET /users, GET /domains)',
      'roles: GET /roleManagement/directory/roleEligibilitySchedules answered 403 (Forbidden) — needs Entra ID P2',
    ]);
  });
});
