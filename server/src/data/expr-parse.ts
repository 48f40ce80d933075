/**
 * Parser for the expression language: a hand-written tokenizer and recursive-descent parser.
 * Expressions come from pipeline files that other people write, so nothing here ever reaches
 * `eval`/`Function`; every failure is an ExprError pointing at the offending characters.
 *
 * Precedence, lowest first (Python's layering, so `not a == b` is `not (a == b)`):
 *   or ||  <  and &&  <  not !  <  comparisons (not chainable)  <  + -  <  * / %
 *   <  unary -  <  ** (right-associative, so -2 ** 2 is -(2 ** 2))  <  literals, columns, calls, ( )
 */
import {
  ExprError,
  FUNCTIONS,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  closest,
  isFunctionName,
  type BinaryOp,
  type ExprNode,
} from './expr-ast';

type Token =
  | { kind: 'number'; value: number; start: number; end: number }
  | { kind: 'string'; value: string; start: number; end: number }
  | { kind: 'ident'; name: string; quoted: boolean; start: number; end: number }
  | { kind: 'op'; op: string; start: number; end: number }
  | { kind: 'eof'; start: number; end: number };

const OPERATORS = ['**', '<=', '>=', '==', '!=', '&&', '||', '+', '-', '*', '/', '%', '<', '>', '!', '(', ')', ','];
/** Single characters people type from other languages, with the operator they meant. */
const LOOKALIKES: Record<string, string> = { '=': '==', '&': '&&', '|': '||' };
const STRING_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9.]/.test(c)) {
      const m = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i));
      const text = m?.[0] ?? '';
      const after = src[i + text.length];
      if (text === '' || (after !== undefined && /[A-Za-z0-9_.]/.test(after))) {
        const end = /^[A-Za-z0-9_.]*/.exec(src.slice(i))![0].length + i;
        throw new ExprError(`invalid number "${src.slice(i, Math.max(end, i + 1))}"`, i, Math.max(end - i, 1));
      }
      i += text.length;
      tokens.push({ kind: 'number', value: Number(text), start, end: i });
    } else if (/[A-Za-z_]/.test(c)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))![0];
      i += name.length;
      tokens.push({ kind: 'ident', name, quoted: false, start, end: i });
    } else if (c === '`') {
      const close = src.indexOf('`', i + 1);
      if (close < 0) throw new ExprError('unterminated column name', i, src.length - i);
      if (close === i + 1) throw new ExprError('empty column name', i, 2);
      i = close + 1;
      tokens.push({ kind: 'ident', name: src.slice(start + 1, close), quoted: true, start, end: i });
    } else if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        const d = src[i];
        if (d === undefined) throw new ExprError('unterminated string', start, src.length - start);
        i++;
        if (d === c) break;
        if (d === '\\' && i < src.length) {
          const e = src[i++]!;
          value += STRING_ESCAPES[e] ?? e;
        } else value += d;
      }
      tokens.push({ kind: 'string', value, start, end: i });
    } else {
      const op = OPERATORS.find((o) => src.startsWith(o, i));
      if (op === undefined) {
        const hint = LOOKALIKES[c] ? ` (did you mean "${LOOKALIKES[c]}")` : '';
        throw new ExprError(`unexpected "${c}"`, i, 1, hint);
      }
      i += op.length;
      tokens.push({ kind: 'op', op, start, end: i });
    }
  }
  tokens.push({ kind: 'eof', start: src.length, end: src.length });
  return tokens;
}

