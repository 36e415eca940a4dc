/**
 * The bench harness (issue 13): starts the simulator in its own process (sim-process.ts), runs
 * each scenario's scan in this one (every area in parallel in one runScan, as the daily scan
 * does), and reports wall time per area and in total, requests per endpoint, 429s (simulator
 * side), retries (client side), this process's peak RSS and the model's lower bounds.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { validatePolicy, type Policy } from '../../src/config/policy';
import { loadSettings, type Settings } from '../../src/config/settings';
import type { CollectOptions } from '../../src/collect/context';
import { createGraphClient, graphOptionsFor, type GraphClientHandle } from '../../src/graph/client';
import { Graph } from '../../src/graph/graph';
import { runShardedScanLocally } from '../../src/jobs/shard-queue';
import { runScan, type ScanOptions, type ScanResult } from '../../src/pipeline';
import type { Area } from '../../src/rules/ids';
import { RULES } from '../../src/rules/index';
import type { JobLogger } from '../../src/runtime';
import { startAzurite, type EmbeddedAzurite } from '../../src/store/azurite';
import { MemoryStore } from '../../src/store/memory';
import { Store } from '../../src/store/store';
import type { JsonObject } from '../../src/sim/tenant';
import { benchShape, lowerBound, modelLimits, READINGS, shardedBound, type Bound, type Reading, type ScenarioName, type ShardedBound, type ShardedFamily, type TenantCounts, type WorkloadShape } from './model';
import type { SimProcessArgs, SimTruth } from './sim-process';

/**
 * A scenario: what the scan reads. The two run in this order against ONE store, so the daily
 * scan starts from the state the weekly full read committed (deltaLinks and drive inventories,
 * the sign-in watermark), as a deployment's scans do.
 */
export interface Scenario {
  name: ScenarioName;
  collectOptions: Partial<CollectOptions>;
  /** policy overrides under `files` (the weekly full read sets oneDriveSweepDays 1: every OneDrive) */
  files?: Record<string, number>;
}
export const SCENARIOS: Scenario[] = [
  // Everything in full: fresh state (no deltaLink, no watermark), every OneDrive, the day of sign-ins.
  { name: 'weeklyFull', collectOptions: { freshState: true, fullSignInActivityRead: true, signInBackfillHours: 24 }, files: { oneDriveSweepDays: 1 } },
  // The daily scan from the weekly's state: the OneDrive sweep (policy files.oneDriveSweepDays,
  // default 7), token deltas, sign-ins from the watermark.
  // The accounts read is incremental here (collect/identity.ts: the weekly's full read left its
  // state); benchShape's daily shape counts the candidates and id re-reads it makes.
  { name: 'daily', collectOptions: { signInBackfillHours: 24 } },
];

export interface SimChild {
  url: string;
  caPem: string;
  tenantId: string;
  policy: JsonObject;
  counts: TenantCounts;
  truth: SimTruth;
  request(type: 'counts' | 'reset' | 'timeScale', value?: number): Promise<Record<string, number>>;
  close(): Promise<number | null>;
  child: ChildProcess;
}

/** Forks the simulator process and waits until it listens. */
export function startSimChild(args: SimProcessArgs, dir = __dirname): Promise<SimChild> {
  const child = fork(join(dir, 'sim-process.js'), [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`simulator process exited with ${code} before it was ready`)));
    child.once('message', (m: { type: string; url: string; caPem: string; tenantId: string; policy: JsonObject; counts: TenantCounts; truth: SimTruth }) => {
      child.removeAllListeners('exit');
      const request = (type: 'counts' | 'reset' | 'timeScale', value?: number): Promise<Record<string, number>> =>
        new Promise((res) => {
          const on = (r: { type: string; counts?: Record<string, number> }): void => {
            if (r.type !== type) return;
            child.off('message', on);
            res(r.counts ?? {});
          };
          child.on('message', on);
          child.send(value === undefined ? { type } : { type, value });
        });
      const close = (): Promise<number | null> =>
        new Promise((res) => {
          child.once('exit', (code) => res(code));
          child.send({ type: 'close' });
        });
      resolve({ url: m.url, caPem: m.caPem, tenantId: m.tenantId, policy: m.policy, counts: m.counts, truth: m.truth, request, close, child });
    });
  });
}

