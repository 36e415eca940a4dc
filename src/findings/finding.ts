/**
 * Finding: one rule's verdict on one subject. Its id is a stable fingerprint of rule and
 * subject, so the same problem has the same id in every scan (the ledger, tickets and exceptions
 * key on it).
 */
import { createHash } from 'node:crypto';
import type { Area, RuleId, Severity } from '../rules/ids';

export type SubjectKind = 'user' | 'tenant' | 'ip' | 'site' | 'driveItem' | 'servicePrincipal' | 'domain';

export interface Subject {
  kind: SubjectKind;
  /** servicePrincipal → its object id; user → Entra object id; site → Graph site id; driveItem → `<driveId>/<itemId>`; tenant → tenant id; ip → the address; domain → the domain name (lower case). */
  id: string;
  /** What a person reads: UPN, site URL, path, address. */
  name: string;
  /** The subject's URL when it has one (sites, items): exceptions may match it by prefix. */
  url?: string;
}

export interface LocalText {
  ja: string;
  en: string;
}

export type FindingStatus = 'open' | 'excepted';

export interface Finding {
  id: string;
  ruleId: RuleId;
  clauses: readonly string[];
  kind: 'state' | 'event';
  severity: Severity;
  area: Area;
  subject: Subject;
  title: LocalText;
  evidence: Record<string, unknown>;
  status: FindingStatus;
  firstSeen: string;
  lastSeen: string;
}

/** The stable id of a finding: same rule and subject give the same id in every scan. */
export function fingerprint(ruleId: string, subject: Pick<Subject, 'kind' | 'id'>): string {
  return createHash('sha256').update(`${ruleId}\u0000${subject.kind}\u0000${subject.id}`).digest('hex').slice(0, 32);
}
