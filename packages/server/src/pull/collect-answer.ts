import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import type { PullCancellation } from './pull-cancellation.js';

/** What came back for one GET, before it is read as a pull answer. */
export type CollectedAnswer =
  | { kind: 'complete'; bytes: Buffer; headers: IncomingHttpHeaders }
  /** Any status but 200, with the first `excerptBytes` of its body. */
  | { kind: 'status'; status: number; headers: IncomingHttpHeaders; excerpt: Buffer }
  /** A 200 over the cap: by its Content-Length (nothing read) or by what it sent (the first `excerptBytes`). */
  | { kind: 'too_large'; declared: number | null; excerpt: Buffer | null }
  /** Cut short: by the caller, by the total timeout, or by the connection (`error`). */
  | { kind: 'cut_short'; cause: 'cancelled' | 'timed_out' | 'error'; error: Error | null };

export interface CollectLimits {
  maxBodyBytes: number;
  excerptBytes: number;
  /** Connect, headers and body together, in ms. */
  totalTimeoutMs: number;
}

export interface GetRequest {
  origin: string;
  path: string;
  headers: Record<string, string>;
}

/** Stops a request whose answer is already decided (oversized, cancelled, timed out); undici then closes its connection. */
const STOPPED = new Error('p4p stopped reading this answer');

/**
 * Sends one GET through `dispatcher` and collects its answer, never reading
 * more than the caps allow. Uses undici's dispatch handler directly: no body
 * stream, no promise per chunk and no AbortSignal, which took the pull client
 * from 0.67–0.81 to 0.80–1.07 of an undici Pool's rate (docs/benchmarks.md).
 */
export function collectAnswer(
  dispatcher: Dispatcher,
  request: GetRequest,
  limits: CollectLimits,
  cancellation?: PullCancellation,
): Promise<CollectedAnswer> {
  return new Promise((resolve) => {
    const collector = new AnswerCollector(resolve, limits, cancellation);
    if (collector.settled) return; // cancelled before it started: nothing is sent
    dispatcher.dispatch({ ...request, method: 'GET' }, collector);
  });
}

class AnswerCollector implements Dispatcher.DispatchHandler {
  settled = false;
  #controller: Dispatcher.DispatchController | null = null;
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  #cap: number;
  #chunks: Buffer[] = [];
  #size = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly resolve: (answer: CollectedAnswer) => void,
    private readonly limits: CollectLimits,
    private readonly cancellation: PullCancellation | undefined,
  ) {
    this.#cap = limits.maxBodyBytes;
    this.#timer = setTimeout(() => this.#settle({ kind: 'cut_short', cause: 'timed_out', error: null }), limits.totalTimeoutMs);
    cancellation?.onCancel(() => this.#settle({ kind: 'cut_short', cause: 'cancelled', error: null }));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Settled while queued for a connection: it is dropped before anything is written.
    if (this.settled) controller.abort(STOPPED);
    else this.#controller = controller;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (this.settled || status < 200) return; // 1xx answers are informational
    this.#status = status;
    this.#headers = headers;
    if (status !== 200) {
      this.#cap = this.limits.excerptBytes;
      return;
    }
    const declared = Number(headers['content-length']);
    if (Number.isFinite(declared) && declared > this.limits.maxBodyBytes) this.#settle({ kind: 'too_large', declared, excerpt: null });
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (this.#size + chunk.length <= this.#cap) {
      this.#chunks.push(chunk);
      this.#size += chunk.length;
      return;
    }
    this.#chunks.push(chunk.subarray(0, this.#cap - this.#size));
    const kept = Buffer.concat(this.#chunks);
    this.#settle(
      this.#status === 200
        ? { kind: 'too_large', declared: null, excerpt: kept.subarray(0, this.limits.excerptBytes) }
        : this.#statusAnswer(kept),
    );
  }

  onResponseEnd(): void {
    if (this.settled) return;
    const bytes = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#finished(this.#status === 200 ? { kind: 'complete', bytes, headers: this.#headers } : this.#statusAnswer(bytes));
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (!this.settled) this.#finished({ kind: 'cut_short', cause: 'error', error });
  }

  #statusAnswer(excerpt: Buffer): CollectedAnswer {
    return { kind: 'status', status: this.#status, headers: this.#headers, excerpt };
  }

  /** Decided before the request ended: undici is told to stop it. */
  #settle(answer: CollectedAnswer): void {
    if (this.settled) return;
    this.#finished(answer);
    this.#controller?.abort(STOPPED);
  }

  /** The request is over (or being stopped): resolves once and lets go of the timer and the caller's hook. */
  #finished(answer: CollectedAnswer): void {
    this.settled = true;
    clearTimeout(this.#timer);
    this.cancellation?.onCancel(null);
    this.resolve(answer);
  }
}
