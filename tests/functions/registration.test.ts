/**
 * The deployable output: package.json `main` globs exactly the compiled registrations in
 * dist/functions (one per functions/*.ts, nothing stale, nothing from dist/src), and importing
 * each registers its trigger with the schedule, route, auth level and queue it should. Runs
 * against `npm run build`'s output (pretest builds it).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string; files: string[] };

/** A glob with `*` (not across `/`) and `**` as the Functions host reads `main`. */
function globRegExp(glob: string): RegExp {
  const body = glob
    .split('**/')
    .map((part) => part.split('*').map((t) => t.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*'))
    .join('(?:[^/]+/)*');
  return new RegExp(`^${body}$`);
}

/** Every file under `dir`, relative to the repo root. */
function walk(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(`${dir}/${d.name}`) : [`${dir}/${d.name}`]));
}

type Spies = Record<'timer' | 'http' | 'storageQueue' | 'eventHub', jest.SpyInstance>;

/** Requires a compiled file in a fresh module registry with the registration calls spied on. */
function register(file: string, env: Record<string, string> = {}): Spies {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let spies: Spies | undefined;
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const functions = require('@azure/functions') as typeof import('@azure/functions');
      spies = {
        timer: jest.spyOn(functions.app, 'timer').mockImplementation(() => undefined),
        http: jest.spyOn(functions.app, 'http').mockImplementation(() => undefined),
        storageQueue: jest.spyOn(functions.app, 'storageQueue').mockImplementation(() => undefined),
        eventHub: jest.spyOn(functions.app, 'eventHub').mockImplementation(() => undefined),
      };
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(join(root, file));
    });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  if (!spies) throw new Error('unreachable');
  return spies;
}

const EXPECTED: Record<string, { kind: keyof Spies; name: string; env?: Record<string, string>; check: (options: Record<string, unknown>) => void }> = {
  'dist/functions/signin-stream.js': {
    kind: 'eventHub',
    name: 'signInStream',
    env: { M365_AUDIT_SIGNIN_SOURCE: 'eventhub', M365_AUDIT_EVENTHUB_NAME: 'entra-signins' },
    check: (o) => {
      expect(o).toMatchObject({ connection: 'M365_AUDIT_EVENTHUB', eventHubName: '%M365_AUDIT_EVENTHUB_NAME%', consumerGroup: '%M365_AUDIT_EVENTHUB_CONSUMER_GROUP%', cardinality: 'many' });
      // A failed batch is run again, never checkpointed past (the trigger checkpoints when an invocation ends).
      expect(o.retry).toMatchObject({ strategy: 'exponentialBackoff', maxRetryCount: -1 });
    },
  },
  'dist/functions/tenant-scan.js': { kind: 'timer', name: 'tenantScan', check: (o) => expect(o.schedule).toBe('0 0 18 * * *') },
  'dist/functions/signin-watch.js': { kind: 'timer', name: 'signInWatch', check: (o) => expect(o.schedule).toBe('0 */15 * * * *') },
  'dist/functions/monthly-digest.js': { kind: 'timer', name: 'monthlyDigest', check: (o) => expect(o.schedule).toBe('0 0 0 1 * *') },
  'dist/functions/scan-now.js': {
    kind: 'http',
    name: 'scanNow',
    check: (o) => {
      expect(o).toMatchObject({ methods: ['POST'], authLevel: 'function' });
      expect(o.extraOutputs).toEqual([expect.objectContaining({ type: 'queue', queueName: 'm365-audit-scan-requests', connection: 'AzureWebJobsStorage' })]);
    },
  },
  'dist/functions/scan-worker.js': { kind: 'storageQueue', name: 'scanWorker', check: (o) => expect(o).toMatchObject({ queueName: 'm365-audit-scan-requests', connection: 'AzureWebJobsStorage' }) },
  'dist/functions/scan-shard.js': {
    kind: 'storageQueue',
    name: 'scanShard',
    check: (o) => {
      expect(o).toMatchObject({ queueName: 'm365-audit-scan-shards', connection: 'AzureWebJobsStorage' });
      expect(o.extraOutputs).toEqual([expect.objectContaining({ type: 'queue', queueName: 'm365-audit-scan-shards' })]);
    },
  },
  'dist/functions/scan-shard-poison.js': { kind: 'storageQueue', name: 'scanShardPoison', check: (o) => expect(o).toMatchObject({ queueName: 'm365-audit-scan-shards-poison', connection: 'AzureWebJobsStorage' }) },
};

