/**
 * The evidence trail (standard 5-3-2: ログは改ざん防止に配慮して保管): every recorded scan appends one
 * record to a hash chain in blob storage, so that an auditor can tell whether any scan's record
 * was altered, deleted, reordered or inserted afterwards (`m365-audit evidence verify`).
 *
 * Decisions:
 * - **Names.** `evidence/<tenantId>/<sequence, 10 digits>.json` (container `evidence`). The name is
 *   a function of the sequence alone so that "create sequence N" is one conditional create
 *   (`If-None-Match: *`): with a date or the scan id in the name, two writers could both create
 *   "sequence N" under different names. Ten digits sort by name in sequence order (a 15-minute
 *   sign-in watch gives ~35 000 records a year). The month is in each record, not in its name.
 * - **Canonical JSON.** Hashes are SHA-256 (hex) over a canonical serialisation: object keys sorted
 *   by UTF-16 code units, no whitespace, strings and numbers as `JSON.stringify` writes them,
 *   `undefined` members left out — RFC 8785 (JCS) for the data we hold (no floats needing JCS's
 *   number rules beyond ECMAScript's, which is what JCS specifies). A record's `hash` covers every
 *   other member of the record, `prevHash` and `sequence` included.
 * - **What a record holds.** Scan id, times, areas, coverage per area (status, items, detail), the
 *   findings (id = fingerprint of rule and subject, rule, kind, severity, status, area, subject
 *   kind and id, first/last seen) and per collected slice its status, item count and the SHA-256
 *   of its canonical `data` — never the data itself, nor `pending` state (delta links and
 *   watermarks are not evidence) nor any finding's evidence payload (it may name people; the
 *   ledger keeps it). No secret is in any of these.
 * - **Crash safety.** The pipeline appends the record *before* it saves the scan record, so a
 *   scan record always has its evidence; a crash in between leaves a record whose scan has no
 *   scan record, which `verify` reports (kind `no-scan-record`) for a person to explain. The
 *   append is idempotent per scan id: a scan id already among the last records is not appended
 *   again (a retried append whose first attempt did land).
 * - **Finding the head without listing.** An append never lists the tenant's names (five years of
 *   15-minute records is ~175 000 of them): {@link findEvidenceHead} probes the existence of
 *   sequence names (HEAD requests) — exponential steps, then a binary search — in O(log n),
 *   starting from a hint (the state table's `evidence-head`, {@link stateHeadHint}) that is
 *   checked before use, so a stale, missing or ahead hint costs probes, never correctness. No
 *   pointer blob: the immutability policy forbids overwriting one.
 * - **Two writers.** Each append finds the head, then creates the next sequence's name only if it
 *   is absent (`If-None-Match: *`); on a conflict it searches on from the taken name and retries
 *   (bounded).
 * - In Azure the `evidence` container has a time-based immutability policy (infra/main.bicep), so
 *   that a created record cannot be overwritten or deleted during retention; the chain is what
 *   shows tampering where the policy is absent (the embedded Azurite, an unlocked policy).
 */
import { createHash } from 'node:crypto';
import type { Coverage, Slice, SliceName } from '../collect/snapshot';
import { StoreError } from '../errors';
import type { Finding } from '../findings/finding';
import type { Area } from '../rules/ids';
import type { EvidencePort, StatePort } from './ports';
import type { ScanRecord } from './store';

/** The `prevHash` of the first record: no record before it. */
export const GENESIS_HASH = '0'.repeat(64);

export interface EvidenceFinding {
  id: string;
  ruleId: string;
  kind: Finding['kind'];
  severity: Finding['severity'];
  status: Finding['status'];
  area: Area;
  subject: { kind: string; id: string };
  firstSeen: string;
  lastSeen: string;
}

export interface EvidenceSlice {
  status: Slice<unknown>['status'];
  items: number;
  /** SHA-256 of the slice's canonical `data`; null for a failed slice (it has none). */
  sha256: string | null;
}

export interface EvidenceRecord {
  version: 1;
  tenantId: string;
  sequence: number;
  scanId: string;
  startedAt: string;
  finishedAt: string;
  areas: Area[];
  coverage: Partial<Record<Area, Coverage>>;
  findings: EvidenceFinding[];
  slices: Partial<Record<SliceName, EvidenceSlice>>;
  /** When the record was appended (the writer's clock). */
  appendedAt: string;
  /** The `hash` of record `sequence - 1`, or {@link GENESIS_HASH} for the first. */
  prevHash: string;
  /** SHA-256 of the canonical JSON of every other member. */
  hash: string;
}