const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=']);

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
  ) {}

  parse(): ExprNode {
    const node = this.or();
    const t = this.peek();
    if (t.kind !== 'eof') throw this.unexpected(t);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private isOp(...ops: string[]): boolean {
    const t = this.peek();
    return (t.kind === 'op' && ops.includes(t.op)) || (t.kind === 'ident' && !t.quoted && ops.includes(t.name));
  }

  private unexpected(t: Token): ExprError {
    if (t.kind === 'eof') return new ExprError('unexpected end of expression', t.start, 0);
    return new ExprError(`unexpected "${this.src.slice(t.start, t.end)}"`, t.start, t.end - t.start);
  }

  /** Every recursive step goes through here so deep nesting fails cleanly, not with a stack overflow. */
  private nested<T>(at: Token, f: () => T): T {
    if (++this.depth > MAX_EXPRESSION_DEPTH) {
      throw new ExprError(`expression nested deeper than ${MAX_EXPRESSION_DEPTH} levels`, at.start, at.end - at.start);
    }
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private binary(op: BinaryOp, left: ExprNode, right: ExprNode): Extract<ExprNode, { type: 'binary' }> {
    return { type: 'binary', op, left, right, start: left.start, end: right.end };
  }

  private or(): ExprNode {
    let left = this.and();
    while (this.isOp('or', '||')) {
      this.pos++;
      left = this.binary('or', left, this.and());
    }
    return left;
  }

  private and(): ExprNode {
    let left = this.not();
    while (this.isOp('and', '&&')) {
      this.pos++;
      left = this.binary('and', left, this.not());
    }
    return left;
  }

  private not(): ExprNode {
    const t = this.peek();
    if (!this.isOp('not', '!')) return this.comparison();
    this.pos++;
    const operand = this.nested(t, () => this.not());
    return { type: 'unary', op: 'not', operand, start: t.start, end: operand.end };
  }

  private comparison(): ExprNode {
    const left = this.additive();
    const t = this.peek();
    if (t.kind !== 'op' || !COMPARISONS.has(t.op)) return left;
    this.pos++;
    const node = this.binary(t.op as BinaryOp, left, this.additive());
    // Comparisons with a missing value are false, so `x == null` would silently match nothing.
    const nullSide = [node.left, node.right].find((n) => n.type === 'null');
    if (nullSide) {
      throw new ExprError('comparing with null is always false', nullSide.start, 4, ': use isnull(x)');
    }
    const next = this.peek();
    if (next.kind === 'op' && COMPARISONS.has(next.op)) {
      throw new ExprError(
        'comparisons cannot be chained',
        next.start,
        next.end - next.start,
        ': use "and" (a < b and b < c)',
      );
    }
    return node;
  }

  private additive(): ExprNode {
    let left = this.multiplicative();
    while (this.isOp('+', '-')) {
      const op = (this.tokens[this.pos++] as { op: BinaryOp }).op;
      left = this.binary(op, left, this.multiplicative());
    }
    return left;
  }

  private multiplicative(): ExprNode {
    let left = this.unary();
    while (this.isOp('*', '/', '%')) {
      const op = (this.tokens[this.pos++] as { op: BinaryOp }).op;
      left = this.binary(op, left, this.unary());
    }
    return left;
  }

  private unary(): ExprNode {
    const t = this.peek();
    if (!this.isOp('-')) return this.power();
    this.pos++;
    const operand = this.nested(t, () => this.unary());
    return { type: 'unary', op: '-', operand, start: t.start, end: operand.end };
  }

  private power(): ExprNode {
    const base = this.primary();
    const t = this.peek();
    if (!this.isOp('**')) return base;
    this.pos++;
    return this.binary(
      '**',
      base,
      this.nested(t, () => this.unary()),
    );
  }

  private primary(): ExprNode {
    const t = this.peek();
    this.pos++;
    switch (t.kind) {
      case 'number':
        return { type: 'number', value: t.value, start: t.start, end: t.end };
      case 'string':
        return { type: 'string', value: t.value, start: t.start, end: t.end };
      case 'ident':
        return this.identifier(t);
      case 'op':
        if (t.op === '(') {
          const inner = this.nested(t, () => this.or());
          this.expect(')', t);
          return inner;
        }
        break;
      default:
        break;
    }
    this.pos--;
    throw this.unexpected(t);
  }

  private identifier(t: Extract<Token, { kind: 'ident' }>): ExprNode {
    const span = { start: t.start, end: t.end };
    if (!t.quoted) {
      if (t.name === 'true' || t.name === 'false') return { type: 'boolean', value: t.name === 'true', ...span };
      if (t.name === 'null') return { type: 'null', ...span };
      if (['and', 'or', 'not'].includes(t.name)) {
        this.pos--;
        throw this.unexpected(t);
      }
    }
    if (t.quoted || !this.isOp('(')) return { type: 'column', name: t.name, ...span };
    if (!isFunctionName(t.name)) {
      const hint = closest(t.name, Object.keys(FUNCTIONS));
      const suffix = hint ? ` (did you mean "${hint}")` : `; functions are ${Object.keys(FUNCTIONS).join(', ')}`;
      throw new ExprError(`unknown function "${t.name}"`, t.start, t.end - t.start, suffix);
    }
    const open = this.tokens[this.pos++]!;
    const args: ExprNode[] = [];
    if (!this.isOp(')')) {
      args.push(this.nested(open, () => this.or()));
      while (this.isOp(',')) {
        this.pos++;
        args.push(this.nested(open, () => this.or()));
      }
    }
    const close = this.expect(')', open);
    const [min, max] = FUNCTIONS[t.name];
    if (args.length < min || args.length > max) {
      const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
      throw new ExprError(
        `function "${t.name}" takes ${want} argument${want === '1' ? '' : 's'}, got ${args.length}`,
        t.start,
        close.end - t.start,
      );
    }
    return { type: 'call', fn: t.name, args, start: t.start, end: close.end };
  }

  private expect(op: string, opener: Token): Token {
    const t = this.peek();
    if (t.kind === 'op' && t.op === op) {
      this.pos++;
      return t;
    }
    if (t.kind === 'eof') {
      throw new ExprError(`missing "${op}" for "${this.src.slice(opener.start, opener.end)}"`, opener.start, 1);
    }
    throw this.unexpected(t);
  }
}

/** Parses an expression; throws ExprError (with the offset of the fault) on any invalid input. */
export function parseExpression(src: string): ExprNode {
  if (src.length > MAX_EXPRESSION_LENGTH) {
    throw new ExprError(
      'expression too long',
      MAX_EXPRESSION_LENGTH,
      src.length - MAX_EXPRESSION_LENGTH,
      ` (${src.length} characters; the limit is ${MAX_EXPRESSION_LENGTH})`,
    );
  }
  return new Parser(src, tokenize(src)).parse();
}
