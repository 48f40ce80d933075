/**
 * Diagnostics about a spec field found after parsing (data not uploaded, a file missing):
 * they still point at the field's line and column in the YAML the user wrote.
 */
import { isNode, LineCounter, parseDocument } from 'yaml';

export interface Located {
  file: string;
  line: number;
  column: number;
  field: string;
  message: string;
  suggestion: string;
}

/** `field` is dotted ("data.source"); numeric parts index sequences. */
export function diagnosticAt(text: string, file: string, field: string, message: string): Located {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, keepSourceTokens: true });
  const path = field.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  let pos = { line: 1, col: 1 };
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      pos = lc.linePos(node.range[0]);
      break;
    }
  }
  return { file, line: pos.line, column: pos.col, field, message, suggestion: '' };
}