export interface BenchOptions {
  users: number;
  latencyMs: number;
  timeScale: number;
  /**
   * A time scale per scenario where it differs from `timeScale` (e.g. the daily scan at 1). The
   * compressed clock multiplies CPU time as well as waits: a scan whose critical path is parsing
   * (the daily's directory pages) reads N times slower in model seconds than it is, so the daily,
   * short in real time, is best measured uncompressed.
   */
  scenarioTimeScale?: Partial<Record<ScenarioName, number>>;
  /**
   * The reading the simulator plays where Microsoft's docs disagree (model.ts READINGS). Unset:
   * the simulator's defaults (per-mailbox Outlook, signInActivity its own family), and the run's
   * ratios are to each reading's bound as before. Set: the ratio that counts is to that reading's bound.
   */
  reading?: Reading;
  areas?: Area[];
  scenarios?: Scenario[];
  /** where the compiled sim-process.js is (default: next to this file) */
  dir?: string;
  /**
   * A sharded scan (src/jobs/shards.ts) with this many worker loops, through
   * runShardedScanLocally on queues and a store in an Azurite the bench starts. Without it (or
   * 0): one runScan in this process on a MemoryStore.
   */
  workers?: number;
  /**
   * Sharded runs: `perShard` (default) gives each shard its own Graph client — its own
   * connections, pacers and client-side budgets — as separate Function instances have (Graph's
   * per-tenant limits still bind them all: the simulator enforces them); `shared` gives every
   * shard the one Graph, as `m365-audit scan --workers N` does.
   */
  graph?: 'perShard' | 'shared';
}

const implemented = new Set<string>(RULES.map((r) => r.id));
const stateRules = new Set<string>(RULES.filter((r) => r.kind === 'state').map((r) => r.id));
const ruleArea = new Map<string, string>(RULES.map((r) => [r.id, r.area]));

/** What one scenario's scan gave, however it ran. */
interface ScanRun {
  result: ScanResult;
  retries: number;
  /** per slice (shard): when it finished, in ms from the scan's start */
  finishedMs: Record<string, number>;
  /** sharded: when the final step (rules, ledger, reports) began, in ms from the scan's start */
  reconcileStartMs?: number;
  /** sharded: the shards that ran (every shard logs its outcome) */
  shards?: string[];
  /** where the client's signInActivity pacing ended (strict until a probe decides: src/graph/budget.ts) */
  signInActivityReading?: unknown;
  /** Outlook's adaptive concurrency at the end: allowed in flight, ceiling, halvings */
  outlookConcurrency?: unknown;
}

/** Sharded runs: the Azurite (queues and store) and its Store, one per benchSize. */
interface ShardEnv {
  azurite: EmbeddedAzurite;
  store: Store;
}

