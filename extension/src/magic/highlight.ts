/**
 * CodeMirror 6 extension for notebook cells: in a `%%stratum` cell the magic line and the YAML
 * below it are coloured (mark decorations over whatever language the kernel set), and
 * `%stratum` line magics stand out in code cells. Registered through the editor extension
 * registry, so every cell editor gets it.
 */
import { RangeSetBuilder, type Extension } from '@codemirror/state';
import { Decoration, ViewPlugin, type DecorationSet, type EditorView, type ViewUpdate } from '@codemirror/view';

import { lineMagicRanges, tokenizeStratumCell, type YamlToken } from './yaml-tokens';

const marks: Record<YamlToken, Decoration> = {
  key: Decoration.mark({ class: 'jp-stratum-yaml-key' }),
  string: Decoration.mark({ class: 'jp-stratum-yaml-string' }),
  number: Decoration.mark({ class: 'jp-stratum-yaml-number' }),
  atom: Decoration.mark({ class: 'jp-stratum-yaml-atom' }),
  comment: Decoration.mark({ class: 'jp-stratum-yaml-comment' }),
  punct: Decoration.mark({ class: 'jp-stratum-yaml-punct' }),
  magic: Decoration.mark({ class: 'jp-stratum-magic' }),
};
const body = Decoration.line({ class: 'jp-stratum-yaml-line' });

function decorate(view: EditorView): DecorationSet {
  const text = view.state.doc.toString();
  const builder = new RangeSetBuilder<Decoration>();
  const cell = tokenizeStratumCell(text);
  if (cell.length > 0) {
    // Line decorations first at each position, then the marks on that line, in document order.
    const doc = view.state.doc;
    const byLine = new Map<number, typeof cell>();
    for (const t of cell) {
      const n = doc.lineAt(t.from).number;
      byLine.set(n, [...(byLine.get(n) ?? []), t]);
    }
    for (let n = 1; n <= doc.lines; n++) {
      const line = doc.line(n);
      if (n > 1) builder.add(line.from, line.from, body);
      for (const t of byLine.get(n) ?? []) builder.add(t.from, t.to, marks[t.type]);
    }
  } else {
    for (const t of lineMagicRanges(text)) builder.add(t.from, t.to, marks[t.type]);
  }
  return builder.finish();
}

export const stratumMagicHighlight: Extension = ViewPlugin.fromClass(
  class {
    constructor(view: EditorView) {
      this.decorations = decorate(view);
    }
    update(update: ViewUpdate): void {
      if (update.docChanged) this.decorations = decorate(update.view);
    }
    decorations: DecorationSet;
  },
  { decorations: (v) => v.decorations },
);
