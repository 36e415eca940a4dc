/**
 * Typed errors. Every error the service raises on purpose extends {@link AuditError}, and its
 * message names the field or endpoint at fault and what to do about it, so the CLI can print it
 * as is and a Functions host can log it without a stack trace hunt.
 */

/** Base of every error this service raises deliberately. */
export class AuditError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A policy file or a deployment setting is invalid. `problems` holds one `path: message` line each. */
export class ConfigError extends AuditError {
  readonly problems: readonly string[];
  constructor(summary: string, problems: readonly string[] = []) {
    super(problems.length ? `${summary}\n${problems.map((p) => `  - ${p}`).join('\n')}` : summary);
    this.problems = problems;
  }
}

/** A Graph request failed after its retries, or answered something we cannot use. */
export class GraphError extends AuditError {
  /** HTTP status (0 when no response arrived). */
  readonly status: number;
  /** Graph's `error.code`, when the body had one. */
  readonly code: string | undefined;
  /** The request path (no host, no secrets). */
  readonly endpoint: string;
  constructor(
    message: string,
    details: { status: number; code?: string | undefined; endpoint: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = details.status;
    this.code = details.code;
    this.endpoint = details.endpoint;
  }
}

/**
 * No token could be had: the credential is missing, unreadable or refused (a wrong certificate
 * file, a PFX where PEM is expected, no managed identity). Retrying cannot help, so the run stops
 * at once; the message names the variable to fix, never its value.
 */
export class CredentialError extends AuditError {}

/** Local storage (Azure Tables / Blobs / embedded Azurite) failed. */
export class StoreError extends AuditError {}

/** A ticket or alert sink failed to deliver. */
export class SinkError extends AuditError {}

/** The output folder (`--out`) cannot be made or written; the message names it and the fix. */
export class OutputError extends AuditError {}
