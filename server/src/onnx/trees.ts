/**
 * ml.js trees → ONNX-ML TreeEnsembleClassifier / TreeEnsembleRegressor (ai.onnx.ml opset 3).
 *
 * ml-cart sends a row left when `row[splitColumn] < splitValue` (BRANCH_LT) and holds a leaf's
 * answer in `distribution`: a [1, k] class distribution over the classes seen under the leaf
 * (classifier) or the mean target (regression). A forest's tree sees only the columns
 * `indexes[t]` chose for it, so its split columns are mapped back through them.
 *
 * Outputs match the plugins: a decision tree's probabilities are its leaf distribution; a
 * forest's are the share of trees voting for each class, where a tree votes for the first
 * most probable class of its leaf (ml-matrix's maxRowIndex). Votes are emitted as weight 1 and
 * divided by the tree count afterwards, so tied counts stay exactly tied in float32. Every
 * leaf carries a weight for every class, which keeps onnxruntime off its two-class shortcut
 * (it rewrites scores when only one class has weights). Regression forests average.
 *
 * Thresholds and leaf weights are float64 (the `*_as_tensor` attributes) and the features are
 * cast to float64 before the ensemble. ml-cart splits halfway between neighbouring training
 * values, and real features (a derived ratio such as horsepower per weight) hold values that
 * differ only in the last bits of a double; rounded to float32, a threshold can fall onto the
 * value it separates and send the row the other way. In float64, a row goes where ml-cart
 * sends the same (float32) row.
 */
import { attr, ELEMENT, ML_DOMAIN, type AttrValue, type GraphBuilder } from './builder';
import { OnnxExportError } from './errors';

/** One ml-cart node as its toJSON writes it (internal nodes may also carry leaf-only fields). */
interface CartNode {
  readonly splitColumn?: number;
  readonly splitValue?: number;
  readonly left?: CartNode;
  readonly right?: CartNode;
  readonly distribution?: readonly (readonly number[])[] | number;
}

interface CartModel {
  readonly root: CartNode;
}

/** The decision-tree and random-forest plugins' states (trainers/tree.ts, forest.ts). */
export interface TreeState {
  readonly task: 'classification' | 'regression';
  readonly features: number;
  readonly nClasses: number;
  readonly model: CartModel;
}

export interface ForestState {
  readonly task: 'classification' | 'regression';
  readonly features: number;
  readonly nClasses: number;
  readonly model: {
    readonly selectionMethod?: string;
    readonly baseModel: { readonly indexes: readonly (readonly number[])[]; readonly estimators: readonly CartModel[] };
  };
}

/** The flat arrays the TreeEnsemble operators take, filled one tree at a time. */
class Ensemble {
  readonly treeIds: number[] = [];
  readonly nodeIds: number[] = [];
  readonly featureIds: number[] = [];
  readonly values: number[] = [];
  readonly modes: string[] = [];
  readonly trueIds: number[] = [];
  readonly falseIds: number[] = [];
  readonly leafTree: number[] = [];
  readonly leafNode: number[] = [];
  readonly leafTarget: number[] = [];
  readonly leafWeight: number[] = [];

  constructor(
    private readonly trainer: string,
    private readonly features: number,
  ) {}

  /**
   * Adds a tree in preorder; `leaf` gives the weight per target (class) of a leaf's
   * distribution, `column` maps a split column to a feature index.
   */
  addTree(
    tree: number,
    root: CartNode,
    column: (c: number) => number,
    leaf: (d: CartNode['distribution']) => number[],
  ): void {
    let next = 0;
    const visit = (node: CartNode): number => {
      const id = next++;
      const at = this.nodeIds.length;
      this.treeIds.push(tree);
      this.nodeIds.push(id);
      if (node.distribution !== undefined) {
        this.setNode(at, 0, 0, 'LEAF');
        leaf(node.distribution).forEach((weight, target) => {
          this.leafTree.push(tree);
          this.leafNode.push(id);
          this.leafTarget.push(target);
          this.leafWeight.push(weight);
        });
        return id;
      }
      if (!node.left || !node.right || node.splitColumn === undefined || node.splitValue === undefined) {
        throw new OnnxExportError(this.trainer, `tree ${tree} has a node that is neither a split nor a leaf`);
      }
      const feature = column(node.splitColumn);
      if (!(feature >= 0 && feature < this.features)) {
        throw new OnnxExportError(this.trainer, `tree ${tree} splits on column ${feature} of ${this.features}`);
      }
      this.setNode(at, feature, node.splitValue, 'BRANCH_LT');
      this.trueIds[at] = visit(node.left);
      this.falseIds[at] = visit(node.right);
      return id;
    };
    visit(root);
  }

  nodeAttributes(): Record<string, AttrValue> {
    return {
      nodes_treeids: attr.ints(this.treeIds),
      nodes_nodeids: attr.ints(this.nodeIds),
      nodes_featureids: attr.ints(this.featureIds),
      nodes_values_as_tensor: attr.doubles(this.values),
      nodes_modes: attr.strings(this.modes),
      nodes_truenodeids: attr.ints(this.trueIds),
      nodes_falsenodeids: attr.ints(this.falseIds),
    };
  }

