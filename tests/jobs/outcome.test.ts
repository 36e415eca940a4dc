/**
 * Outcomes, not exit codes, in src/: what a scan came to, and how the CLI maps it (outputs.md).
 */
import { couldNotRun, coverageFailure, exitCodeOf, outcomeOf } from '../../src/jobs/scan';

const complete = { status: 'complete' as const, items: 1 };
const failed = (detail: string) => ({ status: 'failed' as const, items: 0, detail });

describe('scan outcomes', () => {
  it('is complete when every area is, partial when some area is not, failed when nothing was read', () => {
    expect(outcomeOf({ exitCode: 0, coverage: { accounts: complete, signins: complete } })).toBe('complete');
    expect(outcomeOf({ exitCode: 2, coverage: { accounts: complete, signins: failed('HTTP 403') } })).toBe('partial');
    expect(outcomeOf({ exitCode: 2, coverage: { accounts: failed('HTTP 403'), signins: failed('HTTP 403') } })).toBe('failed');
    expect(couldNotRun({ coverage: {} })).toBe(false);
  });

  it('maps to the CLI exit codes 0, 2 and 1', () => {
    expect([exitCodeOf('complete'), exitCodeOf('partial'), exitCodeOf('failed')]).toEqual([0, 2, 1]);
  });

  it('says why a run read nothing, each cause once with the areas it hit', () => {
    const text = coverageFailure({ coverage: { accounts: failed('GET /v1.0/users: HTTP 403 Authorization_RequestDenied'), signins: failed('GET /v1.0/auditLogs/signIns: HTTP 403 Authorization_RequestDenied') } });
    expect(text).toContain('accounts');
    expect(text).toContain('signins');
    expect(text.split('\n')).toHaveLength(1);
  });
});
