/**
 * Durable state in Azure Storage: scan records (Table `scans`), key/value state for later
 * features (Table `state`: watermarks, delta links), and report copies (Blob container
 * `reports`). Everything is keyed by tenant so one storage account can serve several tenants.
 */
import { TableClient, TableServiceClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import type { StorageEndpoints } from '../config/settings';
import { hostname } from 'node:os';
import { StoreError } from '../errors';
import type { Coverage, SliceName } from '../collect/snapshot';
import type { LedgerEntry } from '../findings/ledger';
import type { Area, Severity } from '../rules/ids';
import type { AuditStore } from './ports';

/** What a scan leaves behind in the `scans` table. */
export interface ScanRecord {
  tenantId: string;
  scanId: string;
  startedAt: string;
  finishedAt: string;
  areas: Area[];
  coverage: Partial<Record<Area, Coverage>>;
  counts: Record<Severity, number>;
  excepted: number;
  /** 0 complete, 2 partial or failed coverage (outputs.md exit codes). */
  exitCode: 0 | 2;
  /** Item counts of the slices read complete and plausible: the next scans' baselines (plausibility.ts). */
  slices?: Partial<Record<SliceName, number>>;
}

const TABLES = ['scans', 'state', 'ledger'] as const;

/** Table string properties hold at most 32K UTF-16 characters: documents are split across `d0…dN`. */
const CHUNK = 30_000;

function splitDoc(doc: string): Record<string, string | number> {
  const out: Record<string, string | number> = { chunks: Math.max(1, Math.ceil(doc.length / CHUNK)) };
  for (let i = 0; i * CHUNK < doc.length || i === 0; i++) out[`d${i}`] = doc.slice(i * CHUNK, (i + 1) * CHUNK);
  return out;
}

function joinDoc(e: Record<string, unknown>): string {
  const n = Number(e.chunks ?? 1);
  return Array.from({ length: n }, (_, i) => String(e[`d${i}`] ?? '')).join('');
}

/** Inverted timestamp so that the newest scan sorts first within a tenant's partition. */
function newestFirstKey(iso: string, scanId: string): string {
  return `${String(8_640_000_000_000_000 - Date.parse(iso)).padStart(16, '0')}_${scanId}`;
}

/** Escapes a value for an OData filter string literal. */
function odataString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** How a store behaves beyond its account: hooks the CLI sets for the embedded Azurite. */
export interface StoreOptions {
  /**
   * Waits until what was written is on disk (the embedded Azurite saves every 5 s): given a writer
   * of a marker value, resolves once the marker is saved. A storage account needs none: a write it
   * acknowledged is durable.
   */
  waitForSave?: (write: (marker: string) => Promise<void>) => Promise<void>;
  /** Hears, once per wait, that a run waits for the ledger lease: whom it waits for and how long at most. */
  onLeaseWait?: (message: string) => void;
}

/**
 * Where the store lives: a connection string (Azurite, a key-based account), or an account's
 * endpoints with a credential (the Function App's managed identity: AzureWebJobsStorage__*).
 */
export type StorageTarget = string | { endpoints: StorageEndpoints; credential: TokenCredential };

/** The clients of a target, made without any network call (the first request authenticates). */
export function storeClients(target: StorageTarget): { service: TableServiceClient; table(name: string): TableClient; blobs: BlobServiceClient } {
  if (typeof target === 'string') {
    const options = { allowInsecureConnection: /DefaultEndpointsProtocol=http;|Endpoint=http:\/\//i.test(target) };
    return {
      service: TableServiceClient.fromConnectionString(target, options),
      table: (name) => TableClient.fromConnectionString(target, name, options),
      blobs: BlobServiceClient.fromConnectionString(target),
    };
  }
  const { endpoints, credential } = target;
  return {
    service: new TableServiceClient(endpoints.tableServiceUri, credential),
    table: (name) => new TableClient(endpoints.tableServiceUri, name, credential),
    blobs: new BlobServiceClient(endpoints.blobServiceUri, credential),
  };
}

/** The Azure Tables / Blobs store (or Azurite): every port of ./ports. */
export class Store implements AuditStore {
  private constructor(
    private readonly tables: Record<(typeof TABLES)[number], TableClient>,
    private readonly reports: ContainerClient,
    private readonly stateBlobs: ContainerClient,
    private readonly options: StoreOptions = {},
    private readonly digests?: ContainerClient,
    private readonly evidence?: ContainerClient,
  ) {}

  /**
   * Makes the writes so far durable before the caller goes on (tickets leave, the lease is let
   * go). With a storage account an acknowledged write already is; with the embedded Azurite this
   * waits for its next save (at most ~5 s).
   */
  async ensureSaved(tenantId: string): Promise<void> {
    await this.options.waitForSave?.((marker) => this.setState(tenantId, 'embedded-save-marker', marker));
  }

  /** Connects and creates the tables and the container if they are missing. */
  static async connect(target: StorageTarget, storeOptions: StoreOptions = {}): Promise<Store> {
    try {
      const clients = storeClients(target);
      const service = clients.service;
      const tables = Object.fromEntries(
        await Promise.all(
          TABLES.map(async (name) => {
            await service.createTable(name);
            return [name, clients.table(name)] as const;
          }),
        ),
      ) as Record<(typeof TABLES)[number], TableClient>;
      const blobs = clients.blobs;
      const reports = blobs.getContainerClient('reports');
      const stateBlobs = blobs.getContainerClient('state');
      const digests = blobs.getContainerClient('digests');
      // The evidence trail (store/evidence.ts); in Azure infra/main.bicep creates it with its immutability policy.
      const evidence = blobs.getContainerClient('evidence');
      await Promise.all([reports.createIfNotExists(), stateBlobs.createIfNotExists(), digests.createIfNotExists(), evidence.createIfNotExists()]);
      return new Store(tables, reports, stateBlobs, storeOptions, digests, evidence);
    } catch (err) {
      const first = (err as Error).message.split('\n')[0];
      if (typeof target !== 'string') {
        throw new StoreError(
          `cannot open Azure Storage at ${target.endpoints.tableServiceUri} with the managed identity (${first}) — check AzureWebJobsStorage__accountName (or __blobServiceUri/__tableServiceUri) and that the identity has Storage Table Data Contributor and Storage Blob Data Contributor (or Owner) on the account`,
          { cause: err },
        );
      }
      throw new StoreError(
        `cannot open Azure Storage (${first}) — check AZURE_STORAGE_CONNECTION_STRING, or unset it to use the embedded Azurite`,
        { cause: err },
      );
    }
  }

  /** Records a finished scan. */
  async saveScan(record: ScanRecord): Promise<void> {
    const entity: TableEntity = {
      partitionKey: record.tenantId,
      rowKey: newestFirstKey(record.startedAt, record.scanId),
      scanId: record.scanId,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt,
      areas: JSON.stringify(record.areas),
      coverage: JSON.stringify(record.coverage),
      counts: JSON.stringify(record.counts),
      excepted: record.excepted,
      exitCode: record.exitCode,
      ...(record.slices ? { slices: JSON.stringify(record.slices) } : {}),
    };
    await this.tables.scans.upsertEntity(entity, 'Replace');
  }

  /** The tenant's scans, newest first. */
  async listScans(tenantId: string, limit = 50): Promise<ScanRecord[]> {
    const out: ScanRecord[] = [];
    const iter = this.tables.scans.listEntities<Record<string, unknown>>({ queryOptions: { filter: `PartitionKey eq ${odataString(tenantId)}` } });
    for await (const e of iter) {
      out.push({
        tenantId,
        scanId: String(e.scanId),
        startedAt: String(e.startedAt),
        finishedAt: String(e.finishedAt),
        areas: JSON.parse(String(e.areas)) as Area[],
        coverage: JSON.parse(String(e.coverage)) as ScanRecord['coverage'],
        counts: JSON.parse(String(e.counts)) as ScanRecord['counts'],
        excepted: Number(e.excepted),
        exitCode: Number(e.exitCode) === 0 ? 0 : 2,
        ...(typeof e.slices === 'string' ? { slices: JSON.parse(e.slices) as ScanRecord['slices'] } : {}),
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Every ledger entry of a tenant, by finding id. */
  async getLedger(tenantId: string): Promise<Map<string, LedgerEntry>> {
    const out = new Map<string, LedgerEntry>();
    const iter = this.tables.ledger.listEntities<Record<string, unknown>>({ queryOptions: { filter: `PartitionKey eq ${odataString(tenantId)}` } });
    for await (const e of iter) {
      const entry = JSON.parse(joinDoc(e)) as LedgerEntry;
      out.set(entry.id, entry);
    }
    return out;
  }

  /** One ledger entry, or undefined. */
  async getLedgerEntry(tenantId: string, findingId: string): Promise<LedgerEntry | undefined> {
    try {
      const e = await this.tables.ledger.getEntity<Record<string, unknown>>(tenantId, findingId);
      return JSON.parse(joinDoc(e)) as LedgerEntry;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Writes ledger entries (whole), in table transactions of at most 100 entities and ~2 MB. */
  async putLedgerEntries(tenantId: string, entries: readonly LedgerEntry[]): Promise<void> {
    let batch: TransactionAction[] = [];
    let size = 0;
    const flush = async (): Promise<void> => {
      if (batch.length) await this.tables.ledger.submitTransaction(batch);
      batch = [];
      size = 0;
    };
    for (const entry of entries) {
      const doc = JSON.stringify(entry);
      if (batch.length >= 100 || size + doc.length * 2 > 2_000_000) await flush();
      batch.push(['upsert', { partitionKey: tenantId, rowKey: entry.id, ruleId: entry.ruleId, status: entry.status, ...splitDoc(doc) }, 'Replace']);
      size += doc.length * 2;
    }
    await flush();
  }

  /**
   * Runs `fn` holding the tenant's ledger lease (a blob lease), so that two runs never reconcile
   * the same ledger at once. A second run waits up to `waitMs`, then fails with a clear message;
   * it never writes half a reconciliation over another. The holder (pid, host, since when) is
   * kept in the lock blob's metadata so that a waiting run can say whom it waits for; before the
   * lease is let go the writes are made durable ({@link ensureSaved}).
   */
  async withLedgerLease<T>(tenantId: string, fn: (assertHeld: () => void) => Promise<T>, waitMs = 120_000): Promise<T> {
    const blob = this.stateBlobs.getBlockBlobClient(`${tenantId}/ledger.lock`);
    if (!(await blob.exists())) await blob.uploadData(Buffer.from('lock'), { conditions: { ifNoneMatch: '*' } }).catch(() => undefined);
    const lease = blob.getBlobLeaseClient();
    const deadline = Date.now() + waitMs;
    let told = '';
    for (;;) {
      try {
        await lease.acquireLease(60);
        break;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 409) throw err;
        const holder = await this.leaseHolder(blob);
        if (Date.now() >= deadline) {
          throw new StoreError(
            `another run is reconciling the ledger of tenant ${tenantId} (its lease is held${holder ? ` by ${holder}` : ''}); nothing was written by this run — run again once it has finished`,
          );
        }
        if (holder !== told) {
          told = holder;
          this.options.onLeaseWait?.(
            `waiting for the ledger lease of tenant ${tenantId}, held by ${holder || 'another run'}; waiting up to ${Math.ceil((deadline - Date.now()) / 1000)} s more (a lease whose holder died lapses within 60 s)`,
          );
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    // Who holds it, for the runs that wait (metadata values are ASCII: the host name is encoded).
    await blob
      .setMetadata({ holderpid: String(process.pid), holderhost: encodeURIComponent(hostname()), holdersince: new Date().toISOString() }, { conditions: { leaseId: lease.leaseId } })
      .catch(() => undefined);
    // Renew well within the 60-second lease while the work goes on. A renewal that fails means
    // another run may own the ledger by now: writes check `assertHeld` and stop instead.
    let lost: unknown;
    const renew = setInterval(() => {
      lease.renewLease().catch((err: unknown) => {
        lost ??= err;
      });
    }, 20_000);
    const assertHeld = (): void => {
      if (lost !== undefined) {
        throw new StoreError(`the ledger lease of tenant ${tenantId} could not be renewed; this run stopped writing to avoid overwriting another run — run again`);
      }
    };
    try {
      const out = await fn(assertHeld);
      // The next holder starts from what is on disk, whatever happens to this storage later.
      await this.ensureSaved(tenantId);
      return out;
    } finally {
      clearInterval(renew);
      // No stale holder description for whoever takes it next.
      await blob.setMetadata({}, { conditions: { leaseId: lease.leaseId } }).catch(() => undefined);
      await lease.releaseLease().catch(() => undefined);
    }
  }

  /** "pid 123 on host h since <iso>" from the lock blob's metadata, or '' when it has none. */
  private async leaseHolder(blob: ReturnType<ContainerClient['getBlockBlobClient']>): Promise<string> {
    try {
      const m = (await blob.getProperties()).metadata ?? {};
      if (!m.holderpid) return '';
      const host = decodeURIComponent(m.holderhost ?? '?');
      // A holder on this host that is gone (killed) cannot release: say that its lease will lapse.
      const gone = host === hostname() && !pidAlive(Number(m.holderpid));
      return `m365-audit pid ${m.holderpid} on host ${host} since ${m.holdersince ?? '?'}${gone ? ' (no longer running)' : ''}`;
    } catch {
      return '';
    }
  }

  /** Reads a state value (watermarks, delta links); undefined when never written. */
  async getState(tenantId: string, key: string): Promise<string | undefined> {
    try {
      const e = await this.tables.state.getEntity<{ value: string }>(tenantId, encodeKey(key));
      return e.value;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Writes a state value. */
  async setState(tenantId: string, key: string, value: string): Promise<void> {
    await this.tables.state.upsertEntity({ partitionKey: tenantId, rowKey: encodeKey(key), value }, 'Replace');
  }

  /**
   * Reads a larger state document (detector state, delta inventories): a blob
   * `state/<tenantId>/<key>.json`, since table properties stop at 64 KiB.
   */
  async getStateBlob(tenantId: string, key: string): Promise<string | undefined> {
    try {
      return (await this.stateBlobs.getBlockBlobClient(`${tenantId}/${encodeKey(key)}.json`).downloadToBuffer()).toString('utf8');
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Writes a state document (replacing it whole; a reader never sees half of one). */
  async putStateBlob(tenantId: string, key: string, value: string): Promise<void> {
    const data = Buffer.from(value, 'utf8');
    await this.stateBlobs.getBlockBlobClient(`${tenantId}/${encodeKey(key)}.json`).uploadData(data, { blobHTTPHeaders: { blobContentType: 'application/json' } });
  }

  /**
   * Creates a state document unless one exists (`If-None-Match: *`: the service answers 409
   * BlobAlreadyExists, or 412 on a condition race, to every caller but the first).
   */
  async createStateBlob(tenantId: string, key: string, value: string): Promise<boolean> {
    try {
      await this.stateBlobs
        .getBlockBlobClient(`${tenantId}/${encodeKey(key)}.json`)
        .uploadData(Buffer.from(value, 'utf8'), { blobHTTPHeaders: { blobContentType: 'application/json' }, conditions: { ifNoneMatch: '*' } });
      return true;
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 409 || status === 412) return false;
      throw err;
    }
  }

  /** Deletes a state document (scan progress once its scan is recorded); missing is fine. */
  async deleteStateBlob(tenantId: string, key: string): Promise<void> {
    await this.stateBlobs.getBlockBlobClient(`${tenantId}/${encodeKey(key)}.json`).deleteIfExists();
  }

  /** Keeps a copy of a report file: `reports/<tenantId>/<scanId>/<name>`. */
  async putReport(tenantId: string, scanId: string, name: string, content: string | Buffer, contentType: string): Promise<string> {
    const blob = this.reports.getBlockBlobClient(`${tenantId}/${scanId}/${name}`);
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    await blob.uploadData(data, { blobHTTPHeaders: { blobContentType: contentType } });
    return blob.name;
  }

  /** Keeps a month's CISO digest: blob `digests/<tenantId>/<YYYY-MM>.html`; returns its URL. */
  async putDigest(tenantId: string, month: string, html: string): Promise<string> {
    if (!this.digests) throw new StoreError('the digests container is not open');
    const blob = this.digests.getBlockBlobClient(`${tenantId}/${month}.html`);
    await blob.uploadData(Buffer.from(html, 'utf8'), { blobHTTPHeaders: { blobContentType: 'text/html; charset=utf-8' } });
    return blob.url;
  }

  /** A month's digest as stored, or undefined. */
  async getDigest(tenantId: string, month: string): Promise<string | undefined> {
    if (!this.digests) return undefined;
    try {
      return (await this.digests.getBlockBlobClient(`${tenantId}/${month}.html`).downloadToBuffer()).toString('utf8');
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  private evidenceContainer(): ContainerClient {
    if (!this.evidence) throw new StoreError('the evidence container is not open');
    return this.evidence;
  }

  /**
   * The tenant's record names, in name order (blob listings are in name order). A listing page
   * holds up to 5000 names; the iterator follows the continuation.
   */
  async listEvidence(tenantId: string): Promise<string[]> {
    const prefix = `${tenantId}/`;
    const out: string[] = [];
    for await (const b of this.evidenceContainer().listBlobsFlat({ prefix })) out.push(b.name.slice(prefix.length));
    return out.sort();
  }

  async getEvidence(tenantId: string, name: string): Promise<string | undefined> {
    try {
      return (await this.evidenceContainer().getBlockBlobClient(`${tenantId}/${name}`).downloadToBuffer()).toString('utf8');
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Get Blob Properties (HEAD): 200 → true, 404 → false (BlobClient.exists). */
  async evidenceExists(tenantId: string, name: string): Promise<boolean> {
    return this.evidenceContainer().getBlockBlobClient(`${tenantId}/${name}`).exists();
  }

  /**
   * Creates a record with `If-None-Match: *`: 409 (BlobAlreadyExists) or 412 means another writer
   * created that name first (Put Blob, "Specifying conditional headers for Blob service operations").
   */
  async createEvidence(tenantId: string, name: string, content: string): Promise<boolean> {
    try {
      await this.evidenceContainer()
        .getBlockBlobClient(`${tenantId}/${name}`)
        .uploadData(Buffer.from(content, 'utf8'), { conditions: { ifNoneMatch: '*' }, blobHTTPHeaders: { blobContentType: 'application/json' } });
      return true;
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 409 || status === 412) return false;
      throw err;
    }
  }

  /** Reads a report copy back. */
  async getReport(tenantId: string, scanId: string, name: string): Promise<Buffer> {
    return this.reports.getBlockBlobClient(`${tenantId}/${scanId}/${name}`).downloadToBuffer();
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Table keys may not contain / \ # ? or control characters. */
function encodeKey(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}
