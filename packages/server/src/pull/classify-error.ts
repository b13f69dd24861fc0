import { BLOCKED_TARGET_CODE } from './guarded-connector.js';
import type { StatusFailure } from './classify-status.js';

/** Why a pull that failed before a complete answer was cut short, as far as the caller knows. */
export interface ErrorContext {
  /** The caller's signal fired. */
  cancelled: boolean;
  /** The total timeout fired. */
  timedOut: boolean;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Classifies an error thrown while connecting or reading: cancellation and timeouts are
 * retriable `timeout`, the SSRF guard's refusals final `blocked_target`, everything else
 * (refused, reset, DNS, TLS) retriable `network_error` naming the error code.
 */
export function classifyError(err: unknown, context: ErrorContext): StatusFailure {
  if (context.cancelled) {
    return { outcome: 'timeout', retriable: true, message: 'cancelled before an answer arrived', retryAfterMs: null };
  }
  if (context.timedOut) {
    return {
      outcome: 'timeout',
      retriable: true,
      message: `no complete answer within ${context.totalTimeoutMs} ms (total timeout)`,
      retryAfterMs: null,
    };
  }
  const code = errorCode(err);
  const detail = errorMessage(err);
  if (code === BLOCKED_TARGET_CODE) {
    return { outcome: 'blocked_target', retriable: false, message: detail, retryAfterMs: null };
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return {
      outcome: 'timeout',
      retriable: true,
      message: `could not connect within ${context.connectTimeoutMs} ms (connect timeout)`,
      retryAfterMs: null,
    };
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return { outcome: 'timeout', retriable: true, message: `timed out: ${code}`, retryAfterMs: null };
  }
  return {
    outcome: 'network_error',
    retriable: true,
    message: `network error ${code ?? 'without a code'}: ${detail}`,
    retryAfterMs: null,
  };
}

/** The error's `code`, or that of its first aggregated error or of its cause (Node's happy eyeballs aggregates). */
function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const own = (err as { code?: unknown }).code;
  if (typeof own === 'string') return own;
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner) && inner.length > 0) return errorCode(inner[0]);
  return errorCode((err as { cause?: unknown }).cause);
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    if (err.message !== '') return err.message;
    const inner = (err as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner[0] instanceof Error) return inner[0].message;
    return err.name;
  }
  return String(err);
}
