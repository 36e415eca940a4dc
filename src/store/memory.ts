/**
 * An in-memory {@link AuditStore}: the same contract as the Azure one (tests/store/ports.test.ts
 * runs both through it), for pure tests without Azurite and for crash tests, which pass `onWrite`
 * to fail or stop at any write. Values are copied in and out, as a real store serialises them, so
 * a caller can never change what is stored by mutating what it read.
 */
import { StoreError } from '../errors';
import type { LedgerEntry } from '../findings/ledger';
import type { AuditStore } from './ports';
import type { ScanRecord } from './store';

/** A write about to happen: what it is and for which tenant (crash tests throw here). */
export interface MemoryWrite {
  op: 'putLedgerEntries' | 'setState' | 'putStateBlob' | 'saveScan' | 'putReport' | 'putDigest' | 'createEvidence';
  tenantId: string;
  /** Ledger entry ids, the state key, the scan id or the report name. */
  keys: string[];
}

export interface MemoryStoreOptions {
  /** Called before every write; a throw fails the write, and nothing of it is stored. */
  onWrite?: (write: MemoryWrite) => void;
}

const copy = <T>(value: T): T => structuredClone(value);

export class MemoryStore implements AuditStore {
  private readonly ledgers = new Map<string, Map<string, LedgerEntry>>();
  private readonly state = new Map<string, string>();
  private readonly blobs = new Map<string, string>();
  private readonly scans = new Map<string, ScanRecord[]>();
  private readonly reports = new Map<string, Buffer>();
  private readonly digests = new Map<string, string>();
  private readonly evidence = new Map<string, string>();
  private readonly leases = new Map<string, Promise<void>>();

  constructor(private readonly options: MemoryStoreOptions = {}) {}

  private write(op: MemoryWrite['op'], tenantId: string, keys: string[]): void {
    this.options.onWrite?.({ op, tenantId, keys });
  }

  async getLedger(tenantId: string): Promise<Map<string, LedgerEntry>> {
    return new Map([...(this.ledgers.get(tenantId) ?? new Map<string, LedgerEntry>())].map(([k, v]) => [k, copy(v)]));
  }

  async getLedgerEntry(tenantId: string, findingId: string): Promise<LedgerEntry | undefined> {
    const e = this.ledgers.get(tenantId)?.get(findingId);
    return e ? copy(e) : undefined;
  }

  async putLedgerEntries(tenantId: string, entries: readonly LedgerEntry[]): Promise<void> {
    this.write('putLedgerEntries', tenantId, entries.map((e) => e.id));
    const ledger = this.ledgers.get(tenantId) ?? new Map<string, LedgerEntry>();
    for (const e of entries) ledger.set(e.id, copy(e));
    this.ledgers.set(tenantId, ledger);
  }

