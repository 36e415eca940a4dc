/**
 * DNS reads for MAIL-02, through Node's resolver (`dns.promises.Resolver`, c-ares): TXT and CNAME
 * only, against the servers of `mail.dnsServers` (default: the system's), with a per-try timeout
 * and a bounded number of tries (c-ares repeats a question over TCP by itself when a UDP answer
 * comes back truncated).
 *
 * Each answer is classified so that the rules can tell "the record does not exist" from "we could
 * not find out": NXDOMAIN (`ENOTFOUND`) and NODATA (`ENODATA`) are real absences; anything else
 * (SERVFAIL, REFUSED, a timeout, an unreachable server, a malformed answer) is a failure, which is
 * coverage — never a pass and never a fail.
 *
 * Against a loopback Graph (the simulator, `m365-audit sim`/`demo`, the tests) and with no
 * `mail.dnsServers` set, questions go to the simulator's own DNS server on the same loopback port
 * over UDP (src/sim/server.ts): the simulated tenant's domains are fictional, and a scan of it must
 * never ask the Internet about them.
 */
import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';

export type DnsOutcome<T> =
  | { kind: 'found'; data: T }
  /** NXDOMAIN or NODATA: the name (or the type at that name) does not exist. */
  | { kind: 'absent'; code: 'NXDOMAIN' | 'NODATA' }
  /** The question could not be answered (SERVFAIL, REFUSED, timeout, …): coverage. */
  | { kind: 'failed'; code: string };

export interface DnsLookup {
  /** TXT records at `name`, each the list of its character-strings as received. */
  txt(name: string): Promise<DnsOutcome<string[][]>>;
  /** CNAME targets at `name` (normally one). */
  cname(name: string): Promise<DnsOutcome<string[]>>;
  /** The servers asked, for the coverage detail (`system resolver` when none was set). */
  describe(): string;
}

export interface ResolverOptions {
  /** `ip` or `ip:port` / `[ipv6]:port`; empty: the system resolver. */
  servers: readonly string[];
  /** Per try, in ms. */
  timeoutMs: number;
  /** Tries per question and server. */
  tries: number;
}

/**
 * Why a `mail.dnsServers` entry is not usable, or undefined when it is: an IPv4 or IPv6 address,
 * optionally with a port (`192.0.2.53:5353`, `[2001:db8::53]:53`). Names are refused: the resolver
 * would need another resolver to find them.
 */
export function dnsServerProblem(entry: string): string | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  let host = entry;
  let port: string | undefined;
  if (bracketed) {
    host = bracketed[1] as string;
    port = bracketed[2];
    if (isIP(host) !== 6) return 'must be an IP address: [IPv6]:port needs an IPv6 address inside the brackets';
  } else if (isIP(entry) === 0) {
    const m = /^([^:]+):(\d+)$/.exec(entry);
    if (!m || isIP(m[1] as string) !== 4) return 'must be an IP address with an optional port, such as 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53 (not a host name)';
    host = m[1] as string;
    port = m[2];
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return `port ${port} must be between 1 and 65535`;
  return undefined;
}

/** NXDOMAIN and NODATA as c-ares reports them; every other code is a failure. */
function classify(err: unknown): { kind: 'absent'; code: 'NXDOMAIN' | 'NODATA' } | { kind: 'failed'; code: string } {
  const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  if (code === 'ENOTFOUND') return { kind: 'absent', code: 'NXDOMAIN' };
  if (code === 'ENODATA') return { kind: 'absent', code: 'NODATA' };
  // ESERVFAIL, EREFUSED, ETIMEOUT, ECONNREFUSED, EBADRESP, ECANCELLED, …: map the common ones to the RCODE names.
  const names: Record<string, string> = { ESERVFAIL: 'SERVFAIL', EREFUSED: 'REFUSED', ETIMEOUT: 'timeout', ECONNREFUSED: 'connection refused' };
  return { kind: 'failed', code: names[code] ?? code };
}

/** A resolver over Node's c-ares, with the given servers, timeout and tries. */
export function createDnsLookup(options: ResolverOptions): DnsLookup {
  const resolver = new dnsPromises.Resolver({ timeout: options.timeoutMs, tries: options.tries });
  if (options.servers.length) resolver.setServers([...options.servers]);
  const ask = async <T>(fn: () => Promise<T>): Promise<DnsOutcome<T>> => {
    try {
      return { kind: 'found', data: await fn() };
    } catch (err) {
      return classify(err);
    }
  };
  return {
    txt: (name) => ask(() => resolver.resolveTxt(name)),
    cname: (name) => ask(() => resolver.resolveCname(name)),
    describe: () => (options.servers.length ? options.servers.join(', ') : 'the system resolver'),
  };
}

/**
 * The servers a scan asks: `mail.dnsServers` when set; else, for a Graph root on a loopback
 * address (the simulator), that address and port (the simulator answers DNS there over UDP);
 * else none (the system resolver).
 */
export function dnsServersFor(configured: readonly string[], graphRoot: string | undefined): string[] {
  if (graphRoot === undefined) return [...configured];
  if (configured.length) return [...configured];
  try {
    const url = new URL(graphRoot);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if ((host === '127.0.0.1' || host === '::1' || host === 'localhost') && url.port) {
      return [host === '::1' ? `[::1]:${url.port}` : `127.0.0.1:${url.port}`];
    }
  } catch {
    // not a URL: the system resolver
  }
  return [];
}
