/**
 * The on-demand scan's request (HTTP `scanNow`) and the queue message it becomes (`scanWorker`).
 * Pure checks: the Functions answer with what these return, and the CLI could reuse them.
 */
import { randomUUID } from 'node:crypto';
import { output } from '@azure/functions';
import { IMPLEMENTED_AREAS } from '../pipeline';
import type { Area } from '../rules/ids';

/** The queue the HTTP trigger writes and the worker reads. */
export const SCAN_QUEUE = 'm365-audit-scan-requests';

/**
 * The queue's output binding (identity-based through AzureWebJobsStorage__accountName in Azure):
 * scanNow writes requests to it, tenantScan and scanWorker the continuations of scans that
 * stopped at their deadline.
 */
export const scanQueue = output.storageQueue({ queueName: SCAN_QUEUE, connection: 'AzureWebJobsStorage' });

/** What the queue carries: the scan id the caller was given, what to scan, and when it was asked. */
export interface ScanRequestMessage {
  scanId: string;
  /** Absent: every implemented area. */
  areas?: Area[];
  confirmResolutions?: boolean;
  requestedAt: string;
}

export type ParsedRequest = { ok: true; message: ScanRequestMessage } | { ok: false; status: 400 | 415; error: string };

const FIELDS = ['areas', 'confirmResolutions'];

/** Problems with `areas` / `confirmResolutions` in a decoded body, each naming the field and the fix. */
function fieldProblems(body: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(body)) if (!FIELDS.includes(key)) problems.push(`${key}: not a field of this request (the fields are areas, confirmResolutions); remove it`);
  if (body.areas !== undefined) {
    const areas = body.areas;
    if (!Array.isArray(areas) || areas.length === 0 || areas.some((a) => typeof a !== 'string')) {
      problems.push(`areas: must be a non-empty array of area names, e.g. ["accounts","signins"] (available: ${IMPLEMENTED_AREAS.join(', ')}); omit it to scan every area`);
    } else {
      const unknown = (areas as string[]).filter((a) => !(IMPLEMENTED_AREAS as readonly string[]).includes(a));
      if (unknown.length) problems.push(`areas: ${unknown.map((a) => JSON.stringify(a)).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not an area of this release (available: ${IMPLEMENTED_AREAS.join(', ')})`);
    }
  }
  if (body.confirmResolutions !== undefined && typeof body.confirmResolutions !== 'boolean') {
    problems.push('confirmResolutions: must be true or false (true: the tenant really changed, accept a large drop or mass resolution)');
  }
  return problems;
}

/**
 * Checks an HTTP request's body: none (scan everything), or a JSON object with optional `areas`
 * and `confirmResolutions`. 415 for a body that is not declared JSON, 400 naming the field and
 * the fix for anything else wrong; otherwise the queue message, with a new scan id.
 */
export function parseScanRequest(contentType: string | null | undefined, text: string, now: Date = new Date(), newId: () => string = randomUUID): ParsedRequest {
  let body: unknown = {};
  if (text.trim() !== '') {
    const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      return { ok: false, status: 415, error: `Content-Type must be application/json (got ${type ? JSON.stringify(type) : 'none'}); send the body as JSON, e.g. {"areas":["signins"]}, or send no body to scan every area` };
    }
    try {
      body = JSON.parse(text);
    } catch (err) {
      return { ok: false, status: 400, error: `the body is not valid JSON (${(err as Error).message}); send an object such as {"areas":["signins"]}` };
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, status: 400, error: 'the body must be a JSON object such as {"areas":["signins"],"confirmResolutions":false}' };
  }
  const fields = body as Record<string, unknown>;
  const problems = fieldProblems(fields);
  if (problems.length) return { ok: false, status: 400, error: `the request is invalid: ${problems.join('; ')}` };
  return {
    ok: true,
    message: {
      scanId: newId(),
      ...(fields.areas !== undefined ? { areas: fields.areas as Area[] } : {}),
      ...(fields.confirmResolutions === true ? { confirmResolutions: true } : {}),
      requestedAt: now.toISOString(),
    },
  };
}

/**
 * Checks a queue message (the platform hands JSON over as an object, or as text). A message that
 * is not one of ours throws: after the retry cap the platform moves it to the poison queue.
 */
export function parseScanMessage(item: unknown): ScanRequestMessage {
  let value = item;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new Error(`queue ${SCAN_QUEUE}: the message is not JSON; it must be {"scanId","areas","requestedAt"} as scanNow writes it`);
    }
  }
  if (typeof value !== 'object' || value === null) throw new Error(`queue ${SCAN_QUEUE}: the message is not an object`);
  const m = value as Record<string, unknown>;
  if (typeof m.scanId !== 'string' || !/^[0-9a-f-]{36}$/i.test(m.scanId)) throw new Error(`queue ${SCAN_QUEUE}: scanId must be the UUID scanNow answered with`);
  if (typeof m.requestedAt !== 'string' || Number.isNaN(Date.parse(m.requestedAt))) throw new Error(`queue ${SCAN_QUEUE}: requestedAt must be an ISO time`);
  const { scanId: _id, requestedAt: _at, ...rest } = m;
  const problems = fieldProblems(rest);
  if (problems.length) throw new Error(`queue ${SCAN_QUEUE}: ${problems.join('; ')}`);
  return {
    scanId: m.scanId,
    requestedAt: m.requestedAt,
    ...(m.areas !== undefined ? { areas: m.areas as Area[] } : {}),
    ...(m.confirmResolutions === true ? { confirmResolutions: true } : {}),
  };
}