/** What a scan contributes; the chain adds sequence, prevHash, appendedAt and hash. */
export type EvidenceDraft = Omit<EvidenceRecord, 'sequence' | 'prevHash' | 'hash' | 'appendedAt'>;

/** Canonical JSON (see the header): sorted keys, no whitespace, undefined members left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * `sha256(canonicalJson(value))` without building the string: the canonical JSON is written into
 * the hash in chunks of about 64 K characters. A slice of 50,000 users is ~20 MB of canonical JSON
 * (plus every member's intermediate string on the way), which at the end of a scan was the
 * scanner's peak memory (issue 13); the bytes hashed, so the hash, are the same. Each chunk ends
 * between two complete JSON tokens (JSON.stringify escapes lone surrogates), so no UTF-16
 * surrogate pair is split across chunks.
 */
export function canonicalSha256(value: unknown): string {
  const hash = createHash('sha256');
  // The chunk's pieces, joined once per chunk: appending each piece to a string instead made a
  // cons string per token (millions of them at 50,000 users) that hashing then flattened.
  const parts: string[] = [];
  let size = 0;
  const out = (s: string): void => {
    parts.push(s);
    size += s.length;
    if (size >= 65_536) {
      hash.update(parts.join(''), 'utf8');
      parts.length = 0;
      size = 0;
    }
  };
  // The records of a list share their keys: their sorted order and quoted names are worked out
  // once per key list (per depth, so a nested object does not evict its parent's), not per record.
  const shapes: Array<{ keys: string[]; sorted: Array<{ key: string; first: string; next: string }> }> = [];
  const shapeOf = (keys: string[], depth: number): Array<{ key: string; first: string; next: string }> => {
    const cached = shapes[depth];
    if (cached && cached.keys.length === keys.length && cached.keys.every((k, i) => k === keys[i])) return cached.sorted;
    const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((key) => ({ key, first: `${JSON.stringify(key)}:`, next: `,${JSON.stringify(key)}:` }));
    shapes[depth] = { keys, sorted };
    return sorted;
  };
  const write = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object') return out(JSON.stringify(v) ?? 'null');
    if (v instanceof Date) return out(JSON.stringify(v.toISOString()));
    if (Array.isArray(v)) {
      out('[');
      for (let i = 0; i < v.length; i++) {
        if (i) out(',');
        const x: unknown = v[i];
        if (x === undefined) out('null');
        else write(x, depth + 1);
      }
      return out(']');
    }
    const record = v as Record<string, unknown>;
    out('{');
    let first = true;
    for (const { key, first: head, next } of shapeOf(Object.keys(record), depth)) {
      const x = record[key];
      if (x === undefined || typeof x === 'function') continue;
      out(first ? head : next);
      first = false;
      write(x, depth + 1);
    }
    out('}');
  };
  write(value, 0);
  hash.update(parts.join(''), 'utf8');
  return hash.digest('hex');
}

/** The hash a record should carry: over everything but `hash`. */
export function recordHash(record: Omit<EvidenceRecord, 'hash'> & { hash?: string }): string {
  const { hash: _hash, ...rest } = record;
  return sha256(canonicalJson(rest));
}

/** The record name of a sequence number. */
export function evidenceName(sequence: number): string {
  return `${String(sequence).padStart(10, '0')}.json`;
}

const NAME = /^(\d{10})\.json$/;

