import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { checkPullTemplate } from '../../pull/target-guard.js';
import type { Network } from '../../store/store.js';
import { ApiError } from '../api-errors.js';
import { isoTime, type AppContext } from '../app-context.js';
import { authenticateSystem } from '../authenticate.js';
import { checkBodyIsObject, parseBody } from '../parse-body.js';

const TEMPLATE_EXAMPLE = 'https://example.com/users/{id}';

const settingsBody = z.strictObject({
  pull_profile_url: z.string({ error: `send the template as a string, e.g. ${TEMPLATE_EXAMPLE}` }),
  lftoken: z.string().optional(),
});

/** Spec section 4: registering the pull endpoint, and the JSON settings API. */
export function settingsRoutes(app: FastifyInstance, context: AppContext): void {
  const { store, now } = context;

  /** Validates and stores a pull URL template; returns its warnings. */
  async function setPullUrl(network: Network, template: unknown): Promise<string[]> {
    const check = checkPullTemplate(template, { allowPrivateTargets: context.allowPrivateTargets });
    if (!check.ok) throw new ApiError(check.code, check.message);
    await store.setPullUrlTemplate(network.id, template as string, now());
    context.onPullUrlChanged(network.id);
    return check.warnings;
  }

  function settingsOf(network: Network) {
    return {
      name: network.name,
      pull_profile_url: network.pullUrlTemplate,
      created_at: isoTime(network.createdAt),
      updated_at: isoTime(network.updatedAt),
    };
  }

  // The official libraries' setUserSyncUrl: parameters in the query or a form body, 204 expected.
  app.post('/', { bodyLimit: 16 * 1024 }, async (request, reply: FastifyReply) => {
    checkBodyIsObject(request.body, '{"pull_profile_url": "…"}');
    const network = await authenticateSystem(request, store, now(), 'actor_token');
    const inBody = (request.body as Record<string, unknown> | undefined)?.pull_profile_url;
    const inQuery = (request.query as Record<string, unknown>).pull_profile_url;
    if (inBody !== undefined && inQuery !== undefined) {
      throw new ApiError('invalid_pull_url', 'pull_profile_url is in both the query string and the body: send it in one of them');
    }
    const template = inBody ?? inQuery;
    if (template === undefined) throw new ApiError('invalid_pull_url', `pull_profile_url is missing; send the template, e.g. ${TEMPLATE_EXAMPLE}`);
    const warnings = await setPullUrl(network, template);
    if (warnings.length > 0) reply.header('x-p4p-warning', warnings.join('; '));
    return reply.code(204).send();
  });

  app.get('/api/v3.0/network/settings', async (request) => {
    const network = await authenticateSystem(request, store, now());
    return settingsOf(network);
  });

  app.put('/api/v3.0/network/settings', { bodyLimit: 16 * 1024 }, async (request) => {
    const network = await authenticateSystem(request, store, now());
    const body = parseBody(settingsBody, request.body);
    const warnings = await setPullUrl(network, body.pull_profile_url);
    const updated = (await store.getNetwork(network.name))!;
    return { ...settingsOf(updated), warnings };
  });
}
