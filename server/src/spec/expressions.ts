/**
 * `derive.expr` and `filter.expr`: parsed with the data layer's expression parser so the spec
 * check and the run agree on the language; a syntax error points at its character in the file.
 */
import { type Scalar } from 'yaml';
import { ExprError, parseExpression, type ExprNode } from '../data/expr';
import { type CheckContext } from './context';
import { sourceOffset } from './scalar-offsets';
import { nodeAt, type Path } from './source';

/** A column an expression reads, with the file offset of where it is written. */
export interface ColumnRef {
  readonly name: string;
  readonly offset: number;
}

export interface ParsedExpression {
  readonly transform: number;
  readonly path: Path;
  readonly columns: readonly ColumnRef[];
}

/** Parses every expression in the transforms; reports errors and returns the ones that parsed. */
export function checkExpressions({ spec, source }: CheckContext): ParsedExpression[] {
  const parsed: ParsedExpression[] = [];
  (spec.transforms ?? []).forEach((t, k) => {
    const kind = 'derive' in t ? 'derive' : 'filter' in t ? 'filter' : undefined;
    if (!kind) return;
    const path: Path = ['transforms', k, kind, 'expr'];
    const node = nodeAt(source.doc, path).value as Scalar | undefined;
    const expr = 'derive' in t ? t.derive.expr : 'filter' in t ? t.filter.expr : '';
    const at = (index: number): number => (node ? sourceOffset(source.text, node, index) : 0);
    try {
      const ast = parseExpression(expr);
      parsed.push({ transform: k, path, columns: columnRefs(ast).map((c) => ({ name: c.name, offset: at(c.start) })) });
    } catch (e) {
      // The parser's message may end with its own offset ("at 18"); the diagnostic has the column.
      if (e instanceof ExprError) source.at(at(e.offset), path, `bad expression: ${e.message.replace(/ at \d+$/, '')}`);
      else source.at(node, path, `cannot parse expression: ${(e as Error).message}`);
    }
  });
  return parsed;
}

/** Column nodes in source order, with their spans (expressionColumns gives names only). */
function columnRefs(node: ExprNode): { name: string; start: number }[] {
  const out: { name: string; start: number }[] = [];
  const visit = (n: ExprNode): void => {
    if (n.type === 'column') out.push({ name: n.name, start: n.start });
    else if (n.type === 'unary') visit(n.operand);
    else if (n.type === 'binary') {
      visit(n.left);
      visit(n.right);
    } else if (n.type === 'call') n.args.forEach(visit);
  };
  visit(node);
  return out;
}
