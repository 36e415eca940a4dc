/**
 * Inbox rules of every mailbox (MAIL-01), read through `$batch`: 20 mailboxes per call, several
 * calls in flight, throttled items retried per item by the Graph module. Endpoint:
 * GET /users/{id}/mailFolders/inbox/messageRules (MailboxSettings.Read).
 *
 * Which users: members with a `mail` address, enabled or not — a disabled account can be a shared
 * mailbox, and forwarding from one leaks mail all the same. Guests have no mailbox in the tenant.
 * A 404 `MailboxNotEnabledForRESTAPI` means "no mailbox" (unlicensed, resource, on-premises),
 * not a failure. A mailbox that still fails after the retry cap is named in the coverage detail,
 * makes the slice partial, and gets no finding either way.
 *
 * Only rules with a forwarding action are kept: memory grows with forwarding rules, not with
 * mailboxes.
 */
import { z } from 'zod';
import { describeShape, type BatchResult } from '../graph/graph';
import type { CollectContext, Collector } from './context';
import { optionalString, parseRecords, summariseProblems } from './parse';
import type { DirectoryEntry, ForwardingRule, MailboxRules, MailRules, RuleRecipient, Slice } from './snapshot';

const recipient = z
  .looseObject({ emailAddress: z.looseObject({ address: optionalString, name: optionalString }).nullish() })
  .transform((r): RuleRecipient | null => (r.emailAddress?.address ? { address: r.emailAddress.address, name: r.emailAddress.name } : null));

// redirectTo is a collection today; an older revision of the docs typed it as a single recipient.
const recipients = z
  .union([z.array(recipient), recipient.transform((r) => [r])])
  .nullish()
  .transform((list) => (list ?? []).filter((r): r is RuleRecipient => r !== null));

export const messageRuleSchema = z
  .looseObject({
    id: z.string().min(1),
    displayName: optionalString,
    isEnabled: z.boolean(),
    actions: z
      .looseObject({ forwardTo: recipients, redirectTo: recipients, forwardAsAttachmentTo: recipients })
      .nullish(),
  })
  .transform(
    (r): ForwardingRule => ({
      id: r.id,
      displayName: r.displayName ?? r.id,
      isEnabled: r.isEnabled,
      forwardTo: r.actions?.forwardTo ?? [],
      redirectTo: r.actions?.redirectTo ?? [],
      forwardAsAttachmentTo: r.actions?.forwardAsAttachmentTo ?? [],
    }),
  );

/** Graph's answer for a user without a mailbox (and for one deleted since the user list was read). */
const NO_MAILBOX_CODES = new Set(['MailboxNotEnabledForRESTAPI', 'ErrorInvalidUser', 'Request_ResourceNotFound', 'ResourceNotFound']);

function errorCode(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The users whose inbox rules are read. */
export function mailboxCandidates(users: readonly DirectoryEntry[]): DirectoryEntry[] {
  return users.filter((u) => u.userType.toLowerCase() === 'member' && u.mail);
}

export const collectMailRules: Collector<'mailRules'> = async (ctx) => {
  const users = await ctx.slice('directory');
  if (users.status === 'failed') return { status: 'failed', items: 0, detail: `the user list could not be read: ${users.detail}` };
  return readMailRules(ctx, mailboxCandidates(users.data), users.status === 'partial');
};

/**
 * Reads the inbox rules of `candidates` (all of the tenant's, or one range of them in a sharded
 * scan: src/jobs/shards.ts). `userListPartial`: the user list they come from was partial.
 */
export async function readMailRules(ctx: CollectContext, candidates: readonly DirectoryEntry[], userListPartial: boolean): Promise<Slice<MailRules>> {
  const mailboxes: MailboxRules[] = [];
  const failed: string[] = [];
  let envelope: string | undefined;
  const problems: string[] = [];
  let withoutMailbox = 0;
  const handle = async (r: BatchResult): Promise<void> => {
    const user = candidates[Number(r.id)] as DirectoryEntry;
    if (r.status === 404 && NO_MAILBOX_CODES.has(errorCode(r.body) ?? '')) {
      withoutMailbox++;
      return;
    }
    if (r.status !== 200) {
      failed.push(`${user.userPrincipalName} (${r.status}${errorCode(r.body) ? ` ${errorCode(r.body)}` : ''})`);
      if (r.status === 0 && errorCode(r.body) === 'batchEnvelopeFailed') envelope ??= (r.body as { error: { message: string } }).error.message;
      return;
    }
    const body = r.body as { value?: unknown; '@odata.nextLink'?: unknown } | undefined;
    if (!body || !Array.isArray(body.value)) {
      failed.push(`${user.userPrincipalName} (answer was ${describeShape(body)})`);
      return;
    }
    let values: unknown[] = body.value;
    try {
      // A mailbox with very many rules pages like any collection.
      if (typeof body['@odata.nextLink'] === 'string') values = [...values, ...(await ctx.graph.all(body['@odata.nextLink']))];
    } catch (err) {
      failed.push(`${user.userPrincipalName} (${(err as Error).message})`);
      return;
    }
    const parsed = parseRecords(messageRuleSchema, values, `messageRules of ${user.userPrincipalName}`);
    if (parsed.problems.length) {
      // A rule we cannot read might be the forwarding one: the mailbox is not vouched for.
      problems.push(...parsed.problems);
      failed.push(`${user.userPrincipalName} (unreadable rule)`);
      return;
    }
    mailboxes.push({
      userId: user.id,
      userPrincipalName: user.userPrincipalName,
      rules: parsed.records.filter((rule) => rule.forwardTo.length + rule.redirectTo.length + rule.forwardAsAttachmentTo.length > 0),
    });
  };
  // Answers are handled as each batch completes; none is kept beyond its forwarding rules.
  await ctx.graph.batchEach(
    candidates.map((u, i) => ({ id: String(i), method: 'GET', url: `/users/${u.id}/mailFolders/inbox/messageRules` })),
    handle,
  );
  const details: string[] = [];
  if (userListPartial) details.push('the user list was partial, so some mailboxes may not have been checked');
  if (failed.length) details.push(`${failed.length} mailbox(es) could not be read after retries: ${summariseProblems(failed, 10)}`);
  // A refused $batch envelope fails its items with status 0: say what the envelope answered once.
  if (envelope) details.push(envelope);
  if (problems.length) details.push(summariseProblems(problems));
  return {
    status: details.length ? 'partial' : 'complete',
    data: { mailboxes, withoutMailbox },
    items: mailboxes.length,
    ...(details.length ? { detail: details.join('; ') } : {}),
  };
}
