/**
 * The `roles` claim of a JWT access token: what the app was granted (Sites.FullControl.All or
 * not decides what SharePoint's delta can show). Shared by the Graph client, which reads its own
 * token, and the simulator, which answers by the caller's.
 */

/**
 * The `roles` claim of a JWT access token (its payload decoded, not verified: this only tells
 * the app what it was granted). Undefined when the token is not a JWT or carries no roles array.
 */
export function rolesOfToken(token: string): string[] | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : undefined;
  } catch {
    return undefined;
  }
}
