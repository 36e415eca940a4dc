import { InvocationContext, type Timer } from '@azure/functions';
import { dailyScanHandler } from '../../functions/daily-scan';
import { validatePolicy } from '../../src/config/policy';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { Store } from '../../src/store/store';
import { startTestSim } from '../support/sim';

describe('dailyScan function', () => {
  it('scans the tenant and records the scan', async () => {
    const demo = generateDemoTenant({ seed: 11, users: 40 });
    const t = await startTestSim({ tenant: demo.data });
    const store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
    const handler = dailyScanHandler(async () => ({
      policy: validatePolicy(demo.policy),
      tenantId: demo.data.tenantId,
      store,
      graph: () => ({ graph: t.graph(), close: async () => undefined }),
    }));
    const context = new InvocationContext({ functionName: 'dailyScan', invocationId: 'test-1' });
    const logs: string[] = [];
    jest.spyOn(context, 'log').mockImplementation((...args: unknown[]) => { logs.push(args.join(' ')); });
    try {
      await handler({ isPastDue: false, scheduleStatus: { last: '', next: '', lastUpdated: '' } } as Timer, context);
    } finally {
      await t.close();
    }
    const [record] = await store.listScans(demo.data.tenantId, 1);
    expect(record).toBeDefined();
    expect(record?.exitCode).toBe(0);
    expect(logs.join('\n')).toMatch(new RegExp(`scan ${record?.scanId}: \\d+ open findings`));
  });
});
