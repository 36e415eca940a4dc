/**
 * One message per cause. A refused token or an untrusted certificate fails every endpoint the
 * same way; reporting it once per slice buries the fix under eighteen copies. Messages of the
 * Graph layer start with (or contain) `METHOD /endpoint`, followed by the cause; two messages
 * whose text after their last endpoint is the same have the same cause and are reported once,
 * naming every slice and endpoint it hit.
 */

/** `GET /users?$select=…` followed by `: …` or ` answered …`: the endpoint part of a message. */
const ENDPOINT = /\b(GET|POST|PATCH|DELETE) (\/\S*?)(?=: | answered )/g;

/** The cause of a message (the text after its last endpoint) and the endpoints it names. */
export function causeOf(message: string): { cause: string; endpoints: string[] } {
  const matches = [...message.matchAll(ENDPOINT)];
  const last = matches[matches.length - 1];
  if (!last || last.index === undefined) return { cause: message, endpoints: [] };
  const endpoints = matches.map((m) => `${m[1]} ${(m[2] ?? '').split('?')[0]}`);
  return { cause: message.slice(last.index + last[0].length).replace(/^:? /, ''), endpoints };
}

/**
 * Groups `label: message` entries by cause. An entry alone in its group reads as before
 * (`users: GET /users answered 401 (…) — …`); a group reads once, with every label and the
 * endpoints after it: `users, domains: answered 401 (…) — … (GET /users, GET /domains)`.
 */
export function collapseCauses(entries: ReadonlyArray<{ label: string; message: string }>): string[] {
  const groups = new Map<string, { labels: string[]; endpoints: string[]; first: string }>();
  for (const { label, message } of entries) {
    const { cause, endpoints } = causeOf(message);
    const g = groups.get(cause);
    if (!g) groups.set(cause, { labels: [label], endpoints: [...endpoints], first: message });
    else {
      if (!g.labels.includes(label)) g.labels.push(label);
      for (const e of endpoints) if (!g.endpoints.includes(e)) g.endpoints.push(e);
    }
  }
  return [...groups.entries()].map(([cause, g]) => {
    if (g.labels.length === 1) return `${g.labels[0]}: ${g.first}`;
    const shown = g.endpoints.slice(0, 6);
    const more = g.endpoints.length - shown.length;
    const where = shown.length ? ` (${shown.join(', ')}${more > 0 ? `, and ${more} more` : ''})` : '';
    return `${g.labels.join(', ')}: ${cause}${where}`;
  });
}

/** A message with the query strings of its endpoints left out (`GET /users: …`), for one-line progress. */
export function withoutQueries(message: string): string {
  return message.replace(ENDPOINT, (_m, method: string, path: string) => `${method} ${path.split('?')[0]}`);
}
