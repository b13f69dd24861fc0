import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { API_ERRORS, type ApiErrorCode } from './api-errors.js';

/**
 * Answers a request Node's HTTP parser refused before any route could run
 * (Fastify's `clientErrorHandler`), in the API's `{ code, message }` shape
 * rather than Fastify's own, then closes the connection as Node would.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ApiErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : 'malformed_request';
  const { status, message } = API_ERRORS[code];
  const body = JSON.stringify({ code, message });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
