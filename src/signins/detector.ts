/**
 * The streaming sign-in detector of SIGN-01…05 (controls.md; standard 5-3-3, 5-4-4, 5-8-2), on
 * its own so that every source feeds the same code with the same state: Graph's sign-in pages
 * (collect/signins.ts), an Event Hub batch of Entra diagnostic records, a test array.
 *
 * {@link SignInDetector} consumes sign-ins one at a time and keeps only the sliding-window state
 * per user and per IP, pruned to the window plus the re-read overlap; its state serialises, so
 * the 15-minute watch continues where the last run stopped and a 30-day backfill runs through the
 * same code. {@link feedDetector} drains an `AsyncIterable` of chunks into it: each chunk is put in
 * time order first (Graph returns sign-ins newest first; an Event Hub batch is only roughly in
 * order), and a chunk that says where it ends lets the detector drop what no later sign-in needs.
 * The SIGN rules (rules/signins.ts) turn its detections into findings.
 *
 * Definitions (controls.md): a credential failure is a sign-in whose `status.errorCode` is in
 * `credentialFailureCodes`; a success has errorCode 0; anything else (MFA interrupts 50074/50076,
 * conditional-access blocks…) is neither. A window is `windowMinutes` long and slides: events at
 * t1 ≤ t2 are in one window when t2 − t1 < windowMinutes (half-open, so two events exactly one
 * window apart are not).
 *
 * Occurrences: once a rule fires for a subject, later qualifying sign-ins less than one window
 * after the occurrence's last sign-in extend it instead of opening another one; each finding
 * lists its occurrences (window, counts, addresses, countries, client apps, sign-in ids).
 */
import type { Policy } from '../config/policy';
import type { SignInDetection, SignInOccurrence } from '../collect/snapshot';

export const LEGACY_CLIENT_APPS = [
  'Authenticated SMTP', 'AutoDiscover', 'Exchange ActiveSync', 'Exchange Online PowerShell', 'Exchange Web Services',
  'IMAP4', 'MAPI Over HTTP', 'Offline Address Book', 'Other clients', 'Outlook Anywhere (RPC over HTTP)', 'POP3',
  'Reporting Web Services',
];
const LEGACY = new Set(LEGACY_CLIENT_APPS.map((a) => a.toLowerCase()));

/** The fields of a sign-in the detector reads. */
export interface SignInEvent {
  id: string;
  /** createdDateTime in ms since the epoch. */
  time: number;
  userId: string | null;
  userPrincipalName: string;
  ipAddress: string;
  errorCode: number;
  countryOrRegion: string | null;
  clientAppUsed: string;
  appDisplayName: string;
}

/** A sign-in as kept in the detector's state (short keys: the state is persisted). */
interface Kept {
  id: string;
  t: number;
  /** 'f' credential failure, 's' success. */
  k: 'f' | 's';
  /** user key (object id, or `upn:` + UPN when Graph has no id) */
  u: string;
  n: string;
  ip: string;
  c: string | null;
  a: string;
  p: string;
}

/** The detector's persisted state. */
export interface DetectorState {
  version: 1;
  /** sign-in id → time, for de-duplication of re-read sign-ins. */
  seen: Record<string, number>;
  /** Recent failures and successes per user key. */
  users: Record<string, Kept[]>;
  /** Recent failures per IP address. */
  ips: Record<string, Kept[]>;
  /**
   * Occurrences still open to extension, by `rule|subject`: their span and the sign-in ids
   * already reported, so that a burst going on across two runs is continued, never counted twice.
   */
  open: Record<string, { start: number; end: number; ids: string[] }>;
}

export function emptyDetectorState(): DetectorState {
  return { version: 1, seen: {}, users: {}, ips: {}, open: {} };
}

type SignRuleId = SignInDetection['ruleId'];

const MAX_IDS = 100;

/** An occurrence being built in this run. */
class Occurrence {
  /** windowStart of the occurrence (of an earlier run) that this one continues. */
  continues: string | undefined;
  start = Number.POSITIVE_INFINITY;
  end = Number.NEGATIVE_INFINITY;
  private readonly ids = new Set<string>();
  private failures = 0;
  private successes = 0;
  private readonly users = new Set<string>();
  private readonly addresses = new Set<string>();
  private readonly countries = new Set<string>();
  private readonly clientApps = new Set<string>();
  private readonly apps = new Set<string>();