/** One size: every scenario in order on one store, with the bounds under each reading. */
export async function benchSize(o: BenchOptions): Promise<Record<string, unknown>> {
  const sim = await startSimChild({ seed: 1, users: o.users, latencyMs: o.latencyMs, timeScale: o.timeScale, ...(o.reading ? { readings: o.reading } : {}) }, o.dir);
  const out: Record<string, unknown> = { users: o.users, ...(o.reading ? { reading: o.reading } : {}), ...(o.workers !== undefined ? { workers: o.workers, ...(o.workers > 0 ? { graph: o.graph ?? 'perShard' } : {}) } : {}), tenant: sim.counts, plantedPerRule: sim.truth.perRule };
  // A sharded run's store is the Azure one, on an Azurite of its own (fresh: the weekly read starts from no state).
  const env: ShardEnv | undefined = o.workers ? await startShardEnv() : undefined;
  const memory = new MemoryStore();
  let simScale = o.timeScale;
  try {
    for (const scenario of o.scenarios ?? SCENARIOS) {
      const timeScale = o.scenarioTimeScale?.[scenario.name] ?? o.timeScale;
      if (timeScale !== simScale) {
        await sim.request('timeScale', timeScale);
        simScale = timeScale;
      }
      const so: BenchOptions = { ...o, timeScale };
      await sim.request('reset');
      const settings = loadSettings({});
      const loadBefore = loadavg();
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      let peak = rssBefore;
      // A worker thread samples too: the main thread can be busy for longer than the poll (parsing
      // a page), and the process's maxRSS is its lifetime's, so a later scenario reads at least an
      // earlier one's peak. `scenarioPeakRssMB` is this scenario's own (both samplers' maximum).
      const sampler = startRssSampler();
      const poll = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 50);
      const started = performance.now();
      try {
        const policyJson = structuredClone(sim.policy);
        if (scenario.files) Object.assign(policyJson.files as JsonObject, scenario.files);
        const policy = validatePolicy(policyJson);
        const run = env
          ? await shardedScan(so, env, sim, settings, policy, scenario, started)
          : await inProcessScan(so, memory, sim, settings, policy, scenario, started);
        const wall = (performance.now() - started) / 1000;
        clearInterval(poll);
        const { result } = run;
        const counts = await sim.request('counts');
        const shape = restrictShape(benchShape(o.users, scenario.name, sim.counts), o.areas);
        const limits = modelLimits(o.users);
        const bounds = READINGS.map((r) => roundBound(lowerBound(shape, r, limits, o.latencyMs)));
        const model = wall * timeScale;
        const found: Record<string, number> = {};
        for (const f of result.findings) found[f.ruleId] = (found[f.ruleId] ?? 0) + 1;
        // Event findings (sign-ins) are raised by the scan that reads the events: the daily scan,
        // reading from the weekly's watermark, raises none of the planted ones again.
        // With `areas`, only the rules of the areas scanned.
        const expectedRule = (r: string): boolean =>
          implemented.has(r) && (scenario.name === 'weeklyFull' || stateRules.has(r)) && (!o.areas || o.areas.includes(ruleArea.get(r) as Area));
        const planted = Object.fromEntries(Object.entries(sim.truth.perRule).filter(([r]) => expectedRule(r)));
        const toModel = (ms: number): number => round((ms / 1000) * timeScale);
        // Sharded: the bound with the shards the plan made (one per slice today; range shards raise them).
        const sharded = o.workers && run.shards
          ? READINGS.map((r) => roundSharded(shardedBound(shape, r, limits, o.latencyMs, { workers: o.workers as number, shards: shardsPerFamily(run.shards as string[]) })))
          : undefined;
        const collectModel = run.reconcileStartMs !== undefined ? toModel(run.reconcileStartMs) : undefined;
        out[scenario.name] = {
          wallSeconds: round(wall),
          modelSeconds: round(model),
          timeScale,
          sliceFinishedModelSeconds: Object.fromEntries(Object.entries(run.finishedMs).map(([k, v]) => [k, toModel(v)])),
          ...(run.shards
            ? {
                shards: run.shards.length,
                // Until the last shard was done; the final step (rules, ledger writes to Azurite, reports) after it.
                collectModelSeconds: collectModel,
                reconcileWallSeconds: run.reconcileStartMs !== undefined ? round(wall - run.reconcileStartMs / 1000) : undefined,
              }
            : {}),
          requests: counts.total ?? 0,
          perEndpoint: Object.fromEntries(Object.entries(counts).filter(([k, v]) => v > 0 && !['total', 'throttled', 'resourceUnits'].includes(k))),
          resourceUnits: counts.resourceUnits ?? 0,
          throttled: counts.throttled ?? 0,
          retries: run.retries,
          ...(run.signInActivityReading !== undefined ? { signInActivityReading: run.signInActivityReading } : {}),
          ...(run.outlookConcurrency !== undefined ? { outlookConcurrency: run.outlookConcurrency } : {}),
          peakRssMB: round(Math.max(peak, process.resourceUsage().maxRSS * 1024) / 1048576),
          scenarioPeakRssMB: round(Math.max(peak, await sampler.stop()) / 1048576),
          loadAverage: { before: loadBefore.map(round), after: loadavg().map(round) },
          coverage: Object.fromEntries(Object.entries(result.coverage).map(([a, c]) => [a, c?.status])),
          findingsPerRule: found,
          findingsMatchPlanted: JSON.stringify(sortKeys(found)) === JSON.stringify(sortKeys(planted)),
          shape,
          bounds,
          ratios: bounds.map((b) => ({ reading: b.reading, total: round(model / Math.max(b.seconds, 1e-9)) })),
          // The simulator played this reading: the ratio to its own bound is the one that counts.
          ...(o.reading ? { ratio: ratioOf(bounds, o.reading, model) } : {}),
          ...(sharded
            ? {
                shardedBounds: sharded,
                shardedRatios: sharded.map((b) => ({
                  reading: b.reading,
                  total: round(model / Math.max(b.seconds, 1e-9)),
                  ...(collectModel !== undefined ? { collect: round(collectModel / Math.max(b.seconds, 1e-9)) } : {}),
                })),
              }
            : {}),
          ...(o.users <= 2000 ? { findingKeys: result.findings.map((f) => `${f.ruleId} ${f.subject.id}`).sort() } : {}),
          ...(sim.truth.list ? { plantedKeys: sim.truth.list.filter((g) => expectedRule(g.ruleId)).map((g) => `${g.ruleId} ${g.subjectId}`).sort() } : {}),
        };
      } finally {
        clearInterval(poll);
        await sampler.stop();
      }
    }
  } finally {
    out.simExit = await sim.close();
    if (env) {
      await env.azurite.stop();
      rmSync(env.azurite.location, { recursive: true, force: true });
    }
  }
  return out;
}

