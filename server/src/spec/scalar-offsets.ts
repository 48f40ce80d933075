/**
 * Maps a position inside a YAML string's value back to the file, so an error inside an
 * expression (`derive.expr`) points at the very character, whatever quoting the author used.
 *
 * Each scalar style is decoded again here while recording where every character came from;
 * if that decoding disagrees with yaml's (an exotic escape, say), the position falls back to
 * where the value's text starts, which is still the right line.
 */
import { type Scalar } from 'yaml';

/** The file offset of character `index` of a string scalar's value (index = length: its end). */
export function sourceOffset(text: string, node: Scalar, index: number): number {
  const range = node.range;
  if (!range || typeof node.value !== 'string') return range?.[0] ?? 0;
  const decoded = decode(text, range[0], range[1], node.type);
  const value = node.value;
  if (decoded && trimEnd(decoded.value) === trimEnd(value)) {
    const offsets = decoded.offsets;
    if (index < offsets.length) return offsets[index]!;
    return offsets.length > 0 ? offsets[offsets.length - 1]! + 1 : range[0];
  }
  // Fallback: the value written verbatim in the source, else the start of the scalar.
  const at = text.slice(range[0], range[1]).indexOf(value);
  return at >= 0 ? range[0] + at + Math.min(index, value.length) : range[0];
}

interface Decoded {
  value: string;
  offsets: number[];
}

function trimEnd(s: string): string {
  return s.replace(/\n+$/, '');
}

function decode(text: string, start: number, end: number, type: Scalar['type']): Decoded | undefined {
  switch (type) {
    case 'PLAIN':
      return decodeFlow(text, start, end, 'plain');
    case 'QUOTE_DOUBLE':
      return decodeFlow(text, start + 1, end - 1, 'double');
    case 'QUOTE_SINGLE':
      return decodeFlow(text, start + 1, end - 1, 'single');
    case 'BLOCK_LITERAL':
    case 'BLOCK_FOLDED':
      return decodeBlock(text, start, end, type === 'BLOCK_FOLDED');
    default:
      return undefined;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_ESCAPES: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

/** Plain and quoted scalars: line breaks fold to a space (or to n-1 newlines for n breaks). */
function decodeFlow(text: string, start: number, end: number, style: 'plain' | 'double' | 'single'): Decoded {
  const out: Decoded = { value: '', offsets: [] };
  const emit = (s: string, offset: number): void => {
    out.value += s;
    for (let k = 0; k < s.length; k++) out.offsets.push(offset);
  };
  let i = start;
  let pendingBreaks = 0; // line breaks seen since the last content
  let joinWithoutSpace = false;
  while (i < end) {
    const ch = text[i]!;
    if (ch === '\n' || ch === '\r') {
      // Trailing blanks before a break are not part of the value.
      while (out.value.endsWith(' ') || out.value.endsWith('\t')) {
        out.value = out.value.slice(0, -1);
        out.offsets.pop();
      }
      if (ch === '\r' && text[i + 1] === '\n') i++;
      pendingBreaks++;
      i++;
      while (i < end && (text[i] === ' ' || text[i] === '\t')) i++;
      continue;
    }
    if (pendingBreaks > 0) {
      if (!joinWithoutSpace) emit(pendingBreaks === 1 ? ' ' : '\n'.repeat(pendingBreaks - 1), i);
      pendingBreaks = 0;
      joinWithoutSpace = false;
    }
    if (style === 'single' && ch === "'" && text[i + 1] === "'") {
      emit("'", i);
      i += 2;
    } else if (style === 'double' && ch === '\\') {
      const next = text[i + 1] ?? '';
      if (next === '\n' || next === '\r') {
        joinWithoutSpace = true; // an escaped line break joins lines without a space
        i++;
      } else if (HEX_ESCAPES[next] !== undefined) {
        const digits = HEX_ESCAPES[next]!;
        emit(String.fromCodePoint(parseInt(text.slice(i + 2, i + 2 + digits), 16)), i);
        i += 2 + digits;
      } else {
        emit(ESCAPES[next] ?? next, i);
        i += 2;
      }
    } else {
      emit(ch, i);
      i++;
    }
  }
  if (style === 'plain') {
    while (out.value.endsWith(' ')) {
      out.value = out.value.slice(0, -1);
      out.offsets.pop();
    }
  }
  return out;
}

/** `|` and `>` scalars: content lines after the header, less their common indentation. */
function decodeBlock(text: string, start: number, end: number, folded: boolean): Decoded | undefined {
  const headerEnd = text.indexOf('\n', start);
  if (headerEnd < 0 || headerEnd >= end) return undefined;
  const header = text.slice(start, headerEnd);
  const lines: { start: number; text: string }[] = [];
  for (let pos = headerEnd + 1; pos < end; ) {
    const nl = text.indexOf('\n', pos);
    const stop = nl < 0 || nl > end ? end : nl;
    lines.push({ start: pos, text: text.slice(pos, stop).replace(/\r$/, '') });
    pos = stop + 1;
  }
  const explicit = /[1-9]/.exec(header.replace(/#.*$/, ''));
  const firstContent = lines.find((l) => l.text.trim() !== '');
  const indent = explicit
    ? Number(explicit[0])
    : firstContent
      ? firstContent.text.length - firstContent.text.trimStart().length
      : 0;
  const out: Decoded = { value: '', offsets: [] };
  lines.forEach((line, k) => {
    const content = line.text.slice(indent);
    for (let c = 0; c < content.length; c++) {
      out.value += content[c];
      out.offsets.push(line.start + indent + c);
    }
    if (k < lines.length - 1) {
      // Folding turns a break between two text lines into a space: still one character.
      const next = lines[k + 1]!.text.slice(indent);
      const space = folded && content !== '' && next !== '' && !/^\s/.test(content) && !/^\s/.test(next);
      out.value += space ? ' ' : '\n';
      out.offsets.push(line.start + line.text.length);
    }
  });
  return folded ? refold(out) : out;
}

/** Folded blocks drop one newline from each run of breaks between text lines. */
function refold(d: Decoded): Decoded {
  const out: Decoded = { value: '', offsets: [] };
  for (let i = 0; i < d.value.length; i++) {
    const isRunStart = d.value[i] === '\n' && d.value[i + 1] === '\n' && (i === 0 || d.value[i - 1] !== '\n');
    if (isRunStart && i > 0 && !/^\s/.test(d.value[i - 1]!)) continue;
    out.value += d.value[i];
    out.offsets.push(d.offsets[i]!);
  }
  return out;
}
