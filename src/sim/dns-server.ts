/**
 * A small authoritative DNS server for the simulator and the tests (MAIL-02): it answers TXT and
 * CNAME questions from a zone held in memory, over UDP and (optionally) TCP, on 127.0.0.1 only.
 * Packets are encoded and decoded with `dns-packet` (mafintosh/dns-packet, the packet library of
 * multicast-dns and bonjour), never built by hand.
 *
 * What it models (RFC 1035 / RFC 2308): a name with records of another type answers NOERROR with
 * no answers (NODATA); a name not in the zone answers NXDOMAIN; a CNAME is returned for any
 * question type at its owner name. Faults per name model an unhealthy resolver: SERVFAIL,
 * REFUSED, or no answer at all (the client times out). A UDP answer larger than `udpLimit` bytes
 * (512, RFC 1035 §4.2.1, unless the question carried EDNS) is sent truncated (TC, no answers) so
 * that the client repeats the question over TCP.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import * as packet from 'dns-packet';

/** What one name holds: TXT records (each a list of character-strings), a CNAME, or a fault. */
export interface DnsZoneEntry {
  /** Each record is one or more character-strings (at most 255 bytes each), as the zone file holds them. */
  TXT?: string[][];
  CNAME?: string;
  /** Answer every question at this name with this fault instead. */
  fault?: 'SERVFAIL' | 'REFUSED' | 'timeout';
}

/** Owner names (lower case, no trailing dot) to their records. */
export type DnsZone = Record<string, DnsZoneEntry>;

export interface DnsServerOptions {
  /** The zone, or a function giving the zone at each question (the simulator's live tenant). */
  zone: DnsZone | (() => DnsZone);
  /** UDP (and TCP) port; 0 or absent: a free one. */
  port?: number;
  /** Also listen on TCP (same port). Default true. */
  tcp?: boolean;
  /** Largest UDP answer sent whole (default 512); larger ones go out truncated. */
  udpLimit?: number;
}

export interface DnsServer {
  /** `127.0.0.1:PORT`, as `mail.dnsServers` takes it. */
  address: string;
  port: number;
  /** Live zone (tests may change it between scans). */
  zone: DnsZone;
  /** Questions received, as `TYPE name` (both transports), oldest first. */
  queries(): string[];
  close(): Promise<void>;
}

const TTL = 0;

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.+$/, '');
}

/** The answer to one decoded query, or undefined to stay silent (the `timeout` fault). */
export function answerQuery(zone: DnsZone, query: packet.Packet): packet.Packet | undefined {
  const question = query.questions?.[0];
  const base = { id: query.id ?? 0, type: 'response' as const, questions: query.questions ?? [] };
  const flags = packet.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & packet.RECURSION_DESIRED);
  if (!question) return { ...base, flags: flags | 1 /* FORMERR */ };
  const entry = zone[normalise(question.name)];
  if (entry?.fault === 'timeout') return undefined;
  if (entry?.fault === 'SERVFAIL') return { ...base, flags: flags | 2 };
  if (entry?.fault === 'REFUSED') return { ...base, flags: flags | 5 };
  if (!entry) return { ...base, flags: flags | 3 /* NXDOMAIN */ };
  const answers: packet.Answer[] = [];
  if (entry.CNAME !== undefined) {
    answers.push({ type: 'CNAME', name: question.name, ttl: TTL, class: 'IN', data: entry.CNAME });
  } else if (question.type === 'TXT') {
    for (const strings of entry.TXT ?? []) answers.push({ type: 'TXT', name: question.name, ttl: TTL, class: 'IN', data: strings });
  }
  return { ...base, flags, answers };
}

function decodeOrUndefined(buf: Buffer): packet.Packet | undefined {
  try {
    return packet.decode(buf);
  } catch {
    return undefined; // not a DNS message: ignore it, as a server would
  }
}

/**
 * Starts the server on 127.0.0.1. With a free port asked for and TCP on, a port whose TCP side is
 * taken is given up and another tried (a few times).
 */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await listenDns(options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || options.port || attempt >= 5) throw err;
    }
  }
}

async function listenDns(options: DnsServerOptions): Promise<DnsServer> {
  const log: string[] = [];
  const state = { zone: options.zone };
  const zoneNow = (): DnsZone => (typeof state.zone === 'function' ? state.zone() : state.zone);
  const udpLimit = options.udpLimit ?? 512;
  const record = (q: packet.Packet): void => {
    const question = q.questions?.[0];
    if (question) log.push(`${question.type} ${normalise(question.name)}`);
  };

  const udp: Socket = createSocket('udp4');
  udp.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    const query = decodeOrUndefined(msg);
    if (!query) return;
    record(query);
    const answer = answerQuery(zoneNow(), query);
    if (!answer) return;
    let out = packet.encode(answer);
    // EDNS (an OPT record) lets the client take a larger UDP answer (RFC 6891 §6.2.3).
    const edns = query.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const limit = Math.max(udpLimit, edns?.udpPayloadSize ?? 0);
    if (out.length > limit) out = packet.encode({ ...answer, flags: (answer.flags ?? 0) | packet.TRUNCATED_RESPONSE, answers: [] });
    udp.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(options.port ?? 0, '127.0.0.1', () => {
      udp.off('error', reject);
      resolve();
    });
  });
  const port = udp.address().port;

  let tcp: Server | undefined;
  const sockets = new Set<TcpSocket>();
  if (options.tcp !== false) {
    tcp = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      // RFC 1035 §4.2.2: each message is preceded by its two-byte length.
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2) {
          const length = pending.readUInt16BE(0);
          if (pending.length < 2 + length) break;
          const query = decodeOrUndefined(pending.subarray(0, 2 + length).subarray(2));
          pending = pending.subarray(2 + length);
          if (!query) continue;
          record(query);
          const answer = answerQuery(zoneNow(), query);
          if (answer) socket.write(packet.streamEncode(answer));
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      (tcp as Server).once('error', (err) => {
        udp.close();
        reject(err);
      });
      (tcp as Server).listen(port, '127.0.0.1', () => {
        (tcp as Server).off('error', reject);
        resolve();
      });
    });
  }

  return {
    address: `127.0.0.1:${port}`,
    port,
    get zone(): DnsZone {
      return zoneNow();
    },
    set zone(z: DnsZone) {
      state.zone = z;
    },
    queries: () => [...log],
    close: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (tcp) {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => (tcp as Server).close(() => resolve()));
      }
    },
  };
}