/** The sequence a record name stands for, or undefined for a name that is not a record's. */
export function sequenceOf(name: string): number | undefined {
  const m = NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The evidence a scan leaves: see the header for what is (and is not) in it. */
export function evidenceDraft(scan: {
  tenantId: string;
  scanId: string;
  startedAt: string;
  finishedAt: string;
  areas: readonly Area[];
  coverage: Partial<Record<Area, Coverage>>;
  findings: readonly Finding[];
  slices: Partial<Record<SliceName, Slice<unknown>>>;
}): EvidenceDraft {
  const slices: Partial<Record<SliceName, EvidenceSlice>> = {};
  for (const [name, s] of Object.entries(scan.slices) as Array<[SliceName, Slice<unknown> | undefined]>) {
    if (!s) continue;
    slices[name] = { status: s.status, items: s.items, sha256: s.status === 'failed' ? null : canonicalSha256(s.data) };
  }
  return {
    version: 1,
    tenantId: scan.tenantId,
    scanId: scan.scanId,
    startedAt: scan.startedAt,
    finishedAt: scan.finishedAt,
    areas: [...scan.areas],
    coverage: structuredClone(scan.coverage),
    findings: scan.findings.map((f) => ({
      id: f.id,
      ruleId: f.ruleId,
      kind: f.kind,
      severity: f.severity,
      status: f.status,
      area: f.area,
      subject: { kind: f.subject.kind, id: f.subject.id },
      firstSeen: f.firstSeen,
      lastSeen: f.lastSeen,
    })),
    slices,
  };
}

/** How many of the newest records an append checks for its own scan id (idempotency). */
const IDEMPOTENCY_WINDOW = 3;
/** Conflicts (another writer took the sequence) an append retries before it gives up. */
const MAX_ATTEMPTS = 20;
/** The highest sequence a 10-digit name can hold. */
export const MAX_SEQUENCE = 9_999_999_999;
/** The state key (StatePort, a table row) of a tenant's head hint. */
export const EVIDENCE_HEAD_KEY = 'evidence-head';

/**
 * Where an append may start looking for the head: a sequence believed to be the newest. Only a
 * hint — the head is whatever the names in the container say: {@link findEvidenceHead} checks it
 * (one HEAD request for it, one for the next) and searches from it when it is stale, ahead or
 * missing. It is kept outside the evidence container because the immutability policy forbids
 * overwriting a blob there (a mutable pointer blob is impossible by design).
 */
export interface EvidenceHeadHint {
  /** The hinted head; undefined when there is none (or it cannot be read: a hint is optional). */
  get(tenantId: string): Promise<number | undefined>;
  set(tenantId: string, sequence: number): Promise<void>;
}

const HINT = /^\d{1,10}$/;

/** A head hint kept in the mutable state store (Azure Tables in production), key {@link EVIDENCE_HEAD_KEY}. */
export function stateHeadHint(state: Pick<StatePort, 'getState' | 'setState'>): EvidenceHeadHint {
  return {
    get: async (tenantId) => {
      const text = await state.getState(tenantId, EVIDENCE_HEAD_KEY);
      return text !== undefined && HINT.test(text) ? Number(text) : undefined;
    },
    set: (tenantId, sequence) => state.setState(tenantId, EVIDENCE_HEAD_KEY, String(sequence)),
  };
}

/** A head hint held in this process only (e.g. across the appends of one warm Functions host). */
export function memoryHeadHint(): EvidenceHeadHint {
  const heads = new Map<string, number>();
  return {
    get: async (tenantId) => heads.get(tenantId),
    set: async (tenantId, sequence) => void heads.set(tenantId, sequence),
  };
}

/** Whether sequence `n`'s record exists: a HEAD request where the store has one, else a read. */
function existsOf(port: EvidencePort, tenantId: string): (n: number) => Promise<boolean> {
  return port.evidenceExists
    ? (n) => (port.evidenceExists as NonNullable<EvidencePort['evidenceExists']>)(tenantId, evidenceName(n))
    : async (n) => (await port.getEvidence(tenantId, evidenceName(n))) !== undefined;
}

/**
 * The newest sequence of a tenant's chain (0 when it has no record) in O(log n) existence checks,
 * without listing names: from the hint (or 0), exponential steps up (h+1, h+2, h+4…) until a name
 * is absent, then a binary search between the last present and the first absent one — about
 * 2·log2(n) + 1 checks from nothing, 2 from a hint that is the head, 2·log2(d) + 2 from one that
 * is d behind; a hint ahead of the head (its name absent) bounds the search from 0 instead.
 *
 * It relies on the names being contiguous (1…head all present), which the writer guarantees (it
 * creates N+1 only after reading N) and the immutability policy keeps. Where the policy is absent
 * and someone deleted a record, the search may stop at the gap and the next append fills it: its
 * record then does not link to the one after it, which `verify` reports (as it reports the
 * deletion itself: the deleted record's scan record has no evidence).
 */
export async function findEvidenceHead(port: EvidencePort, tenantId: string, hint?: number): Promise<number> {
  const exists = existsOf(port, tenantId);
  let lo = 0; // 0, or a sequence whose record exists
  let hi = MAX_SEQUENCE + 1; // a sequence whose record does not exist (or past the last name)
  if (hint !== undefined && Number.isInteger(hint) && hint >= 1 && hint <= MAX_SEQUENCE) {
    if (await exists(hint)) lo = hint;
    else hi = hint;
  }
  const base = lo;
  for (let step = 1; base + step < hi; step *= 2) {
    if (await exists(base + step)) lo = base + step;
    else {
      hi = base + step;
      break;
    }
  }
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (await exists(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Options of {@link appendEvidence}. */
export interface AppendOptions {
  now?: () => Date;
  /** Where to start looking for the head (see {@link EvidenceHeadHint}); updated after each append. */
  hint?: EvidenceHeadHint;
}

/**
 * Appends a scan's record to the tenant's chain; returns the record as stored (an existing one
 * when the scan id is already among the newest records). Finds the head with
 * {@link findEvidenceHead} (never lists the tenant's names), reads the newest
 * {@link IDEMPOTENCY_WINDOW} records, then creates the next name only if it is absent; when
 * another writer took it, it searches again from that name (bounded).
 * @throws StoreError after {@link MAX_ATTEMPTS} conflicts in a row.
 */
export async function appendEvidence(port: EvidencePort, draft: EvidenceDraft, options: AppendOptions = {}): Promise<EvidenceRecord> {
  const now = options.now ?? (() => new Date());
  const { tenantId } = draft;
  // A hint that cannot be read is no hint: the search finds the head without it.
  let hint = await options.hint?.get(tenantId).catch(() => undefined);
  const remember = async (sequence: number): Promise<void> => {
    // A hint that cannot be written costs the next append a search, nothing more.
    await options.hint?.set(tenantId, sequence).catch(() => undefined);
  };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const last = await findEvidenceHead(port, tenantId, hint);
    let head: EvidenceRecord | undefined;
    let headText: string | undefined;
    for (let seq = last; seq >= 1 && seq > last - IDEMPOTENCY_WINDOW; seq--) {
      const text = await port.getEvidence(tenantId, evidenceName(seq));
      const r = parseRecord(text);
      if (seq === last) [head, headText] = [r, text];
      if (r && r.scanId === draft.scanId) {
        if (hint !== last) await remember(last);
        return r;
      }
    }
    const sequence = last + 1;
    // The head's stated hash (or, for a head that is not a record, the hash of its text, as verify
    // computes it): if the head was altered, verify reports it; the chain goes on from it.
    const unsealed = { ...draft, sequence, appendedAt: now().toISOString(), prevHash: head?.hash ?? (last ? sha256(headText ?? '') : GENESIS_HASH) };
    const record: EvidenceRecord = { ...unsealed, hash: recordHash(unsealed) };
    if (await port.createEvidence(tenantId, evidenceName(sequence), `${JSON.stringify(record, null, 2)}\n`)) {
      await remember(sequence);
      return record;
    }
    // Another writer created this sequence first: it exists, so search on from it.
    hint = sequence;
    await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 80)));
  }
  throw new StoreError(`the evidence record of scan ${draft.scanId} (tenant ${draft.tenantId}) could not be appended: the next sequence was taken ${MAX_ATTEMPTS} times in a row by other writers — run the scan again`);
}

