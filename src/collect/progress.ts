/**
 * Scan progress: a checkpoint of *collection*, so that a scan stopped at its deadline (the
 * Functions host's timeout) or by a crash continues where it stopped instead of starting over
 * (issue 12, issue 14 "Progress and checkpoints live in the store").
 *
 * Layout (state blobs, per tenant):
 * - `scan-progress@<areas>`: `{ scanId }` of the tenant's latest scan in progress of those areas
 *   (what a timer resumes; one per set of areas, so the sign-in watch never touches the daily scan's).
 * - `scan-progress-<scanId>`: that scan's id, start time, Graph root, areas, a fingerprint of the
 *   policy, the names of the slices done, and until when its run may still be alive. Small
 *   whatever the tenant's size.
 * - `scan-progress-<scanId>-<slice>`: one finished slice (status, data, items, detail and its
 *   pending state), written as the slice finishes. Each slice is its own blob so that the pointer
 *   stays small and a 50k-user tenant's directory is written once, not rewritten per slice.
 *
 * Decisions (the specs are silent):
 * - This is not committed state: a slice's pending state (watermarks, inventories) is kept with
 *   the slice and still goes live only after the ledger write (commitPending in pipeline.ts).
 * - A resumed scan keeps the first run's id and start time, so the findings, reports and the
 *   scan record are those of one scan, and time windows (sign-ins) mean what they meant.
 * - Progress is used for the same scan id (a queue continuation carries it), or by a timer
 *   (`resume`) for the pointer's scan once the run that wrote it must be gone (`heldUntil`: its
 *   deadline, or 30 minutes, host.json's functionTimeout, after it started) — two timer runs at
 *   once are two scans, serialised by the ledger lease, as before. It is discarded, with a note, when older than {@link MAX_PROGRESS_AGE_MS},
 *   of another Graph root, of other areas, or of another policy: the slices would not be those this
 *   run would read.
 * - At-least-once: two runs of one scan id may collect at once; under the ledger lease each
 *   re-reads the scan's progress document, and a run that finds it gone or `reconciled` stops
 *   ({@link ScanAlreadyDone} in pipeline.ts) — one reconciliation, one scan record, effects once.
 */
import { createHash } from 'node:crypto';
import type { Policy } from '../config/policy';
import type { Area } from '../rules/ids';
import type { StatePort } from '../store/ports';
import type { Slice, SliceName } from './snapshot';

export const PROGRESS_KEY = 'scan-progress';

/** Progress older than this is not resumed: the tenant has moved on, a fresh scan is truer (6 h, a quarter of the daily cycle). */
export const MAX_PROGRESS_AGE_MS = 6 * 3_600_000;

export const docKey = (scanId: string): string => `${PROGRESS_KEY}-${scanId}`;
export const sliceKey = (scanId: string, slice: SliceName): string => `${PROGRESS_KEY}-${scanId}-${slice}`;

/** How long a run without a deadline is presumed alive (host.json functionTimeout, 30 min). */
export const DEFAULT_HOLD_MS = 30 * 60_000;

export interface ScanProgress {
  version: 1;
  scanId: string;
  startedAt: string;
  graphRoot?: string | undefined;
  areas: Area[];
  policyHash: string;
  /** Slices finished and saved, in the order they finished. */
  done: SliceName[];
  savedAt: string;
  /** Until when the run that wrote it may still be running (a timer does not resume it before). */
  heldUntil: string;
  /** Set under the ledger lease once the scan is reconciled: a later run of the same id stops. */
  reconciled?: boolean;
}

/** A fingerprint of the policy (a changed policy changes what collectors read, e.g. drive selection). */
export function policyHash(policy: Policy): string {
  return createHash('sha256').update(JSON.stringify(policy)).digest('hex').slice(0, 16);
}

const pointerKey = (areas: readonly Area[]): string => `${PROGRESS_KEY}@${[...areas].sort().join(',')}`;