  add(events: readonly Kept[]): void {
    for (const e of events) {
      if (this.ids.has(e.id)) continue;
      this.ids.add(e.id);
      if (e.k === 'f') this.failures++;
      else this.successes++;
      this.start = Math.min(this.start, e.t);
      this.end = Math.max(this.end, e.t);
      this.users.add(e.n);
      if (e.ip) this.addresses.add(e.ip);
      if (e.c) this.countries.add(e.c);
      if (e.a) this.clientApps.add(e.a);
      if (e.p) this.apps.add(e.p);
    }
  }

  /** Ids of the sign-ins in this occurrence. */
  idList(): string[] {
    return [...this.ids];
  }

  toJSON(): SignInOccurrence {
    const ids = [...this.ids];
    // Every list is capped: a spray against 10,000 users must still fit in one ledger entry.
    const cap = (set: Set<string>): string[] => [...set].sort().slice(0, MAX_IDS);
    return {
      windowStart: new Date(this.start).toISOString(),
      windowEnd: new Date(this.end).toISOString(),
      ...(this.continues ? { continues: this.continues } : {}),
      failures: this.failures,
      successes: this.successes,
      distinctUsers: this.users.size,
      users: cap(this.users),
      distinctAddresses: this.addresses.size,
      addresses: cap(this.addresses),
      countries: cap(this.countries),
      clientApps: cap(this.clientApps),
      apps: cap(this.apps),
      signInIds: ids.slice(0, MAX_IDS),
      signInIdsTruncated: Math.max(0, ids.length - MAX_IDS),
    };
  }
}

/** Inserts keeping the list sorted by time (sign-ins arrive mostly in order: O(1) then). */
function insertSorted(list: Kept[], e: Kept): void {
  let i = list.length;
  while (i > 0 && (list[i - 1] as Kept).t > e.t) i--;
  list.splice(i, 0, e);
}

/** Events of `list` with time in (from, to]. */
function between(list: readonly Kept[], from: number, to: number): Kept[] {
  return list.filter((e) => e.t > from && e.t <= to);
}

export interface DetectorConfig {
  credentialFailureCodes: readonly number[];
  windowMs: number;
  userFailureThreshold: number;
  sprayUserThreshold: number;
  successAfterFailuresThreshold: number;
  allowedCountries: readonly string[];
}

/** The detector's configuration from the policy's `signIns` section. */
export function detectorConfig(policy: Policy): DetectorConfig {
  const s = policy.signIns;
  return {
    credentialFailureCodes: s.credentialFailureCodes,
    windowMs: s.windowMinutes * 60_000,
    userFailureThreshold: s.userFailureThreshold,
    sprayUserThreshold: s.sprayUserThreshold,
    successAfterFailuresThreshold: s.successAfterFailuresThreshold,
    allowedCountries: s.allowedCountries,
  };
}

/**
 * Streaming detector of SIGN-01…05. Feed sign-ins in (roughly) chronological order with
 * {@link process}; late sign-ins are handled, duplicates (same id) are ignored.
 */
export class SignInDetector {
  private readonly failureCodes: Set<number>;
  private readonly allowed: Set<string>;
  private readonly detections = new Map<string, { ruleId: SignRuleId; subject: SignInDetection['subject']; occurrences: Occurrence[] }>();
  /** Sign-ins processed (not counting duplicates). */
  processed = 0;

  /** Occurrences left open by earlier runs (read-only copy of the state at start). */
  private readonly priorOpen: ReadonlyMap<string, { start: number; end: number; ids: ReadonlySet<string> }>;

  constructor(
    private readonly config: DetectorConfig,
    private readonly state: DetectorState = emptyDetectorState(),
  ) {
    state.open ??= {};
    this.priorOpen = new Map(Object.entries(state.open).map(([k, o]) => [k, { start: o.start, end: o.end, ids: new Set(o.ids) }]));
    this.failureCodes = new Set(config.credentialFailureCodes);
    this.allowed = new Set(config.allowedCountries.map((c) => c.toUpperCase()));
  }