describe('the deployable output', () => {
  it('has a `main` glob matching exactly the compiled registrations, one per functions/*.ts', () => {
    expect(existsSync(join(root, 'dist', 'functions'))).toBe(true);
    const main = globRegExp(pkg.main);
    const compiled = walk('dist').filter((f) => main.test(f)).sort();
    const sources = readdirSync(join(root, 'functions')).filter((f) => f.endsWith('.ts')).map((f) => `dist/functions/${f.replace(/\.ts$/, '.js')}`).sort();
    expect(compiled).toEqual(sources);
    expect(compiled).toEqual(Object.keys(EXPECTED).sort());
    // Shipped: the registrations and what they load, and host.json beside package.json.
    expect(pkg.files).toEqual(expect.arrayContaining(['dist/functions', 'dist/src', 'host.json']));
  });

  it('the glob reading is right (a planted stale or misplaced file would be caught)', () => {
    const main = globRegExp('dist/functions/*.js');
    expect(main.test('dist/functions/tenant-scan.js')).toBe(true);
    expect(main.test('dist/functions/tenant-scan.js.map')).toBe(false);
    expect(main.test('dist/functions/sub/x.js')).toBe(false);
    expect(main.test('dist/src/runtime.js')).toBe(false);
    expect(globRegExp('dist/**/*.js').test('dist/functions/sub/x.js')).toBe(true);
  });

  it.each(Object.entries(EXPECTED))('%s registers its trigger once, as specified', (file, expected) => {
    const spies = register(file, expected.env);
    const calls = Object.entries(spies).flatMap(([kind, spy]) => spy.mock.calls.map((c) => [kind, ...c] as [string, string, Record<string, unknown>]));
    expect(calls.map(([kind, name]) => [kind, name])).toEqual([[expected.kind, expected.name]]);
    const options = calls[0]?.[2] ?? {};
    expect(typeof options.handler).toBe('function');
    expected.check(options);
  });

  it('registers the Event Hub trigger only when sign-ins come from the Event Hub', () => {
    const spies = register('dist/functions/signin-stream.js');
    expect(Object.values(spies).flatMap((spy) => spy.mock.calls)).toEqual([]);
    expect(register('dist/functions/signin-stream.js', { M365_AUDIT_SIGNIN_SOURCE: 'graph' }).eventHub.mock.calls).toEqual([]);
  });

  it('takes a timer schedule from its app setting, and refuses one that is not NCRONTAB naming the setting', () => {
    const spies = register('dist/functions/tenant-scan.js', { M365_AUDIT_SCHEDULE_TENANT_SCAN: '0 30 17 * * *' });
    expect(spies.timer.mock.calls[0]?.[1]).toMatchObject({ schedule: '0 30 17 * * *' });
    // An empty app setting means the default.
    expect(register('dist/functions/monthly-digest.js', { M365_AUDIT_SCHEDULE_MONTHLY_DIGEST: '' }).timer.mock.calls[0]?.[1]).toMatchObject({ schedule: '0 0 0 1 * *' });
    expect(() => register('dist/functions/signin-watch.js', { M365_AUDIT_SCHEDULE_SIGNIN_WATCH: '*/15 * * * *' })).toThrow(/M365_AUDIT_SCHEDULE_SIGNIN_WATCH: must be an NCRONTAB expression of 6 fields .*got 5.*default 0 \*\/15 \* \* \* \*/s);
  });
});
