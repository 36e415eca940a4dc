/** The implemented rules, in catalogue order. Rules of later areas join this list as they land. */
import { ACCOUNT_RULES } from './accounts';
import { APP_RULES } from './apps';
import { FILE_RULES } from './files';
import { MAIL_RULES } from './mail';
import { MFA_RULES } from './mfa';
import { SIGNIN_RULES } from './signins';
import type { AnyRule } from './rule';

export const RULES: readonly AnyRule[] = [...ACCOUNT_RULES, ...MFA_RULES, ...MAIL_RULES, ...SIGNIN_RULES, ...FILE_RULES, ...APP_RULES] as unknown as AnyRule[];

/** Looks a rule up by id. */
export function ruleById(id: string): AnyRule | undefined {
  return RULES.find((r) => r.id === id);
}
