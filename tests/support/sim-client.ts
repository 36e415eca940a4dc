/**
 * A raw HTTPS client for simulator tests: undici fetch trusting the simulator's certificate,
 * answers with status, headers, text and parsed JSON (undefined when the body is not JSON).
 */
import { Agent, fetch } from 'undici';
import type { SimServer } from '../../src/sim/server';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface CallInit {
  method?: string;
  body?: unknown;
  /** Bearer token; null sends no Authorization header (default 'test-token'). */
  token?: string | null;
  headers?: Record<string, string>;
}

/** `call(pathOrUrl)`: a path is relative to `/v1.0`; an absolute https URL (a nextLink) is used verbatim. */
export function simClient(sim: SimServer, defaults: { userAgent?: string } = {}) {
  const agent = new Agent({ connect: { ca: sim.caPem } });
  const call = async (pathOrUrl: string, init: CallInit = {}): Promise<Answer> => {
    const url = pathOrUrl.startsWith('https://') ? pathOrUrl : `${sim.url}/v1.0${pathOrUrl}`;
    const headers: Record<string, string> = { ...(defaults.userAgent ? { 'User-Agent': defaults.userAgent } : {}), ...init.headers };
    if (init.token !== null) headers.Authorization = `Bearer ${init.token ?? 'test-token'}`;
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), dispatcher: agent });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers as unknown as Headers, text, json };
  };
  return { agent, call };
}
