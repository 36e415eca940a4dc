/**
 * The bench harness (issue 13): starts the simulator in its own process (sim-process.ts), runs
 * each scenario's scan in this one (every area in parallel in one runScan, as the daily scan
 * does), and reports wall time per area and in total, requests per endpoint, 429s (simulator
 * side), retries (client side), this process's peak RSS and the model's lower bounds.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { validatePolicy } from '../../src/config/policy';
import { loadSettings } from '../../src/config/settings';
import type { CollectOptions } from '../../src/collect/context';
import { createGraphClient, graphOptionsFor } from '../../src/graph/client';
import { Graph } from '../../src/graph/graph';
import { runScan } from '../../src/pipeline';
import type { Area } from '../../src/rules/ids';
import { RULES } from '../../src/rules/index';
import { MemoryStore } from '../../src/store/memory';
import type { JsonObject } from '../../src/sim/tenant';
import { benchShape, lowerBound, modelLimits, READINGS, type Bound, type ScenarioName, type TenantCounts, type WorkloadShape } from './model';
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
  request(type: 'counts' | 'reset'): Promise<Record<string, number>>;
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
      const request = (type: 'counts' | 'reset'): Promise<Record<string, number>> =>
        new Promise((res) => {
          const on = (r: { type: string; counts?: Record<string, number> }): void => {
            if (r.type !== type) return;
            child.off('message', on);
            res(r.counts ?? {});
          };
          child.on('message', on);
          child.send({ type });
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
  areas?: Area[];
  scenarios?: Scenario[];
  /** where the compiled sim-process.js is (default: next to this file) */
  dir?: string;
}

const implemented = new Set<string>(RULES.map((r) => r.id));
const stateRules = new Set<string>(RULES.filter((r) => r.kind === 'state').map((r) => r.id));
const ruleArea = new Map<string, string>(RULES.map((r) => [r.id, r.area]));

/** One size: every scenario in order on one store, with the bounds under each reading. */
export async function benchSize(o: BenchOptions): Promise<Record<string, unknown>> {
  const sim = await startSimChild({ seed: 1, users: o.users, latencyMs: o.latencyMs, timeScale: o.timeScale }, o.dir);
  const out: Record<string, unknown> = { users: o.users, tenant: sim.counts, plantedPerRule: sim.truth.perRule };
  const store = new MemoryStore();
  try {
    for (const scenario of o.scenarios ?? SCENARIOS) {
      await sim.request('reset');
      const settings = loadSettings({});
      const handle = createGraphClient({ graphUrl: sim.url, settings, caPem: sim.caPem, timeScale: o.timeScale });
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      let peak = rssBefore;
      const poll = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 50);
      const started = performance.now();
      const areaMs: Record<string, number> = {};
      try {
        // The tenant's licence count sizes the client's SharePoint budget as it does the simulator's.
        const graph = new Graph(handle.client, { ...graphOptionsFor(handle, { ...settings, licenceCount: o.users }) });
        const policyJson = structuredClone(sim.policy);
        if (scenario.files) Object.assign(policyJson.files as JsonObject, scenario.files);
        const result = await runScan({
          graph,
          policy: validatePolicy(policyJson),
          tenantId: sim.tenantId,
          store,
          ...(o.areas ? { areas: o.areas } : {}),
          collectOptions: scenario.collectOptions,
          // Time per slice: when it finished, from the scan's start (slices run in parallel).
          onProgress: (e) => {
            areaMs[e.slice] = performance.now() - started;
          },
        });
        const wall = (performance.now() - started) / 1000;
        clearInterval(poll);
        const counts = await sim.request('counts');
        const shape = restrictShape(benchShape(o.users, scenario.name, sim.counts), o.areas);
        const limits = modelLimits(o.users);
        const bounds = READINGS.map((r) => roundBound(lowerBound(shape, r, limits, o.latencyMs)));
        const model = wall * o.timeScale;
        const found: Record<string, number> = {};
        for (const f of result.findings) found[f.ruleId] = (found[f.ruleId] ?? 0) + 1;
        // Event findings (sign-ins) are raised by the scan that reads the events: the daily scan,
        // reading from the weekly's watermark, raises none of the planted ones again.
        // With `areas`, only the rules of the areas scanned.
        const expectedRule = (r: string): boolean =>
          implemented.has(r) && (scenario.name === 'weeklyFull' || stateRules.has(r)) && (!o.areas || o.areas.includes(ruleArea.get(r) as Area));
        const planted = Object.fromEntries(Object.entries(sim.truth.perRule).filter(([r]) => expectedRule(r)));
        out[scenario.name] = {
          wallSeconds: round(wall),
          modelSeconds: round(model),
          sliceFinishedModelSeconds: Object.fromEntries(Object.entries(areaMs).map(([k, v]) => [k, round((v / 1000) * o.timeScale)])),
          requests: counts.total ?? 0,
          perEndpoint: Object.fromEntries(Object.entries(counts).filter(([k, v]) => v > 0 && !['total', 'throttled', 'resourceUnits'].includes(k))),
          resourceUnits: counts.resourceUnits ?? 0,
          throttled: counts.throttled ?? 0,
          retries: graph.stats.retries,
          peakRssMB: round(Math.max(peak, process.resourceUsage().maxRSS * 1024) / 1048576),
          coverage: Object.fromEntries(Object.entries(result.coverage).map(([a, c]) => [a, c?.status])),
          findingsPerRule: found,
          findingsMatchPlanted: JSON.stringify(sortKeys(found)) === JSON.stringify(sortKeys(planted)),
          shape,
          bounds,
          ratios: bounds.map((b) => ({ reading: b.reading, total: round(model / Math.max(b.seconds, 1e-9)) })),
          ...(o.users <= 2000 ? { findingKeys: result.findings.map((f) => `${f.ruleId} ${f.subject.id}`).sort() } : {}),
          ...(sim.truth.list ? { plantedKeys: sim.truth.list.filter((g) => expectedRule(g.ruleId)).map((g) => `${g.ruleId} ${g.subjectId}`).sort() } : {}),
        };
      } finally {
        clearInterval(poll);
        await handle.close();
      }
    }
  } finally {
    out.simExit = await sim.close();
  }
  return out;
}

/** The workload of the areas scanned only (`--areas`): what the other areas would read is left out of the bound. */
function restrictShape(w: WorkloadShape, areas: readonly Area[] | undefined): WorkloadShape {
  if (!areas) return w;
  const has = (a: Area): boolean => areas.includes(a);
  return {
    ...w,
    signInActivityUsers: has('accounts') ? w.signInActivityUsers : 0,
    enabledUsers: has('mfa') ? w.enabledUsers : 0,
    mailboxes: has('mail') ? w.mailboxes : 0,
    signIns: has('signins') ? w.signIns : 0,
    ...(has('files') ? {} : { sites: 0, librariesRead: 0, permissionReads: 0 }),
  };
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const round = (n: number): number => Number(n.toFixed(2));
function roundBound(b: Bound): Bound {
  const families = Object.fromEntries(Object.entries(b.families).map(([k, f]) => [k, { ...f, rateSeconds: round(f.rateSeconds), latencySeconds: round(f.latencySeconds), seconds: round(f.seconds) }]));
  return { ...b, families, seconds: round(b.seconds), identitySeconds: round(b.identitySeconds), mailSeconds: round(b.mailSeconds) };
}
