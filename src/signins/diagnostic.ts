/**
 * Sign-ins from Entra diagnostic settings streamed to an Event Hub, mapped to the detector's
 * {@link SignInEvent}. The shape differs from Graph's `signIn` ("Interpret the Microsoft Entra
 * sign-in logs schema in Azure Monitor"): every Event Hub message body is an Azure Monitor
 * envelope `{ "records": [ … ] }`, and each record is
 *
 *   { "time", "resourceId": "/tenants/<id>/providers/Microsoft.aadiam", "operationName": "Sign-in activity",
 *     "category": "SignInLogs", "tenantId", "resultType": "50140", "resultSignature", "resultDescription",
 *     "callerIpAddress", "correlationId", "identity", "Level", "location": "US",
 *     "properties": { "id", "createdDateTime": "…+00:00", "userPrincipalName", "userId", "appDisplayName",
 *                     "ipAddress", "status": { "errorCode": 50140, … }, "clientAppUsed",
 *                     "location": { "countryOrRegion": "US", … }, … } }
 *
 * `properties` carries the Graph signIn's own property names, so it is validated with the very
 * schema the Graph watch uses (collect/signins.ts) after the envelope's fields fill what a
 * record leaves out: `time` for `createdDateTime`, `callerIpAddress` for `ipAddress`, the
 * numeric `resultType` for `status.errorCode`, the top-level `location` (a country code) for
 * `location.countryOrRegion`.
 *
 * Categories: the Graph watch reads `GET /auditLogs/signIns`, interactive user sign-ins, so the
 * stream takes `SignInLogs` (and `SignIn`, the category name of the schema's first revision) and
 * counts every other category (NonInteractiveUserSignInLogs, ServicePrincipalSignInLogs,
 * ManagedIdentitySignInLogs, AuditLogs… when the diagnostic setting sends more than asked) as
 * ignored, never as a problem. A record of the wrong tenant is a problem: the stream is bound to
 * one tenant, and another tenant's sign-ins must never reach this ledger.
 *
 * Messages come as the Functions host hands them over: parsed JSON objects, JSON text, or bytes.
 * An unreadable message or record is skipped with a problem naming it (its position and, when it
 * has one, its id), so one bad record neither stops the stream nor hides the rest.
 */
import { parseRecords } from '../collect/parse';
import { signInSchema } from '../collect/signins';
import type { SignInEvent } from './detector';

/** The categories of interactive user sign-ins (the same log as Graph's `auditLogs/signIns`). */
export const INTERACTIVE_CATEGORIES = ['SignInLogs', 'SignIn'];

export interface DiagnosticBatch {
  events: SignInEvent[];
  /** Records of other categories, by category. */
  ignored: Record<string, number>;
  /** Unreadable messages and records, each naming where it was and why. */
  problems: string[];
  /** Records read (of every category). */
  records: number;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One message body as an object: parsed already, JSON text, or bytes of JSON text. */
function bodyOf(message: unknown): unknown {
  if (typeof message === 'string') return JSON.parse(message);
  if (message instanceof Uint8Array) return JSON.parse(Buffer.from(message).toString('utf8'));
  return message;
}

/**
 * A record's sign-in as Graph would have given it: `properties`, with what only the envelope
 * carries filled in (never overriding what `properties` has).
 */
function asGraphSignIn(record: Json): Json {
  const p = isObject(record.properties) ? { ...record.properties } : {};
  if (p.createdDateTime === undefined && typeof record.time === 'string') p.createdDateTime = record.time;
  if (p.ipAddress === undefined && typeof record.callerIpAddress === 'string') p.ipAddress = record.callerIpAddress;
  const code = typeof record.resultType === 'string' && /^\d+$/.test(record.resultType) ? Number(record.resultType) : undefined;
  if (!isObject(p.status) && code !== undefined) p.status = { errorCode: code };
  else if (isObject(p.status) && typeof p.status.errorCode === 'string' && /^\d+$/.test(p.status.errorCode)) p.status = { ...p.status, errorCode: Number(p.status.errorCode) };
  if (!isObject(p.location) && typeof record.location === 'string' && record.location) p.location = { countryOrRegion: record.location };
  return p;
}

/**
 * Maps a batch of Event Hub messages to sign-in events. `tenantId`: the tenant being watched;
 * records that name another tenant are refused (a problem each).
 */
export function parseDiagnosticBatch(messages: readonly unknown[], tenantId: string): DiagnosticBatch {
  const out: DiagnosticBatch = { events: [], ignored: {}, problems: [], records: 0 };
  const where = 'Event Hub sign-in record';
  messages.forEach((message, m) => {
    let body: unknown;
    try {
      body = bodyOf(message);
    } catch (err) {
      out.problems.push(`Event Hub message [${m}]: not JSON (${(err as Error).message})`);
      return;
    }
    // A message is an Azure Monitor envelope; a bare record is taken as an envelope of one.
    const records = isObject(body) && Array.isArray(body.records) ? (body.records as unknown[]) : isObject(body) && 'category' in body ? [body] : undefined;
    if (!records) {
      out.problems.push(`Event Hub message [${m}]: not an Azure Monitor log envelope (expected an object with a "records" array)`);
      return;
    }
    const wanted: Json[] = [];
    records.forEach((record, r) => {
      out.records++;
      if (!isObject(record)) {
        out.problems.push(`${where} [${m}].records[${r}]: not an object`);
        return;
      }
      const category = typeof record.category === 'string' ? record.category : '(none)';
      if (!INTERACTIVE_CATEGORIES.includes(category)) {
        out.ignored[category] = (out.ignored[category] ?? 0) + 1;
        return;
      }
      const tenant = typeof record.tenantId === 'string' ? record.tenantId : undefined;
      if (tenant && tenant.toLowerCase() !== tenantId.toLowerCase()) {
        out.problems.push(`${where} [${m}].records[${r}]: of tenant ${tenant}, not the tenant being watched (${tenantId}); check which tenant's diagnostic setting streams to this Event Hub`);
        return;
      }
      wanted.push(asGraphSignIn(record));
    });
    const parsed = parseRecords(signInSchema, wanted, `${where} [${m}]`);
    out.events.push(...parsed.records);
    out.problems.push(...parsed.problems);
  });
  return out;
}
