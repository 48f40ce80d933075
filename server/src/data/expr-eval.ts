/**
 * Vectorised evaluation of a parsed expression over a Frame.
 *
 * Each node becomes a per-row accessor (`at(i)`) composed bottom-up, so a whole expression is
 * one pass over the rows with no intermediate columns. Semantics:
 * - booleans are numbers 1/0 (comparisons, and/or/not, isnull, true/false);
 * - missing values (NaN, null) propagate through arithmetic and functions;
 * - comparisons with a missing value are false; and/or/not/if treat missing as false;
 * - non-finite arithmetic results (x / 0, log(0)) are missing, so they reach fillMissing or
 *   dropMissing instead of feeding Infinity to a model;
 * - types are checked once per node (numbers vs strings), before any row is touched.
 */
import { ExprError, closest, type ExprNode } from './expr-ast';
import type { Column, Frame } from './types';

type Num = { readonly kind: 'number'; readonly at: (i: number) => number };
type Str = { readonly kind: 'string'; readonly at: (i: number) => string | null };
/** The `null` literal: adopts the kind of whatever it is combined with. */
type Nul = { readonly kind: 'null' };
type Vec = Num | Str | Nul;

const finite = (x: number): number => (Number.isFinite(x) ? x : NaN);
const truthy = (x: number): boolean => x !== 0 && !Number.isNaN(x);
const bool = (b: boolean): number => (b ? 1 : 0);
const numConst = (v: number): Num => ({ kind: 'number', at: () => v });

function describe(node: ExprNode): string {
  if (node.type === 'column') return `column "${node.name}"`;
  if (node.type === 'string') return `the string '${node.value}'`;
  return 'its operand';
}

function typeError(what: string, want: string, node: ExprNode, vec: Vec): ExprError {
  const got = vec.kind === 'string' ? 'text' : 'a number';
  return new ExprError(`${what} needs ${want}, but ${describe(node)} is ${got}`, node.start, node.end - node.start);
}

function asNum(vec: Vec, node: ExprNode, what: string): Num {
  if (vec.kind === 'null') return numConst(NaN);
  if (vec.kind === 'string') throw typeError(what, 'numbers', node, vec);
  return vec;
}

/** Gives every vec the same kind (the first non-null one), for ==, coalesce and if. */
function unify(vecs: readonly Vec[], nodes: readonly ExprNode[], what: string): Num[] | Str[] {
  const kind = vecs.find((v) => v.kind !== 'null')?.kind ?? 'number';
  return vecs.map((v, k) => {
    if (v.kind === 'null') return kind === 'number' ? numConst(NaN) : { kind: 'string', at: () => null };
    if (v.kind !== kind) throw typeError(what, kind === 'number' ? 'numbers' : 'text', nodes[k]!, v);
    return v;
  }) as Num[] | Str[];
}

function column(frame: Frame, node: Extract<ExprNode, { type: 'column' }>): Vec {
  const col = frame.columns.get(node.name);
  if (!col) {
    const hint = closest(node.name, frame.names);
    const suffix = hint ? ` (did you mean "${hint}")` : '';
    throw new ExprError(`unknown column "${node.name}"`, node.start, node.end - node.start, suffix);
  }
  if (col.kind === 'number') {
    const v = col.values;
    return { kind: 'number', at: (i) => v[i]! };
  }
  const v = col.values;
  return { kind: 'string', at: (i) => v[i] ?? null };
}

const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
  '**': (a, b) => a ** b,
};

function compare(op: string, a: number | string, b: number | string): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    default:
      return a !== b;
  }
}

function binary(node: Extract<ExprNode, { type: 'binary' }>, frame: Frame): Vec {
  const what = `operator "${node.op}"`;
  const l = build(node.left, frame);
  const r = build(node.right, frame);
  const f = ARITHMETIC[node.op];
  if (f) {
    const a = asNum(l, node.left, what).at;
    const b = asNum(r, node.right, what).at;
    return { kind: 'number', at: (i) => finite(f(a(i), b(i))) };
  }
  if (node.op === 'and' || node.op === 'or') {
    const a = asNum(l, node.left, what).at;
    const b = asNum(r, node.right, what).at;
    return node.op === 'and'
      ? { kind: 'number', at: (i) => bool(truthy(a(i)) && truthy(b(i))) }
      : { kind: 'number', at: (i) => bool(truthy(a(i)) || truthy(b(i))) };
  }
  const [a, b] = unify([l, r], [node.left, node.right], what);
  const op = node.op;
  if (a!.kind === 'number') {
    const [x, y] = [a!.at, (b as Num).at];
    return {
      kind: 'number',
      at: (i) => {
        const p = x(i);
        const q = y(i);
        return Number.isNaN(p) || Number.isNaN(q) ? 0 : bool(compare(op, p, q));
      },
    };
  }
  const [x, y] = [a!.at, (b as Str).at];
  return {
    kind: 'number',
    at: (i) => {
      const p = x(i);
      const q = y(i);
      return p === null || q === null ? 0 : bool(compare(op, p, q));
    },
  };
}