async function startShardEnv(): Promise<ShardEnv> {
  // As tests/support/global-setup.ts: loopback, free ports, telemetry off, a temp dir.
  const azurite = await startAzurite(mkdtempSync(join(tmpdir(), 'm365-audit-bench-azurite-')));
  try {
    return { azurite, store: await Store.connect(azurite.connectionString) };
  } catch (err) {
    await azurite.stop();
    throw err;
  }
}

/** A Graph on the simulator; the tenant's licence count sizes the client's SharePoint budget as it does the simulator's. */
function benchGraph(o: BenchOptions, sim: SimChild, settings: Settings): { graph: Graph; handle: GraphClientHandle } {
  const handle = createGraphClient({ graphUrl: sim.url, settings, caPem: sim.caPem, timeScale: o.timeScale });
  return { graph: new Graph(handle.client, { ...graphOptionsFor(handle, { ...settings, licenceCount: o.users }) }), handle };
}

/** The bench as it was (issue 13): every area in parallel in one runScan, one Graph, a MemoryStore. */
async function inProcessScan(o: BenchOptions, store: MemoryStore, sim: SimChild, settings: Settings, policy: Policy, scenario: Scenario, started: number): Promise<ScanRun> {
  const { graph, handle } = benchGraph(o, sim, settings);
  const finishedMs: Record<string, number> = {};
  try {
    const options: ScanOptions = {
      graph,
      policy,
      tenantId: sim.tenantId,
      store,
      ...(o.areas ? { areas: o.areas } : {}),
      collectOptions: scenario.collectOptions,
      // Time per slice: when it finished, from the scan's start (slices run in parallel).
      onProgress: (e) => {
        finishedMs[e.slice] = performance.now() - started;
      },
    };
    const result = await runScan(options);
    return { result, retries: graph.stats.retries, finishedMs, signInActivityReading: graph.signInActivityReading(), outlookConcurrency: graph.concurrencyOf('outlook') };
  } finally {
    await handle.close();
  }
}

/**
 * A sharded scan (issue 14): runShardedScanLocally with `workers` loops on the bench's Azurite,
 * as `m365-audit scan --workers N` runs it. Every shard collects with the scenario's collect
 * options (kept in the shard plan: jobs/shards.ts ShardPlan.collectOptions), as the unsharded
 * scan does; the weekly's `oneDriveSweepDays 1` is policy, which every shard gets. The final step
 * gets the same options, though it reads nothing.
 */
async function shardedScan(o: BenchOptions, env: ShardEnv, sim: SimChild, settings: Settings, policy: Policy, scenario: Scenario, started: number): Promise<ScanRun> {
  const handles: GraphClientHandle[] = [];
  const graphs: Graph[] = [];
  const make = (): Graph => {
    const { graph, handle } = benchGraph(o, sim, settings);
    handles.push(handle);
    graphs.push(graph);
    return graph;
  };
  const shared = o.graph === 'shared' ? make() : undefined;
  const finishedMs: Record<string, number> = {};
  // Every shard that ran, a range as `<slice>#<i>` (shardsPerFamily counts a family's ranges).
  const shardNames = new Set<string>();
  let reconcileStartMs: number | undefined;
  const logger: JobLogger = {
    log: (line: unknown) => {
      let e: { event?: string; shard?: string; range?: number; reconcile?: boolean };
      try {
        e = JSON.parse(String(line)) as typeof e;
      } catch {
        return;
      }
      const at = performance.now() - started;
      if (e.event === 'm365-audit.shard' && e.shard) {
        // A slice's finish is its last range's.
        finishedMs[e.shard] = at;
        shardNames.add(e.range === undefined ? e.shard : `${e.shard}#${e.range}`);
        if (e.reconcile) reconcileStartMs = at;
      }
    },
    warn: (line: unknown) => logger.log(line),
    error: (line: unknown) => logger.log(line),
  };
  try {
    const { result } = await runShardedScanLocally({
      connectionString: env.azurite.connectionString,
      workers: o.workers as number,
      deps: {
        policy,
        tenantId: sim.tenantId,
        store: env.store,
        graph: () => {
          const graph = shared ?? make();
          return { graph, close: async () => undefined };
        },
      },
      job: {
        graph: shared ?? make(),
        policy,
        tenantId: sim.tenantId,
        store: env.store,
        ...(o.areas ? { areas: o.areas } : {}),
        collectOptions: scenario.collectOptions,
        reports: async () => undefined,
      },
      logger,
      // The loop's default lease: 300 s, renewed every 100 s while a shard runs (a long files shard
      // is not redelivered mid-run; src/jobs/shard-queue.ts).
      worker: { pollMs: 50 },
    });
    return { result, retries: graphs.reduce((n, g) => n + g.stats.retries, 0), finishedMs, ...(reconcileStartMs !== undefined ? { reconcileStartMs } : {}), shards: [...shardNames] };
  } finally {
    for (const h of handles) await h.close();
  }
}