  /** Processes one sign-in. Returns false when it was a duplicate. */
  process(event: SignInEvent): boolean {
    if (this.state.seen[event.id] !== undefined) return false;
    this.state.seen[event.id] = event.time;
    this.processed++;
    const failure = this.failureCodes.has(event.errorCode);
    const success = event.errorCode === 0;
    if (!failure && !success) return true;
    const upn = event.userPrincipalName.toLowerCase();
    const kept: Kept = {
      id: event.id,
      t: event.time,
      k: failure ? 'f' : 's',
      u: event.userId ?? `upn:${upn}`,
      n: event.userPrincipalName,
      ip: event.ipAddress,
      c: event.countryOrRegion ? event.countryOrRegion.toUpperCase() : null,
      a: event.clientAppUsed,
      p: event.appDisplayName,
    };
    const userEvents = (this.state.users[kept.u] ??= []);
    insertSorted(userEvents, kept);
    if (failure) {
      if (kept.ip) insertSorted((this.state.ips[kept.ip] ??= []), kept);
      this.checkUserFailures(kept, userEvents);
      if (kept.ip) this.checkSpray(kept, this.state.ips[kept.ip] as Kept[]);
      // A late failure can complete SIGN-03 for a success already seen after it.
      for (const s of userEvents) {
        if (s.k === 's' && s.t > kept.t && s.t - kept.t < this.config.windowMs) this.checkSuccessAfterFailures(s, userEvents);
      }
    } else {
      this.checkSuccessAfterFailures(kept, userEvents);
      if (kept.c && !this.allowed.has(kept.c)) this.record('SIGN-04', userSubject(kept), [kept]);
      if (LEGACY.has(kept.a.toLowerCase())) this.record('SIGN-05', userSubject(kept), [kept]);
    }
    return true;
  }

  /** Processes a stream of sign-ins. */
  async consume(events: AsyncIterable<SignInEvent> | Iterable<SignInEvent>): Promise<void> {
    for await (const e of events) this.process(e);
  }

  /** SIGN-01: ≥ userFailureThreshold failures of one user in one window containing `e`. */
  private checkUserFailures(e: Kept, userEvents: readonly Kept[]): void {
    const subject = userSubject(e);
    if (this.extendOpen('SIGN-01', subject, e)) return;
    const near = userEvents.filter((x) => x.k === 'f' && Math.abs(x.t - e.t) < this.config.windowMs);
    const threshold = this.config.userFailureThreshold;
    let count = 0;
    const window = this.slide(e, near, {
      add: () => count++,
      remove: () => count--,
      ok: () => count >= threshold,
    });
    if (window) this.record('SIGN-01', subject, window);
  }

  /** SIGN-02: failures from one IP against ≥ sprayUserThreshold distinct users in one window containing `e`. */
  private checkSpray(e: Kept, ipEvents: readonly Kept[]): void {
    const subject = { kind: 'ip' as const, id: e.ip, name: e.ip };
    if (this.extendOpen('SIGN-02', subject, e)) return;
    const near = ipEvents.filter((x) => Math.abs(x.t - e.t) < this.config.windowMs);
    const perUser = new Map<string, number>();
    const threshold = this.config.sprayUserThreshold;
    const window = this.slide(e, near, {
      add: (x) => perUser.set(x.u, (perUser.get(x.u) ?? 0) + 1),
      remove: (x) => {
        const n = (perUser.get(x.u) ?? 1) - 1;
        if (n) perUser.set(x.u, n);
        else perUser.delete(x.u);
      },
      ok: () => perUser.size >= threshold,
    });
    if (window) this.record('SIGN-02', subject, window);
  }

  /** SIGN-03: a success after ≥ successAfterFailuresThreshold failures in the window before it. */
  private checkSuccessAfterFailures(success: Kept, userEvents: readonly Kept[]): void {
    const before = between(userEvents, success.t - this.config.windowMs, success.t).filter((x) => x.k === 'f' && x.t < success.t);
    if (before.length >= this.config.successAfterFailuresThreshold) this.record('SIGN-03', userSubject(success), [...before, success]);
  }

  /**
   * Slides a window of length W over `events` (sorted, all within one window of `e`) and returns
   * the first window (end − W, end] that contains `e` and satisfies the accumulator. O(events).
   */
  private slide(e: Kept, events: readonly Kept[], acc: { add(x: Kept): void; remove(x: Kept): void; ok(): boolean }): Kept[] | undefined {
    let l = 0;
    for (let r = 0; r < events.length; r++) {
      const x = events[r] as Kept;
      acc.add(x);
      while ((events[l] as Kept).t <= x.t - this.config.windowMs) acc.remove(events[l++] as Kept);
      if (x.t >= e.t && (events[l] as Kept).t <= e.t && acc.ok()) return events.slice(l, r + 1);
    }
    return undefined;
  }

  /**
   * A sign-in less than one window after an occurrence of this run that is still open joins it
   * (the burst goes on): no new threshold check is needed, which keeps a long attack O(1) a sign-in.
   */
  private extendOpen(ruleId: SignRuleId, subject: SignInDetection['subject'], e: Kept): boolean {
    const key = `${ruleId}|${subject.id}`;
    const near = (o: { start: number; end: number }): boolean => e.t - o.end < this.config.windowMs && o.start - e.t < this.config.windowMs;
    const open = this.detections.get(key)?.occurrences.some(near) || (this.priorOpen.has(key) && near(this.priorOpen.get(key) as { start: number; end: number }));
    if (!open) return false;
    this.record(ruleId, subject, [e]);
    return true;
  }

