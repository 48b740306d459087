import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generate, outputPath } from '../codegen.ts';

describe('generated client', () => {
  it('matches schema/api.graphql and src/operations (run `npm run codegen` if this fails)', async () => {
    const fresh = await generate();
    const checkedIn = readFileSync(outputPath, 'utf8');
    expect(checkedIn === fresh, 'packages/client/src/generated/graphql.ts is stale: run npm run codegen').toBe(true);
  });
});