  /** One holder per tenant at a time; a waiter gives up after `waitMs` as the Azure lease does. */
  async withLedgerLease<T>(tenantId: string, fn: (assertHeld: () => void) => Promise<T>, waitMs = 120_000): Promise<T> {
    const deadline = Date.now() + waitMs;
    while (this.leases.has(tenantId)) {
      const held = this.leases.get(tenantId) as Promise<void>;
      const left = deadline - Date.now();
      const timedOut = await Promise.race([held.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), Math.max(0, left)))]);
      if (timedOut && this.leases.has(tenantId)) {
        throw new StoreError(`another run is reconciling the ledger of tenant ${tenantId} (its lease is held); nothing was written by this run — run again once it has finished`);
      }
    }
    let release: () => void = () => undefined;
    this.leases.set(tenantId, new Promise<void>((r) => (release = r)));
    try {
      return await fn(() => undefined);
    } finally {
      this.leases.delete(tenantId);
      release();
    }
  }

  /** Memory is as durable as it gets here: nothing to wait for. */
  async ensureSaved(_tenantId: string): Promise<void> {
    return undefined;
  }

  async getState(tenantId: string, key: string): Promise<string | undefined> {
    return this.state.get(`${tenantId}\n${key}`);
  }

  async setState(tenantId: string, key: string, value: string): Promise<void> {
    this.write('setState', tenantId, [key]);
    this.state.set(`${tenantId}\n${key}`, value);
  }

  async getStateBlob(tenantId: string, key: string): Promise<string | undefined> {
    return this.blobs.get(`${tenantId}\n${key}`);
  }

  async putStateBlob(tenantId: string, key: string, value: string): Promise<void> {
    this.write('putStateBlob', tenantId, [key]);
    this.blobs.set(`${tenantId}\n${key}`, value);
  }

  async createStateBlob(tenantId: string, key: string, value: string): Promise<boolean> {
    if (this.blobs.has(`${tenantId}\n${key}`)) return false;
    this.write('putStateBlob', tenantId, [key]);
    this.blobs.set(`${tenantId}\n${key}`, value);
    return true;
  }

  async deleteStateBlob(tenantId: string, key: string): Promise<void> {
    this.write('putStateBlob', tenantId, [key]);
    this.blobs.delete(`${tenantId}\n${key}`);
  }

  async saveScan(record: ScanRecord): Promise<void> {
    this.write('saveScan', record.tenantId, [record.scanId]);
    const list = (this.scans.get(record.tenantId) ?? []).filter((r) => r.scanId !== record.scanId);
    list.push(copy(record));
    this.scans.set(record.tenantId, list);
  }

  async listScans(tenantId: string, limit = 50): Promise<ScanRecord[]> {
    const newestFirst = [...(this.scans.get(tenantId) ?? [])].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || b.scanId.localeCompare(a.scanId));
    return newestFirst.slice(0, limit).map(copy);
  }

  async putReport(tenantId: string, scanId: string, name: string, content: string | Buffer, _contentType: string): Promise<string> {
    this.write('putReport', tenantId, [name]);
    const blobName = `${tenantId}/${scanId}/${name}`;
    this.reports.set(blobName, Buffer.from(typeof content === 'string' ? Buffer.from(content, 'utf8') : content));
    return blobName;
  }

  async getReport(tenantId: string, scanId: string, name: string): Promise<Buffer> {
    const data = this.reports.get(`${tenantId}/${scanId}/${name}`);
    if (!data) throw new StoreError(`no report ${name} for scan ${scanId} of tenant ${tenantId}`);
    return Buffer.from(data);
  }

  async putDigest(tenantId: string, month: string, html: string): Promise<string> {
    this.write('putDigest', tenantId, [month]);
    const name = `digests/${tenantId}/${month}.html`;
    this.digests.set(name, html);
    return name;
  }

  async getDigest(tenantId: string, month: string): Promise<string | undefined> {
    return this.digests.get(`digests/${tenantId}/${month}.html`);
  }

  async listEvidence(tenantId: string): Promise<string[]> {
    const prefix = `${tenantId}/`;
    return [...this.evidence.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)).sort();
  }

  async getEvidence(tenantId: string, name: string): Promise<string | undefined> {
    return this.evidence.get(`${tenantId}/${name}`);
  }

  async evidenceExists(tenantId: string, name: string): Promise<boolean> {
    return this.evidence.has(`${tenantId}/${name}`);
  }

  /** Create-once, as the blob store's If-None-Match: * (checked and set with no await between). */
  async createEvidence(tenantId: string, name: string, content: string): Promise<boolean> {
    this.write('createEvidence', tenantId, [name]);
    const key = `${tenantId}/${name}`;
    if (this.evidence.has(key)) return false;
    this.evidence.set(key, content);
    return true;
  }

  /** Tests only: what an attacker with write access to the store could do to a record. */
  tamperEvidence(tenantId: string, name: string, content: string | undefined): void {
    if (content === undefined) this.evidence.delete(`${tenantId}/${name}`);
    else this.evidence.set(`${tenantId}/${name}`, content);
  }
}
