/**
 * The syntax tree and error type of the restricted expression language used by the `derive`
 * and `filter` transforms. Kept apart from the parser and the evaluator so both can import it
 * without a require cycle.
 */

/**
 * A parse or evaluation error; `offset`/`length` locate the fault in the source string.
 * `message` reads "<reason> at <offset><hint>", e.g. 'unknown function "lg" at 0 (did you mean
 * "log")'; `detail` is the same without the offset ('unknown function "lg" (did you mean
 * "log")'), for callers that show the position their own way (a file's line:column).
 */
export class ExprError extends Error {
  override readonly name = 'ExprError';
  readonly detail: string;
  constructor(
    reason: string,
    readonly offset: number,
    readonly length: number,
    hint = '',
  ) {
    super(`${reason} at ${offset}${hint}`);
    this.detail = `${reason}${hint}`;
  }
}

/** Source span of a node: `src.slice(start, end)` is the text it was parsed from. */
interface Span {
  readonly start: number;
  readonly end: number;
}

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '**' | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'and' | 'or';
export type UnaryOp = '-' | 'not';

export type ExprNode =
  | (Span & { readonly type: 'number'; readonly value: number })
  | (Span & { readonly type: 'string'; readonly value: string })
  | (Span & { readonly type: 'boolean'; readonly value: boolean })
  | (Span & { readonly type: 'null' })
  | (Span & { readonly type: 'column'; readonly name: string })
  | (Span & { readonly type: 'unary'; readonly op: UnaryOp; readonly operand: ExprNode })
  | (Span & { readonly type: 'binary'; readonly op: BinaryOp; readonly left: ExprNode; readonly right: ExprNode })
  | (Span & { readonly type: 'call'; readonly fn: FunctionName; readonly args: readonly ExprNode[] });

/** Arity of each built-in function: [min, max] arguments (max Infinity = variadic). */
export const FUNCTIONS = {
  abs: [1, 1],
  sqrt: [1, 1],
  log: [1, 1],
  log10: [1, 1],
  exp: [1, 1],
  pow: [2, 2],
  min: [1, Infinity],
  max: [1, Infinity],
  round: [1, 2],
  floor: [1, 1],
  ceil: [1, 1],
  isnull: [1, 1],
  coalesce: [1, Infinity],
  if: [3, 3],
} as const satisfies Record<string, readonly [number, number]>;

export type FunctionName = keyof typeof FUNCTIONS;

export function isFunctionName(name: string): name is FunctionName {
  return Object.prototype.hasOwnProperty.call(FUNCTIONS, name);
}

/** Source length and nesting depth past which parsing stops: keeps the parser's stack bounded. */
export const MAX_EXPRESSION_LENGTH = 4096;
export const MAX_EXPRESSION_DEPTH = 64;

/** Distinct column names referenced by the expression, in order of first appearance. */
export function expressionColumns(node: ExprNode): string[] {
  const seen = new Set<string>();
  const visit = (n: ExprNode): void => {
    switch (n.type) {
      case 'column':
        seen.add(n.name);
        return;
      case 'unary':
        visit(n.operand);
        return;
      case 'binary':
        visit(n.left);
        visit(n.right);
        return;
      case 'call':
        n.args.forEach(visit);
        return;
      default:
        return;
    }
  };
  visit(node);
  return [...seen];
}

/** Levenshtein distance, for "did you mean" hints on misspelt functions and columns. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate within a third of the word's length (at least 1 edit), if any. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
