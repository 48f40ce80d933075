/**
 * YAML text → document with positions. Syntax errors (bad indentation, tabs, duplicate keys,
 * unclosed quotes…) become diagnostics at their line:column like every other problem.
 */
import { isAlias, isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { type SpecDiagnostic } from './errors';
import { keyString, pathAtOffset, SpecSource, type Path } from './source';

/** Specs are small; a bigger text is refused before parsing (it is almost surely not a spec). */
export const MAX_SPEC_BYTES = 1024 * 1024;

/** Anchors may be reused, but not expanded past this (the "billion laughs" attack). */
const MAX_ALIAS_COUNT = 100;

export type ParsedYaml =
  | { source: SpecSource; diagnostics: []; value: unknown }
  | { source?: SpecSource; diagnostics: SpecDiagnostic[] };

export function parseYaml(text: string, file: string): ParsedYaml {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_SPEC_BYTES) {
    const mib = (bytes / MAX_SPEC_BYTES).toFixed(1);
    const message = `the spec is ${mib} MiB; the limit is 1 MiB (${MAX_SPEC_BYTES} bytes)`;
    return { diagnostics: [{ file, line: 1, column: 1, field: '', message, suggestion: '' }] };
  }
  const lines = new LineCounter();
  // logLevel 'error': yaml would print process warnings (e.g. for mapping keys), which the
  // structural check reports properly instead. Duplicate keys are found below, in linear time
  // (yaml's own check is quadratic in the number of keys).
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, logLevel: 'error' });
  const source = new SpecSource(file, text, doc, lines);
  const lineSeen = new Set<number>();
  for (const error of doc.errors) {
    // One mistake often trips several parser rules at the same place: keep the first per line.
    const offset = error.pos[0];
    const line = lines.linePos(offset).line;
    if (lineSeen.has(line)) continue;
    lineSeen.add(line);
    source.at(offset, pathAtOffset(doc, offset), syntaxMessage(error.code, error.message));
  }
  if (source.diagnostics.length === 0) checkKeysAndAliases(source);
  if (source.diagnostics.length > 0) return { source, diagnostics: source.diagnostics };
  try {
    const value: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    return { source, diagnostics: [], value };
  } catch (e) {
    // Dangling aliases were reported above, so what is left is alias abuse (too many expansions).
    source.at(0, [], `aliases expand too far: ${lowerFirst((e as Error).message)}`);
    return { source, diagnostics: source.diagnostics };
  }
}

/**
 * Duplicate keys and aliases to no anchor, found in one pass over every node. The walk keeps
 * its own stack: a document may nest deeper than the call stack allows.
 */
function checkKeysAndAliases(source: SpecSource): void {
  const { doc } = source;
  const stack: { node: unknown; path: Path }[] = [{ node: doc.contents, path: [] }];
  while (stack.length > 0 && !source.full) {
    const { node, path } = stack.pop()!;
    if (isAlias(node)) {
      if (!node.resolve(doc))
        source.at(node, path, `alias *${node.source} refers to no anchor defined before it (&${node.source})`);
    } else if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = keyString(pair, doc);
        if (key !== undefined && seen.has(key)) {
          source.at(
            pair.key as Node,
            [...path, key],
            `duplicate key ${JSON.stringify(key)}: each key may appear once in a mapping`,
          );
        }
        if (key !== undefined) seen.add(key);
        stack.push({ node: pair.key, path }, { node: pair.value, path: key === undefined ? path : [...path, key] });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => stack.push({ node: item, path: [...path, i] }));
    }
  }
}

/** yaml's messages, with the common ones said in the spec author's terms. */
function syntaxMessage(code: string, message: string): string {
  switch (code) {
    case 'TAB_AS_INDENT':
      return 'tab character used for indentation: YAML indents with spaces';
    case 'MULTIPLE_DOCS':
      return 'a spec file holds one YAML document; a second one starts here';
    case 'BAD_INDENT':
      return `bad indentation: ${lowerFirst(message)}`;
    default:
      if (/call stack/i.test(message)) return 'the document nests too deeply';
      // Expressions often start with a `quoted column`, which YAML reserves: say how to fix it.
      if (/reserved character/.test(message))
        return `YAML syntax error: ${lowerFirst(message)}; put the value in quotes`;
      return `YAML syntax error: ${lowerFirst(message)}`;
  }
}

function lowerFirst(s: string): string {
  const firstLine = s.split('\n')[0] ?? s;
  return firstLine.charAt(0).toLowerCase() + firstLine.slice(1);
}
