/**
 * Pending state: what a collector read its way to — a sign-in watermark with its detector state, a
 * drive's delta link and inventory — handed back with its slice instead of written while it
 * collects. The pipeline stores it only after the scan's findings are in the ledger
 * ({@link commitPending}), so a run that stops anywhere before that (a crash, a failed ledger
 * write, a lost lease) leaves the stored state where it was and the next run reads the same
 * changes again: no change is ever skipped because the state moved on without its findings.
 */
import type { StatePort } from '../store/ports';

export interface PendingState {
  /** The state blob's key (per tenant). */
  key: string;
  /** The document to store (replaced whole). */
  value: string;
  /**
   * A watermark (ISO time) the value carries: a stored value with a later watermark of the same
   * Graph root is kept (two runs at once: the later one wins, a watermark never goes back).
   */
  watermark?: string;
  /** The Graph root the state was read at (a later watermark of another root holds nothing back). */
  graphRoot?: string;
}

/**
 * Stores one pending state unless the store holds a later watermark of the same Graph root.
 * Returns whether it was written.
 */
export async function commitOne(store: StatePort, tenantId: string, next: PendingState): Promise<boolean> {
  if (next.watermark !== undefined) {
    const current = await store.getStateBlob(tenantId, next.key);
    if (current) {
      let stored: { watermark?: unknown; graphRoot?: unknown } = {};
      try {
        stored = JSON.parse(current) as typeof stored;
      } catch {
        // An unreadable stored state is replaced by a readable one.
      }
      const storedRoot = typeof stored.graphRoot === 'string' ? stored.graphRoot : undefined;
      const sameRoot = storedRoot === undefined || next.graphRoot === undefined || storedRoot.toLowerCase() === next.graphRoot.toLowerCase();
      if (sameRoot && typeof stored.watermark === 'string' && Date.parse(stored.watermark) > Date.parse(next.watermark)) return false;
    }
  }
  await store.putStateBlob(tenantId, next.key, next.value);
  return true;
}

/** Stores every pending state of a scan, in order (call once the findings are in the ledger). Returns how many were written. */
export async function commitPending(store: StatePort, tenantId: string, pending: Iterable<PendingState>, beforeEach?: () => void): Promise<number> {
  let written = 0;
  for (const p of pending) {
    beforeEach?.();
    if (await commitOne(store, tenantId, p)) written++;
  }
  return written;
}
