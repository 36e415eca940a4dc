/**
 * Durable state in Azure Storage: scan records (Table `scans`), key/value state for later
 * features (Table `state`: watermarks, delta links), and report copies (Blob container
 * `reports`). Everything is keyed by tenant so one storage account can serve several tenants.
 */
import { TableClient, TableServiceClient, type TableEntity } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { StoreError } from '../errors';
import type { Coverage } from '../collect/snapshot';
import type { Area, Severity } from '../rules/ids';

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
}

const TABLES = ['scans', 'state'] as const;

/** Inverted timestamp so that the newest scan sorts first within a tenant's partition. */
function newestFirstKey(iso: string, scanId: string): string {
  return `${String(8_640_000_000_000_000 - Date.parse(iso)).padStart(16, '0')}_${scanId}`;
}

/** Escapes a value for an OData filter string literal. */
function odataString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export class Store {
  private constructor(
    private readonly tables: Record<(typeof TABLES)[number], TableClient>,
    private readonly reports: ContainerClient,
    private readonly stateBlobs: ContainerClient,
  ) {}

  /** Connects and creates the tables and the container if they are missing. */
  static async connect(connectionString: string): Promise<Store> {
    const insecure = /DefaultEndpointsProtocol=http;|Endpoint=http:\/\//i.test(connectionString);
    const options = { allowInsecureConnection: insecure };
    try {
      const service = TableServiceClient.fromConnectionString(connectionString, options);
      const tables = Object.fromEntries(
        await Promise.all(
          TABLES.map(async (name) => {
            await service.createTable(name);
            return [name, TableClient.fromConnectionString(connectionString, name, options)] as const;
          }),
        ),
      ) as Record<(typeof TABLES)[number], TableClient>;
      const blobs = BlobServiceClient.fromConnectionString(connectionString);
      const reports = blobs.getContainerClient('reports');
      const stateBlobs = blobs.getContainerClient('state');
      await Promise.all([reports.createIfNotExists(), stateBlobs.createIfNotExists()]);
      return new Store(tables, reports, stateBlobs);
    } catch (err) {
      throw new StoreError(
        `cannot open Azure Storage (${(err as Error).message.split('\n')[0]}) — check AZURE_STORAGE_CONNECTION_STRING, or unset it to use the embedded Azurite`,
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
      });
      if (out.length >= limit) break;
    }
    return out;
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

  /** Deletes a state document (e.g. to restart the sign-in watch). */
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

  /** Reads a report copy back. */
  async getReport(tenantId: string, scanId: string, name: string): Promise<Buffer> {
    return this.reports.getBlockBlobClient(`${tenantId}/${scanId}/${name}`).downloadToBuffer();
  }
}

/** Table keys may not contain / \ # ? or control characters. */
function encodeKey(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}
