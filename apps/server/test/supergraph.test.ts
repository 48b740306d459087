import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiSchemaPath, composeAll, supergraphPath } from '../src/compose.ts';

describe('checked-in supergraph', () => {
  it('matches what the services compose to (run `npm run compose` after changing a schema)', async () => {
    const { supergraphSdl, publicSdl } = await composeAll();
    expect(readFileSync(supergraphPath, 'utf8'), 'schema/supergraph.graphql is stale: run npm run compose').toBe(supergraphSdl + '\n');
    expect(readFileSync(apiSchemaPath, 'utf8'), 'schema/api.graphql is stale: run npm run compose').toBe(publicSdl + '\n');
  });
});