function parseRecord(text: string | undefined): EvidenceRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as EvidenceRecord;
    return r && typeof r === 'object' && typeof r.hash === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Records `verify` reads at once. */
const READ_CONCURRENCY = 8;

/** What `verify` can find wrong. */
export type ChainIssueKind =
  /** A sequence number with no record (deleted, or never written). */
  | 'gap'
  /** A record whose prevHash is not its predecessor's hash, or whose sequence is not its name's. */
  | 'reordered'
  /** A record whose content does not match its hash (or that is not a record at all). */
  | 'altered'
  /** A blob in the tenant's evidence folder whose name is not a record name. */
  | 'foreign'
  /** A record whose scan has no scan record (a crash between the two writes, or a forged record). */
  | 'no-scan-record'
  /** A scan record, made since the trail began, with no evidence record. */
  | 'no-evidence';

export interface ChainIssue {
  kind: ChainIssueKind;
  /** The record's sequence (for a gap: the first missing one). */
  sequence?: number;
  /** For a gap: how many are missing. */
  count?: number;
  name?: string;
  scanId?: string;
  detail: string;
}

export interface ChainVerification {
  tenantId: string;
  ok: boolean;
  /** Records read (from the anchor on, with `from`). */
  records: number;
  first?: { sequence: number; hash: string; startedAt: string };
  head?: { sequence: number; hash: string; startedAt: string; scanId: string };
  /** With `from`: records before it that were not even read (found by a binary search; see skipBefore). */
  skipped?: number;
  /** With `from`: the first record on/after it, whose prevHash is trusted as the anchor. */
  anchor?: { sequence: number; prevHash: string };
  issues: ChainIssue[];
}

