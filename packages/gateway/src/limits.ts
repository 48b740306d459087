import {
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
}

/** Arguments that multiply the cost of everything selected beneath a list field. */
const PAGE_ARGS = new Set(['first', 'last', 'limit']);
const DEFAULT_LIST_SIZE = 10;

const limitError = (code: string, message: string) => new GraphQLError(message, { extensions: { code, http: { status: 400 } } });

interface Measure {
  depth: number;
  aliases: number;
  cost: number;
}

/**
 * One validation rule for depth, alias count and estimated cost, measured over each operation with fragments
 * expanded (so a bomb hidden in fragments is still counted). Introspection fields are exempt: tooling sends deep
 * but cheap introspection queries, and production turns introspection off anyway.
 */
export function queryLimitsRule(limits: QueryLimits) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);

    const measure = (set: SelectionSetNode, depth: number, multiplier: number, seen: Set<string>): Measure => {
      const out: Measure = { depth, aliases: 0, cost: 0 };
      for (const sel of set.selections) {
        let inner: Measure | undefined;
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith('__')) continue;
          if (sel.alias) out.aliases++;
          const fieldCost = multiplier;
          const childMultiplier = multiplier * pageSize(sel);
          out.cost += fieldCost;
          if (sel.selectionSet) inner = measure(sel.selectionSet, depth + 1, childMultiplier, seen);
          else out.depth = Math.max(out.depth, depth + 1);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          inner = measure(sel.selectionSet, depth, multiplier, seen);
        } else {
          const frag = fragments.get(sel.name.value);
          // A fragment that spreads itself is reported by graphql's own NoFragmentCycles rule.
          if (!frag || seen.has(frag.name.value)) continue;
          inner = measure(frag.selectionSet, depth, multiplier, new Set(seen).add(frag.name.value));
        }
        if (inner) {
          out.depth = Math.max(out.depth, inner.depth);
          out.aliases += inner.aliases;
          out.cost += inner.cost;
        }
        // Stop early: a bomb should cost us little to reject.
        if (out.cost > limits.maxCost * 10 || out.aliases > limits.maxAliases * 10) break;
      }
      return out;
    };

    return {
      OperationDefinition(op: OperationDefinitionNode) {
        const m = measure(op.selectionSet, 0, 1, new Set());
        if (m.depth > limits.maxDepth) context.reportError(limitError('QUERY_TOO_DEEP', `Query depth ${m.depth} exceeds the limit of ${limits.maxDepth}.`));
        if (m.aliases > limits.maxAliases) context.reportError(limitError('TOO_MANY_ALIASES', `Query uses ${m.aliases} aliases; the limit is ${limits.maxAliases}.`));
        if (m.cost > limits.maxCost) context.reportError(limitError('QUERY_TOO_COSTLY', `Query cost ${m.cost} exceeds the limit of ${limits.maxCost}.`));
        return false;
      },
    };
  };
}

function pageSize(field: FieldNode): number {
  for (const arg of field.arguments ?? []) {
    if (PAGE_ARGS.has(arg.name.value)) {
      if (arg.value.kind === Kind.INT) return Math.max(1, Number(arg.value.value));
      return DEFAULT_LIST_SIZE * 5; // a variable: assume a generous page
    }
  }
  return 1;
}
