/**
 * What a collector receives. Collectors do all the I/O of a scan and return plain slices; a
 * collector that needs another slice (inbox rules need the user list) asks for it through
 * `slice()`, so each slice is collected once per scan and shared.
 */
import type { Policy } from '../config/policy';
import type { Graph } from '../graph/graph';
import type { DnsLookup } from './dns';
import type { StatePort } from '../store/ports';
import type { Slice, SliceData, SliceName } from './snapshot';
import type { SignInEvent } from '../signins/detector';

export interface CollectOptions {
  /** First sign-in watch (no watermark yet): how far back to read, in hours (default 24, at most 720). */
  signInBackfillHours: number;
  /** Sign-ins are read in time chunks of this many hours, oldest first (memory is bounded by one chunk). */
  signInChunkHours: number;
  /**
   * Each watch re-reads this many minutes before its watermark, for late-arriving sign-ins
   * (default 120: "Microsoft Entra monitoring and health FAQ" — sign-in data "might take up to two
   * hours to fully aggregate"). Sign-ins read twice are counted once (de-duplication by id, and the
   * detector state kept across runs spans the overlap plus one window).
   */
  signInOverlapMinutes: number;
  /**
   * Ignore stored watermarks, detector state and drive inventories, and start afresh (the demo,
   * whose simulated tenant is regenerated each run). What the scan reads is stored as usual.
   */
  freshState: boolean;
  /**
   * Read every user with signInActivity this scan, whatever the stored state says (the bench's
   * weekly full scan, tests). Otherwise a full read runs every accounts.fullSignInActivityReadDays
   * and the scans in between read incrementally (collect/identity.ts).
   */
  fullSignInActivityRead?: boolean;
  /**
   * Rows a page of the MFA registration report is taken to hold, for the MFA cost guard
   * (collect/identity.ts registrationReadCost; default REGISTRATION_PAGE, 1000: the docs state
   * none). Tests set the simulator's page size here.
   */
  registrationPageSize?: number;
}

export const DEFAULT_COLLECT_OPTIONS: CollectOptions = {
  signInBackfillHours: 24,
  signInChunkHours: 6,
  signInOverlapMinutes: 120,
  freshState: false,
};

/**
 * Sign-ins handed to a run by a stream (an Event Hub batch of Entra diagnostic records,
 * signins/diagnostic.ts) instead of read from Graph: the watch's detector and state take them
 * just the same.
 */
export interface SignInStreamBatch {
  /** Where the batch came from, for coverage (e.g. `Event Hub m365-audit-signins`). */
  source: string;
  events: SignInEvent[];
  /** Unreadable messages and records (each naming where and why): the slice is partial. */
  problems: string[];
  /** Records of other categories, by category (not sign-ins this watch reads). */
  ignored: Record<string, number>;
}

export interface CollectContext {
  graph: Graph;
  /** The scan's start time. */
  now: Date;
  policy: Policy;
  tenantId: string;
  /** Where watermarks and detector state live; without it every watch starts afresh. */
  store?: StatePort | undefined;
  options: CollectOptions;
  /** Sign-ins from a stream: the `signIns` collector feeds these to the detector instead of reading Graph. */
  signInStream?: SignInStreamBatch | undefined;
  /**
   * The checkpoint of the shard running this collector (src/jobs/shards.ts: state blobs keyed by
   * the scan id and the shard), so that a shard the queue redelivers after its worker died goes on
   * from what it finished instead of reading it again. The files collector keeps each finished
   * drive there. Absent (an unsharded scan): nothing is checkpointed inside a slice.
   */
  checkpoint?: ShardCheckpoint | undefined;
  /**
   * The DNS servers MAIL-02 asks (collect/dns.ts), overriding `mail.dnsServers` (the demo passes
   * its simulator's). Absent: `mail.dnsServers`, else the simulator's for a loopback Graph root,
   * else the system resolver.
   */
  dnsServers?: readonly string[] | undefined;
  /** A DNS lookup to use instead of Node's resolver (tests). */
  dnsLookup?: DnsLookup | undefined;
  /** Another slice this collector depends on (collected once per scan). */
  slice<K extends SliceName>(name: K): Promise<Slice<SliceData[K]>>;
}

export type Collector<K extends SliceName> = (ctx: CollectContext) => Promise<Slice<SliceData[K]>>;

/**
 * A shard's own state, by key (the shard module scopes the keys to the scan and the shard). A
 * write that fails throws out of the collector: the shard's attempt fails and the queue retries it.
 * This is collection progress, not committed state: pending state kept here (a drive's new
 * inventory) still goes live only with its slice, after the ledger write.
 */
export interface ShardCheckpoint {
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string): Promise<void>;
}

/**
 * A shard's checkpoint could not be read or written (storage unavailable): the shard's attempt
 * fails and the queue retries it — never a failed slice (pipeline.ts sliceRunner rethrows it).
 */
export class ShardCheckpointError extends Error {
  constructor(key: string, cause: unknown) {
    super(`the shard checkpoint ${key} could not be kept: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'ShardCheckpointError';
  }
}