  /** Drops state that no sign-in at or after `from` can need (call between chunks of a backfill). */
  pruneBefore(from: number): void {
    const pruned = this.snapshot(from);
    this.state.seen = pruned.seen;
    this.state.users = pruned.users;
    this.state.ips = pruned.ips;
    this.state.open = pruned.open;
  }

  /**
   * Adds events to the open occurrence of (rule, subject) or opens a new one. Sign-ins an earlier
   * run already reported in an occurrence are left out: a burst that goes on across runs is
   * reported as a continuation holding only the new sign-ins.
   */
  private record(ruleId: SignRuleId, subject: SignInDetection['subject'], window: readonly Kept[]): void {
    const key = `${ruleId}|${subject.id}`;
    const prior = this.priorOpen.get(key);
    const events = prior ? window.filter((e) => !prior.ids.has(e.id)) : window;
    if (!events.length) return;
    const detection = this.detections.get(key) ?? { ruleId, subject, occurrences: [] };
    this.detections.set(key, detection);
    const start = Math.min(...events.map((e) => e.t));
    const end = Math.max(...events.map((e) => e.t));
    let open = detection.occurrences.find((o) => start - o.end < this.config.windowMs && o.start - end < this.config.windowMs);
    if (!open) {
      open = new Occurrence();
      if (prior && start - prior.end < this.config.windowMs && prior.start - end < this.config.windowMs) open.continues = new Date(prior.start).toISOString();
      detection.occurrences.push(open);
    }
    open.add(events);
    const stored = this.state.open[key];
    this.state.open[key] = {
      start: Math.min(stored?.start ?? open.start, open.start),
      end: Math.max(stored?.end ?? open.end, open.end),
      ids: [...new Set([...(stored?.ids ?? []), ...events.map((e) => e.id)])],
    };
  }

  /** The detections of this run: one per (rule, subject), with its occurrences. */
  results(): SignInDetection[] {
    return [...this.detections.values()]
      .map((d) => ({ ruleId: d.ruleId, subject: d.subject, occurrences: d.occurrences.map((o) => o.toJSON()) }))
      .sort((a, b) => a.ruleId.localeCompare(b.ruleId) || a.subject.id.localeCompare(b.subject.id));
  }

  /**
   * The state to persist: everything that a later sign-in at or after `keepFrom` could still
   * need (one window back from it), and nothing older.
   */
  snapshot(keepFrom: number): DetectorState {
    const horizon = keepFrom - this.config.windowMs;
    const prune = (map: Record<string, Kept[]>): Record<string, Kept[]> =>
      Object.fromEntries(
        Object.entries(map)
          .map(([k, list]) => [k, list.filter((e) => e.t > horizon)] as const)
          .filter(([, list]) => list.length > 0),
      );
    return {
      version: 1,
      seen: Object.fromEntries(Object.entries(this.state.seen).filter(([, t]) => t >= horizon)),
      users: prune(this.state.users),
      ips: prune(this.state.ips),
      // An occurrence stays open while a later sign-in could still extend it; its reported ids
      // are kept only while they can still be re-read (they are in `seen`).
      open: Object.fromEntries(
        Object.entries(this.state.open)
          .filter(([, o]) => o.end > horizon)
          .map(([k, o]) => [k, { ...o, ids: o.ids.filter((id) => (this.state.seen[id] ?? 0) >= horizon) }]),
      ),
    };
  }
}

function userSubject(e: Kept): SignInDetection['subject'] {
  return { kind: 'user', id: e.u, name: e.n };
}


/**
 * A run of sign-ins from one source, in any order within the chunk. `end` (ms): every sign-in of
 * the source before this time has been delivered, so the detector may drop state no later
 * sign-in can need. Leave it out for the last chunk of a run (the next run's overlap re-reads
 * sign-ins that need the window history).
 */
export interface SignInChunk {
  events: SignInEvent[];
  end?: number;
}

/** Drains `source` into `detector`, chunk by chunk (one chunk in memory at a time); returns the sign-ins processed. */
export async function feedDetector(detector: SignInDetector, source: AsyncIterable<SignInChunk>): Promise<number> {
  const before = detector.processed;
  for await (const chunk of source) {
    const events = [...chunk.events].sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
    for (const e of events) detector.process(e);
    if (chunk.end !== undefined) detector.pruneBefore(chunk.end);
  }
  return detector.processed - before;
}
