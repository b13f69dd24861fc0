import assert from 'node:assert/strict';
import { API_ERRORS } from '../../src/http/api-errors.js';

/** Checks an error answer: status, JSON, exactly `{ code, message }` with a registered code and a message that says something. */
export async function expectError(response: Response, status: number, code: keyof typeof API_ERRORS): Promise<{ code: string; message: string }> {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${text}`);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message'], `error body must be exactly {code, message}: ${text}`);
  assert.equal(body.code, code, text);
  assert.equal(API_ERRORS[code].status, status, `registry status of ${code}`);
  assert.equal(typeof body.message, 'string');
  assert.ok((body.message as string).trim().length > 0, 'message must say what to fix');
  return body as { code: string; message: string };
}
