/**
 * The parsed YAML text and the one place that turns YAML nodes into line:column diagnostics.
 * Every check reports through here, so every diagnostic points into the user's file.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Document,
  type LineCounter,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import { type SpecDiagnostic } from './errors';

/** A field in the spec: keys and list indexes from the root. */
export type Path = readonly (string | number)[];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `models[1].params.maxDepth`; keys that are not identifiers are quoted: `labels["team name"]`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    else if (IDENTIFIER.test(step)) out += out ? `.${step}` : step;
    else out += `[${JSON.stringify(step)}]`;
  }
  return out;
}

/** Follows aliases (`*name`) to the anchored node; a dangling or looping alias yields undefined. */
export function resolveNode(node: unknown, doc: Document): Node | undefined {
  let n = node;
  for (let hops = 0; isAlias(n); hops++) {
    if (hops > 16) return undefined;
    n = n.resolve(doc);
  }
  return n as Node | undefined;
}

/** A mapping key as the string the spec means by it (scalars only; complex keys have none). */
export function keyString(pair: Pair, doc: Document): string | undefined {
  const key = resolveNode(pair.key, doc);
  if (
    isScalar(key) &&
    (typeof key.value === 'string' || typeof key.value === 'number' || typeof key.value === 'boolean')
  ) {
    return String(key.value);
  }
  if (pair.key === null || (isScalar(key) && key.value === null)) return '';
  return undefined;
}

/** Key → entry of each mapping, built on first lookup (documents do not change once parsed). */
const pairIndexes = new WeakMap<YAMLMap, Map<string, Pair>>();

/** The entry of `map` under `key` (the first, should the key repeat). */
export function findPair(map: YAMLMap, key: string, doc: Document): Pair | undefined {
  let index = pairIndexes.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items) {
      const k = keyString(p, doc);
      if (k !== undefined && !index.has(k)) index.set(k, p);
    }
    pairIndexes.set(map, index);
  }
  return index.get(key);
}

/** The nodes at `path`: the value, and the key it sits under when its parent is a mapping. */
export function nodeAt(doc: Document, path: Path): { value?: Node; key?: Node; parent?: Node } {
  let value = resolveNode(doc.contents, doc);
  let key: Node | undefined;
  let parent: Node | undefined;
  for (const step of path) {
    parent = value;
    if (typeof step === 'number' && isSeq(value)) {
      key = undefined;
      value = resolveNode(value.items[step], doc);
    } else if (typeof step === 'string' && isMap(value)) {
      const pair = findPair(value, step, doc);
      key = pair ? (resolveNode(pair.key, doc) ?? undefined) : undefined;
      value = pair ? resolveNode(pair.value, doc) : undefined;
    } else {
      return { parent };
    }
    if (value === undefined && key === undefined) return { parent };
  }
  return { value, key, parent };
}

/** The path of the innermost node whose source contains `offset` (names YAML syntax errors). */
export function pathAtOffset(doc: Document, offset: number): (string | number)[] {
  const path: (string | number)[] = [];
  let node: unknown = doc.contents;
  for (let depth = 0; depth < 64; depth++) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const start = (p.key as Node | null)?.range?.[0] ?? (p.value as Node | null)?.range?.[0];
        // range[1] is where the value's text ends (range[2] also spans trailing blank space).
        const end = (p.value as Node | null)?.range?.[1] ?? (p.key as Node | null)?.range?.[1];
        return start !== undefined && end !== undefined && start <= offset && offset <= end;
      });
      if (!pair) {
        // Between top-level entries (a stray tab, say): name the entry the fault follows.
        if (path.length > 0) break;
        const before = node.items.filter((p) => ((p.key as Node | null)?.range?.[0] ?? Infinity) < offset).pop();
        const key = before && keyString(before, doc);
        if (key !== undefined) path.push(key);
        break;
      }
      const key = keyString(pair, doc);
      if (key === undefined) break;
      path.push(key);
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => {
        const range = (item as Node | null)?.range;
        return range != null && range[0] <= offset && offset <= range[1];
      });
      if (index < 0) break;
      path.push(index);
      node = node.items[index];
    } else break;
  }
  return path;
}

/** Where a report points: a node (or an offset), with a fallback node for empty values. */
export type Anchor = Node | number | null | undefined;

export interface Reporter {
  /** True once enough diagnostics are kept: walks over many items may stop. */
  readonly full?: boolean;
  /** Reports at `at`, or at `fallback` when `at` has no text of its own (`key:` with no value). */
  at(at: Anchor, path: Path, message: string, suggestion?: string, fallback?: Anchor): void;
}

/** Diagnostics kept per spec: past this, checks stop early (the first ones matter most). */
export const MAX_DIAGNOSTICS = 100;

/** The YAML document of one spec file, with its line index, collecting diagnostics. */
export class SpecSource implements Reporter {
  readonly diagnostics: SpecDiagnostic[] = [];

  constructor(
    readonly file: string,
    readonly text: string,
    readonly doc: Document,
    readonly lines: LineCounter,
  ) {}

  /** Whether the diagnostics are full: loops over many items should stop. */
  get full(): boolean {
    return this.diagnostics.length >= MAX_DIAGNOSTICS;
  }

  at(at: Anchor, path: Path, message: string, suggestion?: string, fallback?: Anchor): void {
    if (this.full) return;
    const offset = anchorOffset(at) ?? anchorOffset(fallback) ?? 0;
    const { line, col } = this.lines.linePos(Math.min(offset, this.text.length));
    this.diagnostics.push({
      file: this.file,
      line,
      column: col,
      field: formatPath(path),
      message,
      suggestion: suggestion ?? '',
    });
  }

  /** Reports at the value found at `path` (or its key, or its parent, whichever exists). */
  atValue(path: Path, message: string, suggestion?: string): void {
    if (this.full) return;
    const { value, key, parent } = nodeAt(this.doc, path);
    this.at(value, path, message, suggestion, key ?? parent);
  }

  /** Reports at the key of `path` (an entry the spec should not have). */
  atKey(path: Path, message: string, suggestion?: string): void {
    if (this.full) return;
    const { value, key, parent } = nodeAt(this.doc, path);
    this.at(key ?? value, path, message, suggestion, parent);
  }
}

/** The offset a node starts at; undefined for nodes with no text (an empty value). */
function anchorOffset(at: Anchor): number | undefined {
  if (typeof at === 'number') return at;
  if (!at || !at.range) return undefined;
  if (isScalar(at) && at.value === null && at.range[0] === at.range[1]) return undefined;
  return at.range[0];
}
