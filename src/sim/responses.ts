/**
 * Response builders in Graph's shapes: the OData JSON content type of successful answers, and
 * the `{ error: { code, message, innerError } }` body of failures (reference/graph/18-errors.json,
 * 09-batch.json).
 */
import type { SimRequest, SimResponse } from './types';

/** The content type Graph sends with JSON payloads (09-batch.json item headers). */
export const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** The body a 'malformed' fault sends: JSON cut off mid-object, as a dropped connection would leave it. */
export const MALFORMED_BODY = '{"value":[{"id":';

/** Graph's innerError date: UTC to the second without a zone suffix ("2025-02-13T10:17:05"). */
export function graphDate(d: Date = new Date()): string {
  return d.toISOString().slice(0, 19);
}

/** A 200 (or other 2xx) JSON answer with the headers Graph puts on directory responses. */
export function jsonOk(body: unknown, status = 200): SimResponse {
  return { status, headers: { 'Content-Type': ODATA_JSON, 'Cache-Control': 'no-cache', 'OData-Version': '4.0' }, body };
}

/** The `{ error }` body with the innerError Graph adds (date, request-id, client-request-id). */
export function errorBody(req: SimRequest, code: string, message: string): unknown {
  return {
    error: {
      code,
      message,
      innerError: { date: graphDate(), 'request-id': req.requestId, 'client-request-id': req.clientRequestId },
    },
  };
}

/**
 * A Graph error answer. Errors go out as plain `application/json`, as the error items of the
 * docs' batch example do, not with the OData parameters of successful answers.
 */
export function graphError(req: SimRequest, status: number, code: string, message: string, headers: Record<string, string> = {}): SimResponse {
  return { status, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache', ...headers }, body: errorBody(req, code, message) };
}

/**
 * A 429 with the body of the throttling docs' sample (innerError.code and .status are the
 * strings "429"); `retryAfter` null sends no Retry-After header (Conditional Access does that).
 * client-request-id is added to the sample's innerError so every error carries it.
 */
export function tooManyRequests(req: SimRequest, retryAfter: string | null, code = 'TooManyRequests', message = 'Please retry again later.'): SimResponse {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' };
  if (retryAfter !== null) headers['Retry-After'] = retryAfter;
  return {
    status: 429,
    headers,
    body: {
      error: {
        code,
        innerError: {
          code: '429',
          date: graphDate(),
          message: 'Please retry after',
          'request-id': req.requestId,
          status: '429',
          'client-request-id': req.clientRequestId,
        },
        message,
      },
    },
  };
}

/** Default error code and message per status, for faults that name only a status. */
const DEFAULT_ERRORS: Record<number, { code: string; message: string }> = {
  400: { code: 'BadRequest', message: 'The request is malformed or incorrect.' },
  401: { code: 'InvalidAuthenticationToken', message: 'Access token validation failure.' },
  403: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' },
  404: { code: 'itemNotFound', message: 'The resource could not be found.' },
  409: { code: 'conflict', message: 'The current state conflicts with what the request expects.' },
  410: { code: 'resyncRequired', message: 'The delta token is no longer valid, and the app must reset the sync state.' },
  429: { code: 'TooManyRequests', message: 'Please retry again later.' },
  500: { code: 'generalException', message: 'An unspecified error has occurred.' },
  502: { code: 'badGateway', message: 'The server received an invalid response from an upstream server.' },
  503: { code: 'serviceNotAvailable', message: 'The service is temporarily unavailable. Please retry later.' },
  504: { code: 'gatewayTimeout', message: 'The gateway timed out waiting for the upstream server.' },
};

/** The code/message a fault with only a status answers with (generalException when unknown). */
export function defaultError(status: number): { code: string; message: string } {
  return DEFAULT_ERRORS[status] ?? { code: 'generalException', message: 'An unspecified error has occurred.' };
}