/** Shards per family, from the plan's shard names (a range shard's name starts with its slice's). */
function shardsPerFamily(names: readonly string[]): Partial<Record<ShardedFamily, number>> {
  const count = (slice: string): number => Math.max(1, names.filter((n) => n === slice || n.startsWith(`${slice}:`) || n.startsWith(`${slice}#`) || n.startsWith(`${slice}-`)).length);
  return { signInActivity: count('signInActivity'), identityReports: count('mfaRegistration') + count('signIns'), outlook: count('mailRules'), sharepoint: count('sharing') };
}

/** The workload of the areas scanned only (`--areas`): what the other areas would read is left out of the bound. */
export function restrictShape(w: WorkloadShape, areas: readonly Area[] | undefined): WorkloadShape {
  if (!areas) return w;
  const has = (a: Area): boolean => areas.includes(a);
  return {
    ...w,
    signInActivityUsers: has('accounts') ? w.signInActivityUsers : 0,
    enabledUsers: has('mfa') ? w.enabledUsers : 0,
    mailboxes: has('mail') ? w.mailboxes : 0,
    signIns: has('signins') ? w.signIns : 0,
    ...(has('files') ? {} : { sites: 0, drivesListed: 0, librariesRead: 0, permissionReads: 0 }),
  };
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Samples this process's RSS every 10 ms from a worker thread; `stop` gives the maximum seen (bytes). */
function startRssSampler(): { stop(): Promise<number> } {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     let max = process.memoryUsage.rss();
     const t = setInterval(() => { max = Math.max(max, process.memoryUsage.rss()); }, 10);
     parentPort.on('message', () => { clearInterval(t); parentPort.postMessage(max); parentPort.close(); });`,
    { eval: true },
  );
  let result: Promise<number> | undefined;
  return {
    stop: () =>
      (result ??= new Promise<number>((resolve, reject) => {
        worker.once('message', (max: number) => {
          void worker.terminate().then(() => resolve(max));
        });
        worker.once('error', reject);
        worker.postMessage('stop');
      })),
  };
}

const round = (n: number): number => Number(n.toFixed(2));
function ratioOf(bounds: Bound[], reading: Reading, model: number): { total: number } | undefined {
  const b = bounds.find((x) => x.reading.outlook === reading.outlook && x.reading.signInActivity === reading.signInActivity);
  if (!b) return undefined;
  return { total: round(model / Math.max(b.seconds, 1e-9)) };
}
function roundSharded(b: ShardedBound): ShardedBound {
  return { ...roundBound(b), workers: b.workers, tenantSeconds: round(b.tenantSeconds), workerSeconds: round(b.workerSeconds), clientLatencySeconds: Object.fromEntries(Object.entries(b.clientLatencySeconds).map(([k, v]) => [k, round(v)])) };
}
export function roundBound(b: Bound): Bound {
  const families = Object.fromEntries(Object.entries(b.families).map(([k, f]) => [k, { ...f, rateSeconds: round(f.rateSeconds), latencySeconds: round(f.latencySeconds), seconds: round(f.seconds) }]));
  return { ...b, families, seconds: round(b.seconds), identitySeconds: round(b.identitySeconds), mailSeconds: round(b.mailSeconds) };
}