const MATH: Record<string, (x: number) => number> = {
  abs: Math.abs,
  sqrt: Math.sqrt,
  log: Math.log,
  log10: Math.log10,
  exp: Math.exp,
  floor: Math.floor,
  ceil: Math.ceil,
};

function call(node: Extract<ExprNode, { type: 'call' }>, frame: Frame): Vec {
  const what = `function "${node.fn}"`;
  const vecs = node.args.map((a) => build(a, frame));
  const nums = (): ((i: number) => number)[] => vecs.map((v, k) => asNum(v, node.args[k]!, what).at);
  const math = MATH[node.fn];
  if (math) {
    const [x] = nums();
    return { kind: 'number', at: (i) => finite(math(x!(i))) };
  }
  switch (node.fn) {
    case 'pow': {
      const [x, y] = nums();
      return { kind: 'number', at: (i) => finite(x!(i) ** y!(i)) };
    }
    case 'round': {
      const [x, d] = nums();
      // Rounds half away from zero, to `d` decimal places (0 when absent).
      const digits = d ?? (() => 0);
      return {
        kind: 'number',
        at: (i) => {
          const scale = 10 ** digits(i);
          return finite((Math.sign(x!(i)) * Math.round(Math.abs(x!(i)) * scale)) / scale);
        },
      };
    }
    case 'min':
    case 'max': {
      const xs = nums();
      const pick = node.fn === 'min' ? Math.min : Math.max;
      return {
        kind: 'number',
        at: (i) => {
          let m = xs[0]!(i);
          for (let k = 1; k < xs.length; k++) m = pick(m, xs[k]!(i)); // NaN wins: missing propagates
          return m;
        },
      };
    }
    case 'isnull': {
      const v = vecs[0]!;
      if (v.kind === 'null') return numConst(1);
      if (v.kind === 'number') return { kind: 'number', at: (i) => bool(Number.isNaN(v.at(i))) };
      return { kind: 'number', at: (i) => bool(v.at(i) === null) };
    }
    case 'coalesce': {
      const xs = unify(vecs, node.args, what);
      if (xs[0]!.kind === 'number') {
        const ats = (xs as Num[]).map((x) => x.at);
        return { kind: 'number', at: (i) => ats.map((at) => at(i)).find((x) => !Number.isNaN(x)) ?? NaN };
      }
      const ats = (xs as Str[]).map((x) => x.at);
      return { kind: 'string', at: (i) => ats.map((at) => at(i)).find((x) => x !== null) ?? null };
    }
    default: {
      // if(cond, a, b): a missing condition counts as false, like a failed comparison.
      const cond = asNum(vecs[0]!, node.args[0]!, what).at;
      const [a, b] = unify(vecs.slice(1), node.args.slice(1), what);
      if (a!.kind === 'number') {
        const [x, y] = [a!.at, (b as Num).at];
        return { kind: 'number', at: (i) => (truthy(cond(i)) ? x(i) : y(i)) };
      }
      const [x, y] = [a!.at, (b as Str).at];
      return { kind: 'string', at: (i) => (truthy(cond(i)) ? x(i) : y(i)) };
    }
  }
}

function build(node: ExprNode, frame: Frame): Vec {
  switch (node.type) {
    case 'number':
      return numConst(node.value);
    case 'boolean':
      return numConst(bool(node.value));
    case 'string': {
      const v = node.value;
      return { kind: 'string', at: () => v };
    }
    case 'null':
      return { kind: 'null' };
    case 'column':
      return column(frame, node);
    case 'unary': {
      const x = asNum(build(node.operand, frame), node.operand, `operator "${node.op}"`).at;
      return node.op === '-'
        ? { kind: 'number', at: (i) => -x(i) }
        : { kind: 'number', at: (i) => bool(!truthy(x(i))) };
    }
    case 'binary':
      return binary(node, frame);
    case 'call':
      return call(node, frame);
  }
}

/** Evaluates the expression for every row of the frame. A bare `null` gives a missing number column. */
export function evaluateExpression(node: ExprNode, frame: Frame): Column {
  const vec = build(node, frame);
  if (vec.kind === 'string') {
    const out: (string | null)[] = new Array(frame.rows);
    for (let i = 0; i < frame.rows; i++) out[i] = vec.at(i);
    return { kind: 'string', values: out };
  }
  const out = new Float64Array(frame.rows);
  const at = vec.kind === 'null' ? () => NaN : vec.at;
  for (let i = 0; i < frame.rows; i++) out[i] = at(i);
  return { kind: 'number', values: out };
}