/**
 * How much clock difference between writers `from` tolerates: records appended more than this
 * before `from` are taken to have started before it (appendedAt ≥ startedAt on one clock).
 */
export const FROM_SKEW_MS = 24 * 60 * 60 * 1000;

/**
 * With `verify --from`: how many of the (sequence-ordered) names to skip without reading them. A
 * binary search over `appendedAt` (nondecreasing along the chain: each append stamps its clock
 * after reading the head) finds the first record appended at or after `from` − {@link FROM_SKEW_MS};
 * everything before it was appended, hence started, before `from`. About log2(n) reads; a record
 * that does not parse counts as "not before" (the search moves earlier: more read, never fewer).
 * The names themselves are still listed (one request per 5 000): gaps and foreign blobs are
 * found from the listing.
 */
async function skipBefore(port: EvidencePort, tenantId: string, named: ReadonlyArray<{ name: string }>, from: Date): Promise<number> {
  const limit = from.getTime() - FROM_SKEW_MS;
  let lo = 0; // every index < lo was appended before `limit`
  let hi = named.length; // the index hi (if any) was not
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const r = parseRecord(await port.getEvidence(tenantId, (named[mid] as { name: string }).name));
    const at = r && typeof r.appendedAt === 'string' ? Date.parse(r.appendedAt) : Number.NaN;
    if (Number.isFinite(at) && at < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Walks a tenant's chain. With `from`, starts at the first record (in sequence order) that
 * started on or after it and trusts that record's prevHash as the anchor: nothing before it is
 * checked, and records appended more than {@link FROM_SKEW_MS} before it are not read at all
 * (a binary search finds where to start reading: see skipBefore). With `scans`, cross-checks scan ids both ways (scans that started before the trail's
 * first record are older than the trail and not expected in it).
 */
export async function verifyEvidence(port: EvidencePort, tenantId: string, o: { from?: Date; scans?: readonly ScanRecord[] } = {}): Promise<ChainVerification> {
  const issues: ChainIssue[] = [];
  const listed = await port.listEvidence(tenantId);
  const named: Array<{ name: string; sequence: number }> = [];
  for (const name of listed) {
    const sequence = sequenceOf(name);
    if (sequence === undefined) issues.push({ kind: 'foreign', name, detail: `${name} is not a record name (NNNNNNNNNN.json): a blob put there by hand` });
    else named.push({ name, sequence });
  }
  named.sort((a, b) => a.sequence - b.sequence);
  // With `from`, records appended well before it are not read (see skipBefore).
  const skip = o.from ? await skipBefore(port, tenantId, named, o.from) : 0;
  const toRead = named.slice(skip);
  // Read READ_CONCURRENCY at a time (a year of 15-minute sign-in watches is ~35 000 records).
  const read: Array<{ name: string; sequence: number; text: string | undefined; record: EvidenceRecord | undefined }> = new Array(toRead.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < toRead.length; i = next++) {
      const n = toRead[i] as { name: string; sequence: number };
      const text = await port.getEvidence(tenantId, n.name);
      read[i] = { ...n, text, record: parseRecord(text) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, toRead.length) }, worker));
  let start = 0;
  if (o.from) {
    const fromMs = o.from.getTime();
    start = read.findIndex((r) => r.record !== undefined && Date.parse(r.record.startedAt) >= fromMs);
    if (start < 0) start = read.length;
  }
  const walked = read.slice(start);
  const out: ChainVerification = { tenantId, ok: true, records: walked.length, ...(o.from ? { skipped: skip } : {}), issues };
  const anchorRecord = walked[0]?.record;
  if (o.from && anchorRecord) out.anchor = { sequence: walked[0]?.sequence ?? 0, prevHash: anchorRecord.prevHash };
  // What the previous sequence's record hashes to (its stated hash), to check each prevHash against.
  let prev: { sequence: number; hash: string } | undefined = o.from || !walked.length ? undefined : { sequence: 0, hash: GENESIS_HASH };
  for (const [i, r] of walked.entries()) {
    const expected = prev ? prev.sequence + 1 : r.sequence;
    if (r.sequence > expected) {
      issues.push({ kind: 'gap', sequence: expected, count: r.sequence - expected, detail: `record${r.sequence - expected > 1 ? `s ${expected}–${r.sequence - 1} are` : ` ${expected} is`} missing` });
    }
    const rec = r.record;
    if (!rec) {
      issues.push({ kind: 'altered', sequence: r.sequence, name: r.name, detail: `${r.name} is not an evidence record (it does not parse as one)` });
      prev = { sequence: r.sequence, hash: sha256(r.text ?? '') };
      continue;
    }
    if (recordHash(rec) !== rec.hash) {
      issues.push({ kind: 'altered', sequence: r.sequence, name: r.name, scanId: rec.scanId, detail: `${r.name}: its content does not match its hash ${rec.hash.slice(0, 12)}…` });
    }
    if (rec.sequence !== r.sequence) {
      issues.push({ kind: 'reordered', sequence: r.sequence, name: r.name, scanId: rec.scanId, detail: `${r.name} holds the record of sequence ${rec.sequence}` });
    } else if (i === 0 && o.from) {
      // The anchor: its prevHash is trusted.
    } else if (prev && prev.sequence === r.sequence - 1 && rec.prevHash !== prev.hash) {
      issues.push({ kind: 'reordered', sequence: r.sequence, name: r.name, scanId: rec.scanId, detail: `${r.name}: its previous-record hash ${rec.prevHash.slice(0, 12)}… is not the hash of record ${prev.sequence} (${prev.hash.slice(0, 12)}…)` });
    }
    prev = { sequence: r.sequence, hash: rec.hash };
  }
  const firstRec = walked[0]?.record;
  if (firstRec) out.first = { sequence: walked[0]?.sequence ?? 0, hash: firstRec.hash, startedAt: firstRec.startedAt };
  const last = walked.at(-1);
  if (last?.record) out.head = { sequence: last.sequence, hash: last.record.hash, startedAt: last.record.startedAt, scanId: last.record.scanId };
  if (o.scans) {
    const recorded = new Set(o.scans.map((s) => s.scanId));
    const inChain = new Set(read.map((r) => r.record?.scanId).filter((s): s is string => s !== undefined));
    for (const r of walked) {
      if (r.record && !recorded.has(r.record.scanId)) {
        issues.push({ kind: 'no-scan-record', sequence: r.sequence, name: r.name, scanId: r.record.scanId, detail: `${r.name}: scan ${r.record.scanId} has no scan record (a scan stopped between its evidence and its record, or a forged record)` });
      }
    }
    // Scans older than the trail (or than `from`) are not expected in it.
    const since = Date.parse(walked[0]?.record?.startedAt ?? '') || (o.from ? o.from.getTime() : Number.NaN);
    for (const s of o.scans) {
      if (!Number.isFinite(since) || Date.parse(s.startedAt) < since || inChain.has(s.scanId)) continue;
      issues.push({ kind: 'no-evidence', scanId: s.scanId, detail: `scan ${s.scanId} (started ${s.startedAt}) has a scan record but no evidence record` });
    }
  }
  out.ok = issues.length === 0;
  return out;
}

/**
 * The chain head of a month: the record with the highest sequence among those that started in
 * [start, end) (the digest's month bounds); undefined when none did.
 */
export async function monthHead(port: EvidencePort, tenantId: string, bounds: { start: string; end: string }): Promise<{ sequence: number; hash: string; scanId: string; startedAt: string } | undefined> {
  const names = (await port.listEvidence(tenantId)).filter((n) => sequenceOf(n) !== undefined).sort();
  const start = Date.parse(bounds.start);
  const end = Date.parse(bounds.end);
  // Newest first: a digest is for a recent month, so few records are read.
  for (const name of names.reverse()) {
    const r = parseRecord(await port.getEvidence(tenantId, name));
    if (!r) continue;
    const at = Date.parse(r.startedAt);
    if (at >= start && at < end) return { sequence: sequenceOf(name) as number, hash: r.hash, scanId: r.scanId, startedAt: r.startedAt };
    if (at < start) return undefined;
  }
  return undefined;
}
