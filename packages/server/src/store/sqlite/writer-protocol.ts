import { StoreUnavailableError } from '../store.js';
import type { SqliteDurability } from './sqlite-store.js';
import type { WriteOp } from './sqlite-writes.js';

/** What the writer thread is started with (its workerData). */
export interface WriterThreadOptions {
  dataDir: string;
  durability: SqliteDurability;
  busyTimeoutMs: number;
  coalesceMs: number;
}

export type ToWriter = { type: 'writes'; writes: Array<{ id: number; op: WriteOp }> } | { type: 'close' };

/** An error as it crosses the thread boundary: whether it is "unavailable, retry later", and the driver's message and code. */
export interface CrossedError {
  unavailable: boolean;
  message: string;
  code: string | undefined;
}

export type WriteOutcome = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: CrossedError };
export type FromWriter = { type: 'results'; results: WriteOutcome[] };

export function crossError(error: unknown): CrossedError {
  const unavailable = error instanceof StoreUnavailableError;
  const source = (unavailable ? error.cause : error) as { message?: unknown; code?: unknown };
  return {
    unavailable,
    message: String(source.message ?? source),
    code: typeof source.code === 'string' ? source.code : undefined,
  };
}

export function reviveError({ unavailable, message, code }: CrossedError): Error {
  const error = Object.assign(new Error(message), code === undefined ? {} : { code });
  return unavailable ? new StoreUnavailableError({ cause: error }) : error;
}
