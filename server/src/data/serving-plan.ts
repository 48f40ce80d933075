/**
 * Which raw columns a served model needs, and the fitted steps that turn them into features.
 *
 * Training fits steps on whatever columns the data has (a default fillMissing may cover a
 * name column no feature uses). A prediction request should only have to carry what the
 * features depend on, so the serving pipeline keeps just the step entries on that path: a
 * backward pass from the feature columns through derive (its expression's columns) and oneHot
 * (its source column). filter/dropMissing stay for lineage; they never run at serving time.
 */
import { expressionColumns, parseExpression } from './expr';
import type { FittedStep, FittedTransforms } from './transforms';

export interface ServingPlan {
  /** Raw columns the features depend on. */
  readonly inputs: ReadonlySet<string>;
  readonly fitted: FittedTransforms;
}

export function servingPlan(fitted: FittedTransforms, features: readonly string[]): ServingPlan {
  const needed = new Set(features);
  const kept: FittedStep[] = [];
  for (const step of [...fitted.steps].reverse()) {
    switch (step.kind) {
      case 'oneHot': {
        const columns = step.columns.filter(({ column, categories }) => {
          const outs = categories.map((c) => `${column}=${c}`);
          if (!outs.some((o) => needed.has(o))) return false;
          outs.forEach((o) => needed.delete(o));
          needed.add(column);
          return true;
        });
        if (columns.length > 0) kept.push({ ...step, columns });
        break;
      }
      case 'derive':
        if (needed.has(step.name)) {
          needed.delete(step.name);
          // Read after the delete: `x = log(x)` needs the earlier x.
          for (const c of expressionColumns(parseExpression(step.expr))) needed.add(c);
          kept.push(step);
        }
        break;
      case 'fillMissing': {
        const fills = step.fills.filter((f) => needed.has(f.column));
        if (fills.length > 0) kept.push({ ...step, fills });
        break;
      }
      case 'standardize': {
        const columns = step.columns.filter((c) => needed.has(c.column));
        if (columns.length > 0) kept.push({ ...step, columns });
        break;
      }
      case 'filter':
      case 'dropMissing':
        kept.push(step);
        break;
    }
  }
  return { inputs: needed, fitted: { steps: kept.reverse() } };
}
