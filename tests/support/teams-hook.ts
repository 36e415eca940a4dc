/**
 * A local stand-in for a Teams Workflows webhook ("Send webhook alerts to a channel") on
 * 127.0.0.1: answers 202 Accepted with no body, as the Workflows trigger does, or the replies a
 * test queues (429 with Retry-After, 5xx, a 200 whose body reports an error, a 404 for a deleted
 * flow). Its URL carries a signature-like query string, so tests can check it never leaks.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TeamsMessage } from '../../src/alerts/cards';

/** The secret part of the URL (tests look for it in every output). */
export const SECRET = 'sig=Zx9SeCrEtSiGnAtUrE0123456789abcdef';

export interface Received {
  body: TeamsMessage;
  bytes: number;
  alertId: string | undefined;
}

/** A Workflows-like webhook: answers with the queued replies, then 202. */
export class Hook {
  received: Received[] = [];
  requests = 0;
  replies: Array<{ status: number; body?: string; headers?: Record<string, string> }> = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        const raw = Buffer.concat(chunks);
        const reply = this.replies.shift() ?? { status: 202 };
        if (reply.status >= 200 && reply.status < 300 && !reply.body) {
          this.received.push({ body: JSON.parse(raw.toString('utf8')) as TeamsMessage, bytes: raw.length, alertId: req.headers['x-m365audit-alert-id'] as string | undefined });
        }
        res.writeHead(reply.status, { 'Content-Type': 'text/plain', ...(reply.headers ?? {}) });
        res.end(reply.body ?? '');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/workflows/abc/triggers/manual/paths/invoke?api-version=1&${SECRET}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

