/**
 * Errors in sluice carry a `code` from the const list below, a `retryable` hint
 * and an optional `cause`. Structured clone across `postMessage` keeps only
 * name, message, stack and cause, so errors cross threads through
 * `serializeError` / `deserializeError`, which carry the code and flag as data.
 */

export const ErrorCodes = {
  CONFIG: 'SLUICE_CONFIG',
  JOB_NOT_FOUND: 'SLUICE_JOB_NOT_FOUND',
  ILLEGAL_STATE: 'SLUICE_ILLEGAL_STATE',
  PARTITION_MISMATCH: 'SLUICE_PARTITION_MISMATCH',
  DECODE: 'SLUICE_DECODE',
  PROCESS: 'SLUICE_PROCESS',
  STATE: 'SLUICE_STATE',
  CHECKPOINT: 'SLUICE_CHECKPOINT',
  SINK: 'SLUICE_SINK',
  SOURCE: 'SLUICE_SOURCE',
  KAFKA: 'SLUICE_KAFKA',
  WORKER: 'SLUICE_WORKER',
  TIMEOUT: 'SLUICE_TIMEOUT',
  ABORTED: 'SLUICE_ABORTED',
  SERVER: 'SLUICE_SERVER',
  INTERNAL: 'SLUICE_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface SluiceErrorOptions {
  retryable?: boolean;
  cause?: unknown;
}

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Plain-data form of an error, safe for structured clone. */
export interface SerializedError {
  name: string;
  message: string;
  code: ErrorCode;
  retryable: boolean;
  stack?: string;
  cause?: SerializedError;
}

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (err instanceof SluiceError) {
    return {
      name: err.name,
      message: err.message,
      code: err.code,
      retryable: err.retryable,
      stack: err.stack,
      cause: err.cause !== undefined && depth < 4 ? serializeError(err.cause, depth + 1) : undefined,
    };
  }
  if (err instanceof Error) {
    return {
      name: err.name,
      message: err.message,
      code: ErrorCodes.INTERNAL,
      retryable: false,
      stack: err.stack,
      cause: err.cause !== undefined && depth < 4 ? serializeError(err.cause, depth + 1) : undefined,
    };
  }
  return { name: 'Error', message: String(err), code: ErrorCodes.INTERNAL, retryable: false };
}

export function deserializeError(s: SerializedError): SluiceError {
  const err = new SluiceError(s.code, s.message, {
    retryable: s.retryable,
    cause: s.cause ? deserializeError(s.cause) : undefined,
  });
  err.name = s.name === 'SluiceError' ? 'SluiceError' : s.name;
  if (s.stack) err.stack = s.stack;
  return err;
}

/** Wraps anything thrown into a SluiceError with the given code, keeping it as the cause. */
export function toSluiceError(code: ErrorCode, err: unknown, message?: string): SluiceError {
  if (err instanceof SluiceError) return err;
  const text = message ?? (err instanceof Error ? err.message : String(err));
  return new SluiceError(code, text, { cause: err });
}

/**
 * An error as one line (for logs and the CLI's last word). A SluiceError's
 * message is complete as written: it quotes its cause, scrubbed of
 * credentials where that matters (mongo-sink.ts), so its raw cause is never
 * printed. Any other error gets its cause's message added.
 */
export function oneLine(err: unknown): string {
  const e = err as { message?: unknown; cause?: unknown } | undefined;
  let text = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  const cause = err instanceof SluiceError ? undefined : (e?.cause as { message?: unknown } | undefined)?.message;
  if (typeof cause === 'string' && cause !== '' && !text.includes(cause)) text += `: ${cause}`;
  return text.replace(/\s*\n\s*/g, ' ').slice(0, 1000);
}
