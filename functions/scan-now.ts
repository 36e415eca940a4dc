/**
 * scanNow: an on-demand scan, HTTP POST (function key). Answers 202 with the scan id at once and
 * hands the scan to scanWorker through the storage queue, so the call never waits on Graph.
 * Body (optional, JSON): `{ "areas": ["signins"], "confirmResolutions": false }`.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { parseScanRequest, scanQueue } from '../src/jobs/scan-request';

/** The queue output binding (src/jobs/scan-request.ts), re-exported for the tests. */
export { scanQueue };

/** Builds the handler (the clock is the tests' to fix). */
export function scanNowHandler(now: () => Date = () => new Date()) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const parsed = parseScanRequest(request.headers.get('content-type'), await request.text(), now());
    if (!parsed.ok) {
      context.warn(JSON.stringify({ event: 'm365-audit.scan-request', status: parsed.status, error: parsed.error }));
      return { status: parsed.status, jsonBody: { error: parsed.error } };
    }
    context.extraOutputs.set(scanQueue, parsed.message);
    context.log(JSON.stringify({ event: 'm365-audit.scan-request', status: 202, scanId: parsed.message.scanId, areas: parsed.message.areas ?? 'all' }));
    return { status: 202, jsonBody: { scanId: parsed.message.scanId, status: 'queued', requestedAt: parsed.message.requestedAt } };
  };
}

app.http('scanNow', { methods: ['POST'], authLevel: 'function', route: 'scan', extraOutputs: [scanQueue], handler: scanNowHandler() });
