/**
 * The bench's simulator process plays the reading it is given (SimProcessArgs.readings): here
 * whether a signInActivity page also draws the identity reports' 5 per 10 s. Runs the compiled
 * process (dist/: `npm run build` first), as the bench does.
 */
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { startSimChild } from './harness';

jest.setTimeout(60_000);

const DIST = join(__dirname, '..', '..', 'dist', 'tests', 'bench');

/** 3 signInActivity pages, then 3 registration pages: the statuses of the reports. */
async function reportsAfterPages(readings?: { signInActivity?: 'ownFamily' | 'alsoIdentityReports'; outlook?: 'perMailbox' | 'perApp' }): Promise<number[]> {
  const sim = await startSimChild({ seed: 3, users: 40, latencyMs: 0, ...(readings ? { readings } : {}) }, DIST);
  const agent = new Agent({ connect: { ca: sim.caPem } });
  const get = async (path: string): Promise<number> => {
    const res = await fetch(`${sim.url}/v1.0${path}`, { headers: { Authorization: 'Bearer test-token' }, dispatcher: agent });
    await res.arrayBuffer();
    return res.status;
  };
  try {
    for (let i = 0; i < 3; i++) expect(await get('/users?$select=id,signInActivity&$top=5')).toBe(200);
    const out: number[] = [];
    for (let i = 0; i < 3; i++) out.push(await get('/reports/authenticationMethods/userRegistrationDetails?$top=5'));
    return out;
  } finally {
    await agent.close();
    await sim.close();
  }
}

describe('bench simulator readings', () => {
  test('default (ownFamily): the pages leave the reports their 5', async () => {
    expect(await reportsAfterPages()).toEqual([200, 200, 200]);
  });

  test('alsoIdentityReports: the pages spent 3 of the reports\' 5', async () => {
    expect(await reportsAfterPages({ signInActivity: 'alsoIdentityReports', outlook: 'perApp' })).toEqual([200, 200, 429]);
  });
});
