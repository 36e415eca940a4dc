/**
 * The sign-in watch: reads `GET /auditLogs/signIns?$filter=createdDateTime ge … and
 * createdDateTime le …` (AuditLog.Read.All, Entra ID P1) from the stored watermark and streams
 * the sign-ins through the SIGN detector.
 *
 * - Range: from the watermark minus an overlap (late-arriving sign-ins), or on the first run the
 *   last `signInBackfillHours`, never further back than Graph's 30-day retention, up to the scan's
 *   start. Sign-ins read twice (the overlap, chunk edges) are counted once: de-duplication by id.
 * - Streaming: Graph returns sign-ins newest first, but windows need time order, so the range is
 *   read in time chunks, oldest chunk first; only one chunk (in a compact form) is held at a time.
 *   The same code serves the 15-minute watch (one chunk) and a 30-day backfill.
 * - Watermark and detector state are handed back as the slice's pending state (collect/pending.ts)
 *   and stored by the pipeline only after every page was read AND the detections are in the ledger. An interrupted run, or one
 *   whose ledger write fails, stores nothing, so the next run reads the same range again: no
 *   gap and no double count.
 */
import { z } from 'zod';
import { parseRecords, summariseProblems } from './parse';
import type { Collector, CollectContext } from './context';
import { commitOne, type PendingState } from './pending';
import { detectorConfig, emptyDetectorState, feedDetector, SignInDetector, type DetectorState, type SignInChunk, type SignInEvent } from '../signins/detector';

const HOUR = 3_600_000;
/** Graph keeps sign-ins 30 days with Entra ID P1 (7 without). */
export const SIGNIN_RETENTION_MS = 30 * 24 * HOUR;
/** Where the watch keeps its watermark and detector state (a state blob per tenant). */
export const SIGNIN_STATE_KEY = 'signins-watch';

interface WatchState {
  version: 1;
  /** Every sign-in created before this was read (ISO). */
  watermark: string;
  detector: DetectorState;
  /**
   * The Graph root (origin) the watermark was read at. A watermark of another root (the demo's
   * simulator) says nothing of this one's log: it is discarded and the watch starts afresh.
   * Missing (written before this field): taken to be the current root.
   */
  graphRoot?: string;
}

export const signInSchema = z
  .looseObject({
    id: z.string().min(1),
    createdDateTime: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date'),
    userId: z.string().nullish(),
    userPrincipalName: z.string().nullish(),
    ipAddress: z.string().nullish(),
    clientAppUsed: z.string().nullish(),
    appDisplayName: z.string().nullish(),
    status: z.looseObject({ errorCode: z.number().int() }),
    location: z.looseObject({ countryOrRegion: z.string().nullish() }).nullish(),
  })
  .transform(
    (s): SignInEvent => ({
      id: s.id,
      time: Date.parse(s.createdDateTime),
      // Failed sign-ins for unknown accounts carry no (or an all-zero) user id.
      userId: s.userId && !/^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(s.userId) ? s.userId : null,
      userPrincipalName: s.userPrincipalName ?? '(unknown)',
      ipAddress: s.ipAddress ?? '',
      errorCode: s.status.errorCode,
      countryOrRegion: s.location?.countryOrRegion || null,
      clientAppUsed: s.clientAppUsed ?? '',
      appDisplayName: s.appDisplayName ?? '',
    }),
  );

/** OData datetime literal (Graph accepts fractional seconds). */
const literal = (ms: number): string => new Date(ms).toISOString();

async function loadState(ctx: CollectContext): Promise<WatchState | undefined> {
  if (!ctx.store || ctx.options.freshState) return undefined;
  const text = await ctx.store.getStateBlob(ctx.tenantId, SIGNIN_STATE_KEY);
  if (!text) return undefined;
  const state = JSON.parse(text) as Partial<WatchState>;
  if (state.version !== 1 || typeof state.watermark !== 'string' || !state.detector) {
    throw new Error(`the stored sign-in watch state (${SIGNIN_STATE_KEY}) is not readable; delete it to start the watch afresh`);
  }
  return state as WatchState;
}

export const collectSignIns: Collector<'signIns'> = async (ctx) => {
  if (ctx.signInStream) return collectStreamed(ctx, ctx.signInStream);
  const to = ctx.now.getTime();
  const overlap = ctx.options.signInOverlapMinutes * 60_000;
  const loaded = await loadState(ctx);
  const details: string[] = [];
  const foreign = loaded?.graphRoot !== undefined && ctx.graph.root !== undefined && loaded.graphRoot.toLowerCase() !== ctx.graph.root.toLowerCase();
  const stored = foreign ? undefined : loaded;
  // A note, not a gap: the watch reads its first-run backfill at this root instead.
  const notes = foreign ? [`the stored sign-in watermark of another Graph root (${loaded?.graphRoot ?? ''}) was discarded, not followed; the watch started afresh here (backfill ${ctx.options.signInBackfillHours} h)`] : [];
  let from = stored ? Date.parse(stored.watermark) - overlap : to - ctx.options.signInBackfillHours * HOUR;
  if (from < to - SIGNIN_RETENTION_MS) {
    details.push(`sign-ins before ${literal(to - SIGNIN_RETENTION_MS)} are past Graph's 30-day retention and could not be read (watermark ${stored?.watermark ?? 'none'})`);
    from = to - SIGNIN_RETENTION_MS;
  }
  const detector = new SignInDetector(detectorConfig(ctx.policy), stored?.detector ?? emptyDetectorState());
  const problems: string[] = [];
  await feedDetector(detector, graphSignIns(ctx, from, to, problems));
  if (problems.length) details.push(`skipped ${problems.length} unreadable sign-in record(s): ${summariseProblems(problems)}`);
  const state: WatchState = { version: 1, watermark: literal(to), detector: detector.snapshot(to - overlap), ...(ctx.graph.root ? { graphRoot: ctx.graph.root } : {}) };
  return {
    status: details.length ? 'partial' : 'complete',
    data: {
      from: literal(from),
      to: literal(to),
      read: detector.processed,
      detections: detector.results(),
    },
    ...(ctx.store ? { pending: [watchPending(state)] } : {}),
    items: detector.processed,
    ...(details.length || notes.length ? { detail: [...details, ...notes].join('; ') } : {}),
  };
};

