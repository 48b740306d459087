/**
 * Composes every service's subgraph into the supergraph the gateway serves and writes the checked-in files:
 *   schema/supergraph.graphql  what the gateway executes
 *   schema/api.graphql         the public API the clients are generated from
 * `npm run compose` (compose-cli.ts) rewrites them; a test fails when they drift from the services.
 */
import { serviceNames } from '@circles/platform';
import { composeSupergraph } from '@circles/gateway/compose';
import { loadServices } from './registry.ts';

export { apiSchemaPath, supergraphPath } from './paths.ts';

export async function composeAll() {
  const services = await loadServices(serviceNames);
  return composeSupergraph(services.map((s) => ({ name: s.name, typeDefs: s.typeDefs })));
}
