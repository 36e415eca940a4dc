/**
 * Readable wording of role holdings that come through a group (ACCT-04/05, MFA-01 evidence):
 * "Global Administrator（適格）via グループ 情報システム管理者グループ". The raw evidence keeps the
 * ids (`group: {id, displayName}`); this line is what a person reads in the report and ticket.
 */
/** The languages the report and tickets are written in. */
export type HoldingLang = 'ja' | 'en';

const VIA = {
  ja: { active: '有効', eligible: '適格', group: 'via グループ', label: 'グループ経由の保有', direct: '直接の割り当てもあり' },
  en: { active: 'active', eligible: 'eligible', group: 'via group', label: 'held through groups', direct: 'also held directly' },
} as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function groupName(g: unknown): string | undefined {
  if (!isRecord(g)) return undefined;
  const name = typeof g.displayName === 'string' && g.displayName ? g.displayName : undefined;
  return name ?? (typeof g.id === 'string' ? g.id : undefined);
}

/**
 * One line naming the groups roles are held through, or undefined when the evidence has none
 * (direct holdings read well enough from the raw evidence).
 */
export function groupHoldingLine(evidence: Record<string, unknown>, lang: HoldingLang): { label: string; text: string } | undefined {
  const w = VIA[lang];
  const parts: string[] = [];
  if (Array.isArray(evidence.roles)) {
    for (const r of evidence.roles) {
      if (!isRecord(r)) continue;
      const group = groupName(r.group);
      if (!group) continue;
      const via = r.via === 'active' || r.via === 'eligible' ? w[r.via] : String(r.via ?? '');
      parts.push(lang === 'ja' ? `${String(r.role)}（${via}）${w.group} ${group}` : `${String(r.role)} (${via}) ${w.group} ${group}`);
    }
  }
  if (Array.isArray(evidence.holders)) {
    for (const h of evidence.holders) {
      if (!isRecord(h) || !Array.isArray(h.groups) || h.groups.length === 0) continue;
      const groups = h.groups.map(groupName).filter((g): g is string => g !== undefined).join(', ');
      const who = typeof h.name === 'string' && h.name ? h.name : String(h.id);
      const direct = h.direct === true ? (lang === 'ja' ? `、${w.direct}` : `, ${w.direct}`) : '';
      parts.push(lang === 'ja' ? `${who} ${w.group} ${groups}${direct}` : `${who} ${w.group} ${groups}${direct}`);
    }
  }
  return parts.length ? { label: w.label, text: parts.join('; ') } : undefined;
}