/**
 * The watch fed by a stream batch (an Event Hub): the same detector and stored state as the Graph
 * watch, so bursts straddling a batch and a Graph read, or two batches, are continued, and
 * sign-ins delivered twice (Event Hubs delivers at least once) are counted once. The watermark is
 * the newest sign-in seen, never earlier than the stored one; the state keeps the Graph root it
 * was stored with, so a later Graph watch continues from it rather than discarding it.
 */
async function collectStreamed(ctx: CollectContext, batch: NonNullable<CollectContext['signInStream']>): ReturnType<Collector<'signIns'>> {
  const stored = await loadState(ctx);
  const detector = new SignInDetector(detectorConfig(ctx.policy), stored?.detector ?? emptyDetectorState());
  await feedDetector(detector, (async function* () {
    yield { events: batch.events };
  })());
  const times = batch.events.map((e) => e.time);
  const newest = Math.max(stored ? Date.parse(stored.watermark) : Number.NEGATIVE_INFINITY, ...times);
  const to = Number.isFinite(newest) ? newest : ctx.now.getTime();
  const from = times.length ? Math.min(...times) : to;
  const details: string[] = [];
  if (batch.problems.length) details.push(`skipped ${batch.problems.length} unreadable sign-in record(s) from ${batch.source}: ${summariseProblems(batch.problems)}`);
  const ignored = Object.entries(batch.ignored).map(([c, n]) => `${n} ${c}`);
  const notes = ignored.length ? [`${batch.source} also carried records this watch does not read (${ignored.join(', ')}): only interactive user sign-ins (SignInLogs) are watched, as from Graph`] : [];
  const graphRoot = stored?.graphRoot ?? ctx.graph.root;
  const state: WatchState = { version: 1, watermark: literal(to), detector: detector.snapshot(to - ctx.options.signInOverlapMinutes * 60_000), ...(graphRoot ? { graphRoot } : {}) };
  return {
    status: details.length ? 'partial' : 'complete',
    data: { from: literal(from), to: literal(to), read: detector.processed, detections: detector.results() },
    items: detector.processed,
    ...(ctx.store ? { pending: [watchPending(state)] } : {}),
    ...(details.length || notes.length ? { detail: [...details, ...notes].join('; ') } : {}),
  };
}

/** The watch state as pending state: a watermark, so a later one stored by another run is kept. */
function watchPending(state: WatchState): PendingState {
  return { key: SIGNIN_STATE_KEY, value: JSON.stringify(state), watermark: state.watermark, ...(state.graphRoot ? { graphRoot: state.graphRoot } : {}) };
}

/**
 * Graph's sign-ins of [from, to] as detector chunks: the range in time chunks of
 * `signInChunkHours`, oldest first, each read in full (Graph pages newest first) before it is
 * handed on, so only one chunk is held at a time. Unreadable records are skipped into `problems`.
 */
export async function* graphSignIns(ctx: CollectContext, from: number, to: number, problems: string[]): AsyncIterable<SignInChunk> {
  const chunkMs = Math.max(1, ctx.options.signInChunkHours) * HOUR;
  for (let start = from; start < to; start += chunkMs) {
    const end = Math.min(to, start + chunkMs);
    // Both ends inclusive; a sign-in exactly on a chunk edge is read twice and counted once.
    const filter = `createdDateTime ge ${literal(start)} and createdDateTime le ${literal(end)}`;
    const events: SignInEvent[] = [];
    let offset = 0;
    for await (const page of ctx.graph.pages(`/auditLogs/signIns?$filter=${encodeURIComponent(filter)}&$top=1000`)) {
      const parsed = parseRecords(signInSchema, page.value, 'GET /auditLogs/signIns', offset);
      offset += page.value.length;
      events.push(...parsed.records);
      problems.push(...parsed.problems);
    }
    // Not after the last chunk: what the next run's overlap re-reads needs its window history.
    yield end < to ? { events, end } : { events };
  }
}

/**
 * Stores a watch state a collection handed back (as the pipeline does after the ledger write),
 * unless another run already stored a later watermark: the watermark never goes back.
 */
export async function commitWatchState(store: NonNullable<CollectContext['store']>, tenantId: string, next: PendingState): Promise<boolean> {
  return commitOne(store, tenantId, next);
}
