/**
 * What counts as an internal domain, for every rule that asks (MAIL-01, FILE-02). controls.md:
 * "Internal domain = a verified domain of the tenant (`GET /domains`, `isVerified`) or one in config
 * `internalDomains`. Domains are compared case-insensitively."
 *
 * One helper so that the mail and file rules can never disagree again (they once did, on a
 * trailing dot). DNS names may be written fully qualified (`example.lg.jp.`): the trailing dot is
 * the root label, not part of the name, so it is dropped on both sides of the comparison.
 */
import type { Policy } from '../config/policy';
import type { Domain } from '../collect/snapshot';

/** A domain name in the form every comparison uses: trimmed, lower-case, no trailing root dot. */
export function normaliseDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.+$/, '');
}

/**
 * The domain of an address, normalised ('' when it has none: an Exchange legacy DN such as
 * `/o=ExchangeLabs/…`, or a bare name).
 */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : normaliseDomain(address.slice(at + 1));
}

/**
 * The tenant's internal domains: verified domains plus `organization.internalDomains`. Exact names
 * only: a subdomain of a verified domain is internal only if it is verified (or listed) too.
 */
export function internalDomainSet(domains: readonly Domain[], policy: Pick<Policy, 'organization'>): ReadonlySet<string> {
  return new Set([
    ...domains.filter((d) => d.isVerified).map((d) => normaliseDomain(d.id)),
    ...policy.organization.internalDomains.map(normaliseDomain),
  ]);
}

/** True when `address` has a domain and it is not in `internal` (nor in `alsoAllowed`). */
export function isOutside(address: string, internal: ReadonlySet<string>, alsoAllowed: ReadonlySet<string> = new Set()): boolean {
  const d = domainOf(address);
  return d !== '' && !internal.has(d) && !alsoAllowed.has(d);
}
