export interface PingAnswer {
  status: number;
  body: { code?: string; message?: string; [key: string]: unknown } | null;
}

/**
 * Sends one ping to a p4p server as a customer's identity system would: the
 * official libraries' path with a form-encoded system lftoken. `baseUrl` is
 * as the SDK's baseUrlFrom gives it (no trailing slash). Rejects only when p4p
 * cannot be reached.
 */
export async function sendPing(baseUrl: string, lftoken: string, userId: string): Promise<PingAnswer> {
  const response = await fetch(`${baseUrl}/api/v3_0/user/${encodeURIComponent(userId)}/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ lftoken }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json().catch(() => null)) as PingAnswer['body'];
  return { status: response.status, body };
}
