import type { Readable } from 'node:stream';

/** What was read of a response body: at most `limitBytes`, and whether more was on the way. */
export interface CappedBody {
  bytes: Buffer;
  /** True when the body had more than `limitBytes`; the stream was then destroyed. */
  overflowed: boolean;
}

/**
 * Reads a body stream up to `limitBytes`. As soon as the limit is passed it destroys the
 * stream and returns what it kept, so an oversized body is never buffered whole.
 */
export async function readCappedBody(body: Readable, limitBytes: number): Promise<CappedBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    if (size + buffer.length > limitBytes) {
      chunks.push(buffer.subarray(0, limitBytes - size));
      discardBody(body);
      return { bytes: Buffer.concat(chunks), overflowed: true };
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  return { bytes: Buffer.concat(chunks), overflowed: false };
}

/**
 * Destroys a body stream that will not be read further. undici reports destroying an
 * unfinished body as an 'error' event, which would crash the process without a listener.
 */
export function discardBody(body: Readable): void {
  body.on('error', ignore).destroy();
}

function ignore(): void {}
