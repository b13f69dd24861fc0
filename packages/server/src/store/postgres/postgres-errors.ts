import { StoreUnavailableError } from '../store.js';

/**
 * SQLSTATE classes and codes that mean "not now" rather than "never":
 * connection exceptions (08), serialization failure and deadlock (40),
 * insufficient resources such as too many connections (53), lock not
 * available (55P03), operator intervention such as an admin shutdown or a
 * statement timeout (57), and system errors (58).
 */
const UNAVAILABLE_SQLSTATE = /^(08|40|53|57|58)|^55P03$/;

/** Errors the driver raises itself when the connection is refused, lost or cannot be had in time. */
const CONNECTION_FAILURE = /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Client was closed/i;

export function isUnavailable(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  // Node socket errors: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, EHOSTUNREACH, EAI_AGAIN... (no SQLSTATE class starts with E).
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return true;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_SQLSTATE.test(code);
  return typeof message === 'string' && CONNECTION_FAILURE.test(message);
}

/** A driver error as the rest of p4p sees it: unavailable (retry later) or as it was. */
export function normalise(error: unknown): unknown {
  return isUnavailable(error) ? new StoreUnavailableError({ cause: error }) : error;
}
