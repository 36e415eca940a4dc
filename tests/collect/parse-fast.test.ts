/**
 * The fast paths of the user and directory-entry schemas (collect/parse.ts, issue 13: scanner
 * memory at 50,000 users) give exactly what zod gives: for every edge case of every field, a
 * record the fast path takes is the record zod's transform gives (same fields, same order), and
 * everything else is left to zod, so parseRecords' records and problems are zod's.
 */
import type { z } from 'zod';
import { directoryEntrySchema, fastDirectoryEntry, fastUser, parseRecords, userSchema } from '../../src/collect/parse';

const BASE_USER = {
  id: 'a1b2c3d4-0000-4000-8000-000000000001',
  displayName: '山田 太郎',
  userPrincipalName: 'taro@contoso.example',
  mail: 'taro@contoso.example',
  userType: 'Member',
  accountEnabled: true,
  createdDateTime: '2023-04-01T00:00:00Z',
  department: '総務部',
  employeeId: 'E001',
  employeeLeaveDateTime: null,
  passwordPolicies: 'DisablePasswordExpiration',
  externalUserState: null,
  signInActivity: {
    lastSignInDateTime: '2026-11-30T08:15:00Z',
    lastSuccessfulSignInDateTime: '2026-11-30T08:15:00.123Z',
    lastNonInteractiveSignInDateTime: '0001-01-01T00:00:00Z',
  },
};

const MISSING = Symbol('missing');
/** What Graph (or a broken proxy) might put in any field. */
const VALUES: unknown[] = [
  MISSING, undefined, null, '', ' ', 'x', 'Guest', 0, 1, true, false, {}, [], ['a'],
  '0001-01-01T00:00:00Z', '0001-01-01', '2024-02-29T12:00:00Z', '2024-02-29', '2024-02-30T00:00:00Z',
  '2024-01-01T09:00:00+09:00', 'yesterday', 'NaN', '1700000000000',
];

function variant(base: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(base);
  let at: Record<string, unknown> = copy;
  for (const p of path.slice(0, -1)) at = at[p] as Record<string, unknown>;
  const last = path[path.length - 1] as string;
  if (value === MISSING) delete at[last];
  else at[last] = value;
  return copy;
}

/** The fast path agrees with zod on `input`: same record (keys in the same order), or it defers. */
function expectSame<S extends z.ZodType>(schema: S, fast: (v: unknown) => unknown, input: unknown): boolean {
  const quick = fast(input);
  const slow = schema.safeParse(input);
  if (quick === undefined) return false;
  expect(slow.success).toBe(true);
  if (!slow.success) return true;
  expect(quick).toStrictEqual(slow.data);
  expect(Object.keys(quick as object)).toEqual(Object.keys(slow.data as object));
  return true;
}

describe('fast paths of the user and directory-entry schemas', () => {
  it('take a well-formed record (so they are used at all) and give what zod gives', () => {
    expect(expectSame(userSchema, fastUser, BASE_USER)).toBe(true);
    expect(expectSame(directoryEntrySchema, fastDirectoryEntry, BASE_USER)).toBe(true);
    const plain = variant(BASE_USER, ['signInActivity'], MISSING);
    expect(expectSame(userSchema, fastUser, plain)).toBe(true);
  });

  it('agree with zod on every edge case of every user field, and of signInActivity', () => {
    const paths: string[][] = [
      ...Object.keys(BASE_USER).map((k) => [k]),
      ...Object.keys(BASE_USER.signInActivity).map((k) => ['signInActivity', k]),
    ];
    let taken = 0;
    let deferred = 0;
    for (const path of paths) {
      for (const value of VALUES) {
        const input = variant(BASE_USER, path, value);
        if (expectSame(userSchema, fastUser, input)) taken++;
        else deferred++;
        if (path.length === 1 && expectSame(directoryEntrySchema, fastDirectoryEntry, input)) taken++;
      }
    }
    // Both branches ran: the cases zod rejects were deferred, the others taken.
    expect(taken).toBeGreaterThan(100);
    expect(deferred).toBeGreaterThan(50);
  });

  it('defer what is not an object, and parseRecords then gives zod\'s records and problems', () => {
    const values: unknown[] = [
      null, [], 'user', 5, BASE_USER,
      variant(BASE_USER, ['createdDateTime'], 'yesterday'),
      variant(BASE_USER, ['accountEnabled'], 'true'),
      variant(BASE_USER, ['signInActivity'], 'recent'),
      variant(BASE_USER, ['id'], ''),
      variant(BASE_USER, ['userType'], null),
      variant(BASE_USER, ['displayName'], ''),
    ];
    for (const v of values.slice(0, 4)) {
      expect(fastUser(v)).toBeUndefined();
      expect(fastDirectoryEntry(v)).toBeUndefined();
    }
    for (const schema of [userSchema, directoryEntrySchema] as const) {
      const got = parseRecords(schema, values, 'GET /users', 7);
      const records: unknown[] = [];
      const problems: string[] = [];
      values.forEach((v, i) => {
        const r = (schema as z.ZodType).safeParse(v);
        if (r.success) records.push(r.data);
        else {
          const issue = r.error.issues[0];
          const path = issue ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') : '';
          const id = v && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string' ? ` (id ${(v as { id: string }).id})` : '';
          problems.push(`GET /users value[${7 + i}]${path}${id}: ${issue?.message ?? 'invalid'}`);
        }
      });
      expect(got.records).toStrictEqual(records);
      expect(got.problems).toEqual(problems);
    }
    // The user schema's normalisations, as the fast path applies them.
    const [u] = parseRecords(userSchema, [variant(variant(BASE_USER, ['userType'], null), ['displayName'], '')], 'GET /users').records;
    expect(u).toMatchObject({ userType: 'Member', displayName: BASE_USER.userPrincipalName, lastNonInteractiveSignInDateTime: null, lastSuccessfulSignInDateTime: '2026-11-30T08:15:00.123Z', createdDateTime: '2023-04-01T00:00:00.000Z' });
  });
});
