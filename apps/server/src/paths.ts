/** Checked-in schema files (kept apart from compose.ts so a running server never loads the composer). */
export const supergraphPath = new URL('../../../schema/supergraph.graphql', import.meta.url);
export const apiSchemaPath = new URL('../../../schema/api.graphql', import.meta.url);
