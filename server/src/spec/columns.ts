/**
 * Checks against the data set's columns (when the caller knows them): every column a
 * transform, an expression, the features or the target name exists at that point of the
 * pipeline. Transforms run in order, and `derive` adds its column for the steps after it.
 */
import { type ColumnInfo } from '../data/types';
import { type CheckContext } from './context';
import { type ParsedExpression } from './expressions';
import { type Path } from './source';
import { suggest } from './suggest';

/** A derived column's kind is known only when the data runs, so kind checks skip it. */
type Kind = ColumnInfo['kind'] | 'derived';

export function checkColumns(
  ctx: CheckContext,
  columns: readonly ColumnInfo[],
  expressions: readonly ParsedExpression[],
): void {
  const { spec, source } = ctx;
  const available = new Map<string, Kind>(columns.map((c) => [c.name, c.kind]));
  const unknown = (name: string): [string, string | undefined] => [
    `unknown column ${JSON.stringify(name)}`,
    suggest(name, available.keys()),
  ];
  const checkList = (names: readonly string[] | undefined, path: Path): void => {
    names?.forEach((name, j) => {
      if (!available.has(name) && !source.full) source.atValue([...path, j], ...unknown(name));
    });
  };
  (spec.transforms ?? []).forEach((t, k) => {
    const [kind, body] = Object.entries(t)[0] as [string, { columns?: string[]; name?: string }];
    checkList(body.columns, ['transforms', k, kind, 'columns']);
    for (const expr of expressions.filter((e) => e.transform === k)) {
      for (const ref of expr.columns) {
        if (available.has(ref.name) || source.full) continue;
        const [message, hint] = unknown(ref.name);
        source.at(ref.offset, expr.path, `${message} in expression`, hint);
      }
    }
    if ('derive' in t) available.set(t.derive.name, 'derived');
  });
  checkList(spec.features, ['features']);
  const target = available.get(spec.target);
  if (target === undefined) source.atValue(['target'], ...unknown(spec.target));
  else if (spec.task === 'regression' && target === 'string') {
    source.atValue(
      ['target'],
      `target ${JSON.stringify(spec.target)} is a string column; regression needs a number column`,
    );
  }
}
