import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { pullRequestHeaders } from '../pull-headers.js';
import { discardBody, readCappedBody } from '../read-capped-body.js';

/** How one doctor request went: an HTTP answer (body capped), or no answer at all. */
export type ProbeResult =
  | {
      kind: 'answer';
      status: number;
      headers: IncomingHttpHeaders;
      /** The body, at most `maxBodyBytes` of it. */
      body: Buffer;
      /** Bytes read; when `tooLarge`, the Content-Length declared over the cap, or `maxBodyBytes` when more than that was sent. */
      sizeBytes: number;
      /** True when the body (or its Content-Length) passed `maxBodyBytes`; reading stopped there. */
      tooLarge: boolean;
      /** From sending the request to the last byte read. */
      durationMs: number;
    }
  | { kind: 'no_answer'; timedOut: boolean; message: string; durationMs: number };

export interface ProbeOptions {
  /** The whole request, connect to last byte, in ms. */
  timeoutMs: number;
  /** Body bytes read at most. */
  maxBodyBytes: number;
  /** Sent as User-Agent. */
  userAgent: string;
  /** Extra trusted CA certificates (PEM) for https endpoints. */
  ca?: string | Buffer;
}

/**
 * One GET as p4p sends a pull (spec section 5): p4p's pull headers, no
 * redirect followed, the body read as a stream and cut off past the cap, one
 * total timeout. Never rejects.
 */
export function probeRequest(url: URL, options: ProbeOptions): Promise<ProbeResult> {
  const startedAt = performance.now();
  const elapsedMs = (): number => Math.round(performance.now() - startedAt);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    };
    const request = send(url, {
      method: 'GET',
      headers: pullRequestHeaders(options.userAgent),
      agent: false,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
    const timer = setTimeout(() => {
      settle({ kind: 'no_answer', timedOut: true, message: `no complete answer within ${options.timeoutMs} ms`, durationMs: elapsedMs() });
    }, options.timeoutMs);
    request.on('error', (error) => settle({ kind: 'no_answer', timedOut: false, message: error.message, durationMs: elapsedMs() }));
    request.on('response', (response) => {
      readCapped(response, options.maxBodyBytes).then(
        (read) => settle({ kind: 'answer', status: response.statusCode ?? 0, headers: response.headers, ...read, durationMs: elapsedMs() }),
        (error: Error) => settle({ kind: 'no_answer', timedOut: false, message: `the answer broke off: ${error.message}`, durationMs: elapsedMs() }),
      );
    });
    request.end();
  });
}

/** The body as p4p reads it: refused unread when its Content-Length is over the cap, else read up to the cap. */
async function readCapped(response: IncomingMessage, maxBodyBytes: number): Promise<{ body: Buffer; sizeBytes: number; tooLarge: boolean }> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) {
    discardBody(response);
    return { body: Buffer.alloc(0), sizeBytes: declared, tooLarge: true };
  }
  const read = await readCappedBody(response, maxBodyBytes);
  return { body: read.bytes, sizeBytes: read.bytes.length, tooLarge: read.overflowed };
}
