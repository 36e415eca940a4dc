/**
 * Sign-in rules — アクセス記録・不正アクセスの兆候 (standard 5-3-3, 5-4-4, 5-8-2), controls.md
 * SIGN-01…05. Endpoint: GET /auditLogs/signIns (AuditLog.Read.All, Entra ID P1), or Entra
 * diagnostic settings streamed to an Event Hub.
 *
 * Sign-ins are too many to hold in a snapshot: the streaming detector (signins/detector.ts)
 * consumes them from any source and hands its detections to the `signIns` slice; the rules
 * below turn those detections into findings, one per (rule, subject) with its occurrences.
 */
import type { SignInDetection } from '../collect/snapshot';
import { defineRule, type FindingDraft } from './rule';

// The detector's names, where the rules' users and tests have always found them.
export {
  LEGACY_CLIENT_APPS, SignInDetector, detectorConfig, emptyDetectorState, feedDetector,
  type DetectorConfig, type DetectorState, type SignInChunk, type SignInEvent,
} from '../signins/detector';

type SignRuleId = SignInDetection['ruleId'];

function signRule(ruleId: SignRuleId, fields: {
  clauses: readonly string[];
  severity: 'critical' | 'high' | 'medium';
  title: { ja: string; en: string };
  remediation: { ja: string; en: string };
}) {
  return defineRule({
    id: ruleId,
    clauses: fields.clauses,
    kind: 'event',
    severity: fields.severity,
    area: 'signins',
    requires: ['signIns'],
    title: fields.title,
    remediation: fields.remediation,
    evaluate: ({ signIns }): FindingDraft[] =>
      signIns.detections
        .filter((d) => d.ruleId === ruleId)
        .map((d) => ({
          subject: d.subject,
          evidence: {
            occurrences: d.occurrences,
            failures: d.occurrences.reduce((n, o) => n + o.failures, 0),
            successes: d.occurrences.reduce((n, o) => n + o.successes, 0),
          },
        })),
  });
}

export const userFailureBurst = signRule('SIGN-01', {
  clauses: ['5-3-3'],
  severity: 'high',
  title: { ja: '認証失敗の多発（利用者）', en: 'Burst of failed sign-ins for one user' },
  remediation: {
    ja: '利用者本人に心当たりを確認し、不正なアクセスの試行であれば送信元を遮断し、パスワードを変更させてください。原因確認と封じ込めの結果を記録してください（5-3-3）。',
    en: 'Ask the user whether they made these attempts; if not, block the source and have the password changed. Record the cause and containment (5-3-3).',
  },
});

export const passwordSpray = signRule('SIGN-02', {
  clauses: ['5-3-3'],
  severity: 'high',
  title: { ja: 'パスワードスプレー攻撃の兆候（送信元 IP）', en: 'Password spray from one IP address' },
  remediation: {
    ja: '送信元 IP アドレスを条件付きアクセスのネームドロケーション等で遮断し、対象となった利用者のサインイン状況を確認してください。多要素認証が全員に適用されているか確認してください。',
    en: 'Block the source address (e.g. a Conditional Access named location) and review the sign-ins of the targeted users. Check that MFA applies to all of them.',
  },
});

export const successAfterFailures = signRule('SIGN-03', {
  clauses: ['5-3-3'],
  severity: 'critical',
  title: { ja: '認証失敗の多発後にサインイン成功', en: 'Successful sign-in after repeated failures' },
  remediation: {
    ja: 'アカウント侵害の可能性があります。直ちにセッションを失効させ、パスワードをリセットし、多要素認証の登録内容と受信トレイルール・共有設定に不審な変更がないか確認してください。',
    en: 'The account may be compromised. Revoke its sessions at once, reset the password, and check its MFA methods, inbox rules and sharing for suspicious changes.',
  },
});

export const foreignSignIn = signRule('SIGN-04', {
  clauses: ['5-4-4', '5-8-2'],
  severity: 'medium',
  title: { ja: '許可されていない国・地域からのサインイン', en: 'Sign-in from a country outside the allowed list' },
  remediation: {
    ja: '利用者に出張等の事情を確認してください。心当たりがなければアカウント侵害として対応し、必要に応じて国・地域による条件付きアクセスを設定してください。',
    en: 'Confirm with the user (e.g. a business trip). If unexplained, treat it as a compromise and consider a country-based Conditional Access policy.',
  },
});

export const legacyProtocolSignIn = signRule('SIGN-05', {
  clauses: ['5-4-4'],
  severity: 'high',
  title: { ja: 'レガシー認証プロトコルによるサインイン成功', en: 'Successful sign-in over a legacy protocol' },
  remediation: {
    ja: 'レガシー認証（IMAP・POP・SMTP 認証等）は多要素認証を回避できます。利用中のクライアントを先進認証対応のものに切り替え、条件付きアクセスでレガシー認証をブロックしてください。',
    en: 'Legacy authentication (IMAP, POP, SMTP AUTH…) bypasses MFA. Move the client to modern authentication and block legacy authentication with Conditional Access.',
  },
});

export const SIGNIN_RULES = [userFailureBurst, passwordSpray, successAfterFailures, foreignSignIn, legacyProtocolSignIn];
