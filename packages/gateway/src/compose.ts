import { composeServices } from '@theguild/federation-composition';
import type { DocumentNode } from 'graphql';

export interface SubgraphSource {
  name: string;
  typeDefs: DocumentNode;
}

/** Default subgraph location in the checked-in supergraph; deployments override it with SUBGRAPH_URLS. */
export const defaultSubgraphUrl = (name: string) => `http://${name}:4001/graphql`;

export function composeSupergraph(subgraphs: SubgraphSource[]): { supergraphSdl: string; publicSdl: string } {
  const result = composeServices(
    [...subgraphs].sort((a, b) => a.name.localeCompare(b.name)).map((s) => ({ name: s.name, typeDefs: s.typeDefs, url: defaultSubgraphUrl(s.name) })),
  );
  if (result.errors) {
    throw new Error(`Supergraph composition failed:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`);
  }
  return { supergraphSdl: result.supergraphSdl, publicSdl: result.publicSdl };
}
