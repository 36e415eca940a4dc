/**
 * The narrow storage ports the code needs, so that each part depends only on what it uses and
 * tests can run it on an in-memory store ({@link MemoryStore}) or inject a failure at any write:
 * - {@link LedgerPort}: the findings ledger and the lease that serialises reconciliations;
 * - {@link StatePort}: watermarks, detector state, drive inventories;
 * - {@link ScanPort}: scan records (the plausibility baselines, the digest's months);
 * - {@link ReportPort}: report copies;
 * - {@link EvidencePort}: the evidence trail (create-once records).
 * {@link Store} (Azure Tables and Blobs, or Azurite) implements them all.
 */
import type { LedgerEntry } from '../findings/ledger';
import type { ScanRecord } from './store';

export interface LedgerPort {
  /** Every ledger entry of a tenant, by finding id. */
  getLedger(tenantId: string): Promise<Map<string, LedgerEntry>>;
  getLedgerEntry(tenantId: string, findingId: string): Promise<LedgerEntry | undefined>;
  /** Writes entries (each replaced whole). */
  putLedgerEntries(tenantId: string, entries: readonly LedgerEntry[]): Promise<void>;
  /**
   * Runs `fn` holding the tenant's ledger lease: two runs never reconcile one ledger at once.
   * `assertHeld` throws once the lease is lost, so writes stop instead of overwriting.
   */
  withLedgerLease<T>(tenantId: string, fn: (assertHeld: () => void) => Promise<T>, waitMs?: number): Promise<T>;
  /**
   * Resolves once everything written so far is durable, before effects leave (tickets): the
   * embedded Azurite saves to disk every 5 s; a storage account, or memory, needs no wait.
   */
  ensureSaved(tenantId: string): Promise<void>;
}

export interface StatePort {
  getState(tenantId: string, key: string): Promise<string | undefined>;
  setState(tenantId: string, key: string, value: string): Promise<void>;
  /** A larger state document (replaced whole; a reader never sees half of one). */
  getStateBlob(tenantId: string, key: string): Promise<string | undefined>;
  putStateBlob(tenantId: string, key: string, value: string): Promise<void>;
  /** Deletes a state document (no error when missing); optional: a store without it leaves the blob. */
  deleteStateBlob?(tenantId: string, key: string): Promise<void>;
  /**
   * Writes a state document only if none exists under `key` (a conditional create: Blob
   * `If-None-Match: *`); true when this call created it. Two callers at once: exactly one wins —
   * what scan shards use to record a shard's result once and to reconcile a sharded scan once.
   */
  createStateBlob?(tenantId: string, key: string, value: string): Promise<boolean>;
}

export interface ScanPort {
  saveScan(record: ScanRecord): Promise<void>;
  /** The newest scan records of a tenant first. */
  listScans(tenantId: string, limit?: number): Promise<ScanRecord[]>;
}

export interface ReportPort {
  /** Keeps a copy of a report file; returns its name in the store. */
  putReport(tenantId: string, scanId: string, name: string, content: string | Buffer, contentType: string): Promise<string>;
  getReport(tenantId: string, scanId: string, name: string): Promise<Buffer>;
}

/** The CISO digests (src/digest/): one HTML document per tenant and month. */
export interface DigestPort {
  /** Keeps a month's digest as `digests/<tenantId>/<YYYY-MM>.html`; returns its URL (or name) in the store. */
  putDigest(tenantId: string, month: string, html: string): Promise<string>;
  getDigest(tenantId: string, month: string): Promise<string | undefined>;
}

/**
 * The evidence trail (src/store/evidence.ts, standard 5-3-2): create-once records, blob container
 * `evidence`, names `<tenantId>/<sequence>.json`. Nothing here overwrites or deletes.
 */
export interface EvidencePort {
  /**
   * The record names of a tenant (without the `<tenantId>/` prefix), in name order. One listing
   * request per 5 000 names: `verify` uses it (it walks everything); `append` does not.
   */
  listEvidence(tenantId: string): Promise<string[]>;
  /** A record's text, or undefined when there is none of that name. */
  getEvidence(tenantId: string, name: string): Promise<string | undefined>;
  /**
   * Whether a record of that name exists (Get Blob Properties, a HEAD request: no body). Optional:
   * without it, existence is a read ({@link getEvidence}). The append's head search uses it.
   */
  evidenceExists?(tenantId: string, name: string): Promise<boolean>;
  /** Creates a record only if no blob has its name (If-None-Match: *); false when one has. */
  createEvidence(tenantId: string, name: string, content: string): Promise<boolean>;
}

/** Everything a scan run stores. */
export type AuditStore = LedgerPort & StatePort & ScanPort & ReportPort & DigestPort & EvidencePort;
