/**
 * A small line tokenizer for the YAML of `%%stratum` cells: enough to colour keys, strings,
 * numbers, booleans, comments and punctuation. Pure: text in, token ranges out.
 */
export type YamlToken = 'key' | 'string' | 'number' | 'atom' | 'comment' | 'punct' | 'magic';

export interface TokenRange {
  readonly from: number;
  readonly to: number;
  readonly type: YamlToken;
}

const SCALAR_END = /[,\]}#]/;

function scalarType(text: string): YamlToken | undefined {
  const t = text.trim();
  if (/^[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(t)) return 'number';
  if (/^(true|false|null|~|yes|no)$/i.test(t)) return 'atom';
  if (/^\$[A-Za-z_]\w*$/.test(t)) return 'atom';
  return undefined;
}

/** Tokens of one line; `offset` is the line's position in the document. */
export function tokenizeYamlLine(line: string, offset = 0): TokenRange[] {
  const out: TokenRange[] = [];
  const push = (from: number, to: number, type: YamlToken): void => {
    if (to > from) out.push({ from: offset + from, to: offset + to, type });
  };
  let i = 0;
  let expectKey = true;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      push(i, line.length, 'comment');
      break;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < line.length && line[j] !== c) j += line[j] === '\\' && c === '"' ? 2 : 1;
      j = Math.min(j + 1, line.length);
      const isKey = /^\s*:(\s|$)/.test(line.slice(j));
      push(i, j, isKey && expectKey ? 'key' : 'string');
      i = j;
      expectKey = false;
      continue;
    }
    if ('[]{},'.includes(c) || (c === '-' && (line[i + 1] === ' ' || i + 1 === line.length))) {
      push(i, i + 1, 'punct');
      i++;
      expectKey = c !== ']' && c !== '}';
      continue;
    }
    if (c === ':' && (line[i + 1] === ' ' || i + 1 === line.length)) {
      push(i, i + 1, 'punct');
      i++;
      expectKey = false;
      continue;
    }
    // A plain scalar: up to `: `, a flow indicator or a comment.
    let j = i;
    while (j < line.length && !SCALAR_END.test(line[j]!) && !(line[j] === ':' && /\s|$/.test(line[j + 1] ?? ''))) j++;
    if (line[j] === '#' && !/\s/.test(line[j - 1] ?? '')) j++;
    let end = j;
    while (end > i && /\s/.test(line[end - 1]!)) end--;
    const isKey = line[j] === ':' && expectKey;
    const type = isKey ? 'key' : scalarType(line.slice(i, end));
    if (type) push(i, end, type);
    i = Math.max(j, i + 1);
    expectKey = false;
  }
  return out;
}

/** Tokens of a `%%stratum` cell: the magic line, then its body as YAML. Empty for other cells. */
export function tokenizeStratumCell(text: string): TokenRange[] {
  if (!/^%%stratum(\s|$)/.test(text)) return [];
  const lines = text.split('\n');
  const out: TokenRange[] = [{ from: 0, to: lines[0]!.length, type: 'magic' }];
  let offset = lines[0]!.length + 1;
  for (const line of lines.slice(1)) {
    out.push(...tokenizeYamlLine(line, offset));
    offset += line.length + 1;
  }
  return out;
}

/** Ranges of `%stratum` line magics in a code cell (lines starting with the magic). */
export function lineMagicRanges(text: string): TokenRange[] {
  const out: TokenRange[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    if (/^\s*%stratum(\s|$)/.test(line)) out.push({ from: offset, to: offset + line.length, type: 'magic' });
    offset += line.length + 1;
  }
  return out;
}
