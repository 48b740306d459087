import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { queryLimitsRule } from '../src/limits.ts';

// A recursive schema, the kind future services will have (threads, replies), to exercise the rule fully.
const schema = buildSchema(`
  type Node { id: ID! name: String children(first: Int): [Node!]! parent: Node }
  type Query { node(id: ID!): Node nodes(first: Int): [Node!]! }
`);
const limits = { maxDepth: 5, maxAliases: 10, maxCost: 500 };
const codes = (query: string) => validate(schema, parse(query), [...specifiedRules, queryLimitsRule(limits)]).map((e) => e.extensions.code ?? e.message);

describe('query limits rule', () => {
  it('accepts ordinary queries', () => {
    expect(codes(`{ node(id: "1") { id parent { id name } children(first: 5) { id } } }`)).toEqual([]);
  });

  it('measures depth through fragments and inline fragments', () => {
    expect(codes(`{ node(id: "1") { parent { parent { parent { parent { id } } } } } }`)).toEqual(['QUERY_TOO_DEEP']);
    expect(codes(`{ node(id: "1") { ...A } } fragment A on Node { parent { ...B } } fragment B on Node { parent { ... on Node { parent { parent { id } } } } }`)).toEqual(['QUERY_TOO_DEEP']);
  });

  it('counts aliases once per use of a fragment', () => {
    const frag = `fragment F on Node { ${Array.from({ length: 4 }, (_, i) => `a${i}: id`).join(' ')} }`;
    expect(codes(`{ node(id: "1") { ...F } } ${frag}`)).toEqual([]);
    expect(codes(`{ x: node(id: "1") { ...F } y: node(id: "2") { ...F } z: node(id: "3") { ...F } } ${frag}`)).toEqual(['TOO_MANY_ALIASES']);
  });

  it('multiplies cost by page sizes of list fields', () => {
    expect(codes(`{ nodes(first: 10) { id children(first: 10) { id } } }`)).toEqual([]);
    expect(codes(`{ nodes(first: 100) { id children(first: 100) { id } } }`)).toEqual(['QUERY_TOO_COSTLY']);
  });

  it('ignores introspection fields', () => {
    expect(codes(`{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }`)).toEqual([]);
  });

  it('reports fragment cycles through graphql’s own rule without looping', () => {
    const out = codes(`{ node(id: "1") { ...A } } fragment A on Node { parent { ...B } } fragment B on Node { parent { ...A } }`);
    expect(out.some((c) => /within itself/i.test(String(c)))).toBe(true);
  });
});
