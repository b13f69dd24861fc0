/**
 * The headers of p4p's pull (spec section 5), and the one content coding it
 * reads. They live in the SDK so that p4p and the endpoint doctor send the
 * same request and judge the answer alike.
 */

/**
 * Uncompressed answers only: a profile is a few KiB, and a compressed body
 * would escape the size cap (a small gzip can unpack to gigabytes). Without
 * `Accept-Encoding` a server may pick any coding (RFC 9110 section 12.5.3).
 */
export function pullRequestHeaders(userAgent: string): Record<string, string> {
  return { accept: 'application/json', 'accept-encoding': 'identity', 'user-agent': userAgent };
}

/** A body's content coding when it is not plain (`identity` or none), else null. */
export function contentCoding(contentEncoding: string | string[] | undefined): string | null {
  const coding = (Array.isArray(contentEncoding) ? contentEncoding.join(', ') : contentEncoding)?.trim() ?? '';
  if (coding === '' || coding.toLowerCase() === 'identity') return null;
  // Quoted back in messages: short and printable.
  return coding.slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
}