  /** Children ids are filled in after they are visited; a leaf points nowhere (0). */
  private setNode(at: number, feature: number, value: number, mode: 'LEAF' | 'BRANCH_LT'): void {
    this.featureIds[at] = feature;
    this.values[at] = value;
    this.modes[at] = mode;
    this.trueIds[at] = 0;
    this.falseIds[at] = 0;
  }
}

function classDistribution(trainer: string, d: CartNode['distribution'], nClasses: number): number[] {
  const row = Array.isArray(d) ? d[0] : undefined;
  if (!row || row.length === 0 || row.length > nClasses) {
    throw new OnnxExportError(trainer, `a leaf's class distribution does not fit ${nClasses} classes`);
  }
  return Array.from({ length: nClasses }, (_, c) => row[c] ?? 0);
}

function leafValue(trainer: string, d: CartNode['distribution']): number[] {
  if (typeof d !== 'number') throw new OnnxExportError(trainer, 'a regression leaf holds no value');
  return [d];
}

/** One-hot vote for the first most probable class, as ml-matrix's maxRowIndex picks it. */
function vote(distribution: number[]): number[] {
  let best = 0;
  for (let c = 1; c < distribution.length; c++) if (distribution[c]! > distribution[best]!) best = c;
  return distribution.map((_, c) => (c === best ? 1 : 0));
}

/** The features as float64, so thresholds compare in double as ml-cart does. */
function asDouble(g: GraphBuilder, x: string): string {
  return g.op('Cast', [x], { to: attr.int(ELEMENT.DOUBLE) }, 'features_f64');
}

function classifier(g: GraphBuilder, x: string, e: Ensemble, nClasses: number): string {
  const [, scores] = g.node(
    'TreeEnsembleClassifier',
    [asDouble(g, x)],
    ['tree_label', 'tree_scores'],
    {
      ...e.nodeAttributes(),
      class_treeids: attr.ints(e.leafTree),
      class_nodeids: attr.ints(e.leafNode),
      class_ids: attr.ints(e.leafTarget),
      class_weights_as_tensor: attr.doubles(e.leafWeight),
      classlabels_int64s: attr.ints(Array.from({ length: nClasses }, (_, c) => c)),
      post_transform: 'NONE',
    },
    { domain: ML_DOMAIN },
  );
  return scores!;
}

function regressor(g: GraphBuilder, x: string, e: Ensemble, aggregate: 'SUM' | 'AVERAGE'): string {
  return g.node(
    'TreeEnsembleRegressor',
    [asDouble(g, x)],
    ['tree_prediction'],
    {
      ...e.nodeAttributes(),
      target_treeids: attr.ints(e.leafTree),
      target_nodeids: attr.ints(e.leafNode),
      target_ids: attr.ints(e.leafTarget),
      target_weights_as_tensor: attr.doubles(e.leafWeight),
      n_targets: attr.int(1),
      aggregate_function: aggregate,
      post_transform: 'NONE',
    },
    { domain: ML_DOMAIN },
  )[0]!;
}

/** Decision tree: [N, features] → probabilities [N, nClasses] or prediction [N, 1]. */
export function decisionTreeGraph(g: GraphBuilder, x: string, state: TreeState): string {
  const trainer = 'decision-tree';
  const e = new Ensemble(trainer, state.features);
  const root = state.model?.root;
  if (!root) throw new OnnxExportError(trainer, 'the saved state holds no tree');
  if (state.task === 'classification') {
    e.addTree(
      0,
      root,
      (c) => c,
      (d) => classDistribution(trainer, d, state.nClasses),
    );
    return classifier(g, x, e, state.nClasses);
  }
  e.addTree(
    0,
    root,
    (c) => c,
    (d) => leafValue(trainer, d),
  );
  return regressor(g, x, e, 'SUM');
}

/** Random forest: vote shares [N, nClasses] (classification) or the mean tree [N, 1]. */
export function randomForestGraph(g: GraphBuilder, x: string, state: ForestState): string {
  const trainer = 'random-forest';
  const base = state.model?.baseModel;
  if (!base || !Array.isArray(base.estimators) || base.estimators.length === 0) {
    throw new OnnxExportError(trainer, 'the saved state holds no trees');
  }
  if (base.indexes?.length !== base.estimators.length) {
    throw new OnnxExportError(trainer, 'the saved state has no column selection for every tree');
  }
  const e = new Ensemble(trainer, state.features);
  const classify = state.task === 'classification';
  if (!classify && (state.model.selectionMethod ?? 'mean') !== 'mean') {
    throw new OnnxExportError(trainer, `selectionMethod "${state.model.selectionMethod}" has no ONNX aggregate`);
  }
  base.estimators.forEach((tree, t) => {
    const columns = base.indexes[t]!;
    const leaf = classify
      ? (d: CartNode['distribution']) => vote(classDistribution(trainer, d, state.nClasses))
      : (d: CartNode['distribution']) => leafValue(trainer, d);
    e.addTree(t, tree.root, (c) => columns[c] ?? -1, leaf);
  });
  if (!classify) return regressor(g, x, e, 'AVERAGE');
  const votes = classifier(g, x, e, state.nClasses);
  return g.op('Div', [votes, g.floats('tree_count', [base.estimators.length], [1])], {}, 'vote_share');
}
