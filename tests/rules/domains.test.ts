/**
 * The one internal-domain test (src/rules/domains.ts), and proof that the mail and file rules,
 * which both ask it, give the same answer for the same address.
 */
import type { ItemPermission, SharedItem, SliceData } from '../../src/collect/snapshot';
import { domainOf, internalDomainSet, isOutside, normaliseDomain } from '../../src/rules/domains';
import { externalGrant } from '../../src/rules/files';
import { externalForwarding } from '../../src/rules/mail';
import { fired, fixturePolicy, withTenant } from './fixture';

describe('domainOf and normaliseDomain', () => {
  it('lower-cases, trims and drops the trailing root dot', () => {
    expect(domainOf('A@B.Example.JP.')).toBe('b.example.jp');
    expect(domainOf('a@ example.lg.jp ')).toBe('example.lg.jp');
    expect(normaliseDomain('Example.LG.JP..')).toBe('example.lg.jp');
  });
  it('gives no domain for addresses without one', () => {
    expect(domainOf('/o=ExchangeLabs/ou=Exchange/cn=Recipients')).toBe('');
    expect(domainOf('nobody')).toBe('');
  });
  it('takes the part after the last @ (quoted local parts may hold another)', () => {
    expect(domainOf('"a@b"@Example.LG.JP')).toBe('example.lg.jp');
  });
});

describe('internalDomainSet and isOutside', () => {
  const policy = fixturePolicy({ organization: { internalDomains: ['Town.Example.JP'] } });
  const internal = internalDomainSet(
    [
      { id: 'example.lg.jp', isVerified: true },
      { id: 'Unverified.Example.JP', isVerified: false },
    ],
    policy,
  );
  it('holds verified domains and the policy list, normalised, and not unverified ones', () => {
    expect([...internal].sort()).toEqual(['example.lg.jp', 'town.example.jp']);
  });
  it('treats a subdomain of a verified domain as outside unless it is listed too', () => {
    expect(isOutside('a@sub.example.lg.jp', internal)).toBe(true);
    expect(isOutside('a@EXAMPLE.LG.JP.', internal)).toBe(false);
    expect(isOutside('a@unverified.example.jp', internal)).toBe(true);
  });
  it('never calls an address without a domain outside, and honours an allow-list', () => {
    expect(isOutside('/o=ExchangeLabs/cn=Recipients', internal)).toBe(false);
    expect(isOutside('a@partner.example.jp', internal, new Set(['partner.example.jp']))).toBe(false);
  });
});

describe('mail and file rules agree on what is internal', () => {
  // Addresses as they reach each rule; each is internal or outside for both rules alike.
  const cases: Array<[string, boolean]> = [
    ['someone@Example.LG.JP.', false],
    ['someone@exampledemo.onmicrosoft.com', false],
    ['someone@sub.example.lg.jp', true],
    ['someone@gmail.com', true],
  ];
  const classIPolicy = fixturePolicy({
    files: { assets: [{ name: 'jinji', owner: 'o@example.lg.jp', location: 'https://example.sharepoint.com/sites/jinji', class: 'I' }] },
  });

  function mailTenant(address: string): SliceData {
    return withTenant((t) => {
      const mailbox = t.mailRules.mailboxes.find((m) => m.userId === 'u-admin');
      mailbox?.rules.push({ id: 'r', displayName: '転送', isEnabled: true, forwardTo: [{ address, name: null }], redirectTo: [], forwardAsAttachmentTo: [] });
    });
  }
  function fileTenant(address: string): SliceData {
    return withTenant((t) => {
      const permission: ItemPermission = {
        id: 'p',
        roles: ['read'],
        link: null,
        expirationDateTime: null,
        inherited: false,
        grantees: [{ displayName: 'x', email: address, loginName: null, via: 'grantedToV2' }],
      };
      const item: SharedItem = {
        driveId: 'b!d', itemId: 'i', siteId: 's', siteUrl: 'https://example.sharepoint.com/sites/jinji', name: 'f',
        webUrl: 'https://example.sharepoint.com/sites/jinji/Shared%20Documents/f', isFolder: false, permissions: [permission],
      };
      t.sharing.items = [item];
    });
  }

  it.each(cases)('%s → outside: %s, for MAIL-01 and FILE-02 alike', (address, outside) => {
    expect(fired(externalForwarding, mailTenant(address)).length > 0).toBe(outside);
    expect(fired(externalGrant, fileTenant(address), classIPolicy).length > 0).toBe(outside);
  });
});