/** The scan id the tenant's pointer for `areas` names, or undefined. */
export async function latestScanId(store: StatePort, tenantId: string, areas: readonly Area[]): Promise<string | undefined> {
  const text = await store.getStateBlob(tenantId, pointerKey(areas));
  try {
    const id = text ? (JSON.parse(text) as { scanId?: unknown }).scanId : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A scan's stored progress, or undefined (none, or unreadable). */
export async function loadProgress(store: StatePort, tenantId: string, scanId: string): Promise<ScanProgress | undefined> {
  const text = await store.getStateBlob(tenantId, docKey(scanId));
  if (!text) return undefined;
  try {
    const p = JSON.parse(text) as Partial<ScanProgress>;
    if (p.version !== 1 || typeof p.scanId !== 'string' || typeof p.startedAt !== 'string' || !Array.isArray(p.done) || !Array.isArray(p.areas)) return undefined;
    return p as ScanProgress;
  } catch {
    return undefined;
  }
}

/** Why `progress` may not be resumed by this run, or undefined when it may. */
export function unusable(progress: ScanProgress, want: { scanId?: string | undefined; now: Date; graphRoot?: string | undefined; areas: readonly Area[]; policy: Policy }): string | undefined {
  if (want.scanId !== undefined && want.scanId !== progress.scanId) return `it belongs to scan ${progress.scanId}, not ${want.scanId}`;
  const age = want.now.getTime() - Date.parse(progress.startedAt);
  if (!Number.isFinite(age) || age > MAX_PROGRESS_AGE_MS) return `it was started at ${progress.startedAt}, more than ${MAX_PROGRESS_AGE_MS / 3_600_000} h ago`;
  if (progress.graphRoot && want.graphRoot && progress.graphRoot.toLowerCase() !== want.graphRoot.toLowerCase()) return `it was read at another Graph root (${progress.graphRoot})`;
  if ([...progress.areas].sort().join(',') !== [...want.areas].sort().join(',')) return `it covers other areas (${progress.areas.join(', ')})`;
  if (progress.policyHash !== policyHash(want.policy)) return 'the policy changed since';
  return undefined;
}

/** The done slices of `progress` (a slice whose blob is missing or unreadable is simply read again). */
export async function loadSlices(store: StatePort, tenantId: string, progress: ScanProgress): Promise<Map<SliceName, Slice<unknown>>> {
  const out = new Map<SliceName, Slice<unknown>>();
  for (const name of progress.done) {
    const text = await store.getStateBlob(tenantId, sliceKey(progress.scanId, name));
    if (!text) continue;
    try {
      out.set(name, JSON.parse(text) as Slice<unknown>);
    } catch {
      // Read again.
    }
  }
  return out;
}

/** Saves a scan's progress document (after each slice blob is written, so that `done` never names a missing blob). */
export async function saveProgress(store: StatePort, tenantId: string, progress: ScanProgress): Promise<void> {
  await store.putStateBlob(tenantId, docKey(progress.scanId), JSON.stringify(progress));
}

/** Points the tenant's pointer for `areas` at a scan (what a timer resumes). */
export async function pointAt(store: StatePort, tenantId: string, areas: readonly Area[], scanId: string): Promise<void> {
  await store.putStateBlob(tenantId, pointerKey(areas), JSON.stringify({ scanId }));
}

/** Saves one finished slice, then the pointer naming it. Calls are serialised by the caller. */
export async function saveSlice(store: StatePort, tenantId: string, progress: ScanProgress, name: SliceName, slice: Slice<unknown>, now: Date): Promise<void> {
  await store.putStateBlob(tenantId, sliceKey(progress.scanId, name), JSON.stringify(slice));
  if (!progress.done.includes(name)) progress.done.push(name);
  progress.savedAt = now.toISOString();
  await saveProgress(store, tenantId, progress);
}

/**
 * Forgets a scan's progress (after its scan record is saved, or when discarded): the pointer is
 * cleared if it still names this scan, the document and slice blobs deleted (or the document
 * emptied when the store cannot delete).
 */
export async function clearProgress(store: StatePort, tenantId: string, progress: Pick<ScanProgress, 'scanId' | 'done' | 'areas'>): Promise<void> {
  if ((await latestScanId(store, tenantId, progress.areas)) === progress.scanId) await store.putStateBlob(tenantId, pointerKey(progress.areas), '{}');
  if (store.deleteStateBlob) {
    for (const name of progress.done) await store.deleteStateBlob(tenantId, sliceKey(progress.scanId, name));
    await store.deleteStateBlob(tenantId, docKey(progress.scanId));
  } else {
    await store.putStateBlob(tenantId, docKey(progress.scanId), '{}');
  }
}
