import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPullHandler, type Network } from 'p4p-sdk';
import { editPage, formValues, userListPage } from './pages.js';
import type { P4pView } from './p4p-view.js';
import { EDITABLE_FIELDS, type EditableField, type UserDirectory } from './user-directory.js';

/** Path of the pull endpoint; the template registered with p4p is `<url>/p4p/profile?id={id}`. */
export const PULL_PATH = '/p4p/profile';

/** Largest edit form accepted, in bytes: the longest field (bio) is 5,000 characters. */
const MAX_FORM_BYTES = 64 * 1024;

export interface IdentityAppOptions {
  users: UserDirectory;
  /** The network: checks pull tokens. */
  network: Network;
  /** Pings p4p and reads what it stored. */
  view: P4pView;
  host: string;
  port: number;
}

export interface IdentityApp {
  /** e.g. http://127.0.0.1:8081 */
  url: string;
  close(): Promise<void>;
}

/**
 * The identity system's web app: a page listing the users, an edit form per
 * user, and the pull endpoint p4p pulls profiles from (p4p-sdk's
 * createPullHandler). Saving a user pings p4p, waits for the pull to end,
 * and shows what p4p stored.
 */
export async function startIdentityApp(options: IdentityAppOptions): Promise<IdentityApp> {
  const { users, network, view } = options;
  const servePull = createPullHandler({ network, getProfile: (userId) => users.get(userId) });

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://identity-demo');
    const userId = decodePathSegment(/^\/users\/([^/]+)$/.exec(url.pathname)?.[1]);
    const user = userId === undefined ? undefined : users.get(userId);
    if (url.pathname === PULL_PATH) return servePull(request, response);
    if (request.method === 'GET' && url.pathname === '/') {
      const rows = await Promise.all(users.list().map(async (profile) => ({ profile, stored: await view.read(profile.id) })));
      return sendHtml(response, 200, userListPage(rows, url.searchParams.get('saved')));
    }
    if (user === undefined) return sendText(response, 404, 'no such page: the users are listed at /\n');
    if (request.method === 'GET') return sendHtml(response, 200, editPage(user, formValues(user), null, await view.read(user.id)));
    if (request.method !== 'POST') return sendText(response, 405, 'GET or POST\n');

    const form = await readForm(request);
    if (form === null) return sendText(response, 413, `the form is over ${MAX_FORM_BYTES} bytes\n`);
    const result = users.edit(user.id, form);
    if (!result.ok) return sendHtml(response, 400, editPage(user, { ...formValues(user), ...form }, result.problem, await view.read(user.id)));
    const notice = `Saved ${result.profile.display_name}: ${await view.syncAndWait(result.profile.id)}`;
    response.writeHead(303, { location: `/?saved=${encodeURIComponent(notice)}`, 'content-type': 'text/plain; charset=utf-8' }).end(`${notice}\n`);
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      console.error('identity demo: request failed', error);
      if (!response.headersSent) sendText(response, 500, 'the identity demo failed; see its output\n');
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}

/** The editable fields of a form-encoded body, or null when it is over {@link MAX_FORM_BYTES}. */
async function readForm(request: IncomingMessage): Promise<Partial<Record<EditableField, string>> | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  return Object.fromEntries(EDITABLE_FIELDS.flatMap((field) => (form.has(field) ? [[field, form.get(field)!]] : [])));
}

/** The segment decoded; undefined when absent or not valid percent-encoding (`%E0`), which is then no user: 404. */
function decodePathSegment(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function sendHtml(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(html);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
}
