/**
 * The alert sink without a webhook: each card is written where a person can look at it
 * (`<out>/alerts/<name>.json`, the exact message Teams would get, and `<out>/alerts.html`, which
 * renders them with Microsoft's own renderer: src/alerts/preview.ts). Named by the alert id, so
 * writing the same alert again replaces the same file: idempotent.
 */
import { DateTime } from 'luxon';
import type { TeamsMessage } from './cards';
import type { AlertSink, OutgoingAlert } from './teams';

/** Writes one alert file (and refreshes the preview page). */
export type AlertFileWriter = (name: string, message: TeamsMessage, alert: OutgoingAlert) => Promise<void>;

/** `20261201-031500-run-1a2b3c4d`: sorts by time, names the kind, unique by alert id. */
export function alertFileName(alert: OutgoingAlert): string {
  const at = DateTime.fromISO(alert.createdAt, { zone: 'utc' });
  const stamp = at.isValid ? at.toFormat("yyyyLLdd-HHmmss") : 'undated';
  return `${stamp}-${alert.kind}-${alert.alertId.replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}`;
}

export class FileAlertSink implements AlertSink {
  readonly name = 'file';
  readonly idempotent = true;
  constructor(private readonly write: AlertFileWriter) {}

  async send(message: TeamsMessage, alert: OutgoingAlert): Promise<void> {
    await this.write(alertFileName(alert), message, alert);
  }
}
