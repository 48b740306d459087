/** `npm run compose`: rewrites schema/supergraph.graphql and schema/api.graphql from the services' SDL. */
import { writeFileSync } from 'node:fs';
import { apiSchemaPath, composeAll, supergraphPath } from './compose.ts';

const { supergraphSdl, publicSdl } = await composeAll();
writeFileSync(supergraphPath, supergraphSdl + '\n');
writeFileSync(apiSchemaPath, publicSdl + '\n');
console.log('wrote schema/supergraph.graphql and schema/api.graphql');
