/**
 * Types for ml-cart 2.1 (it ships none), covering what the decision-tree plugin uses.
 * `root.classify` is the library's own per-row walk; the plugin reads leaf distributions
 * through it to give class probabilities, which `predict` alone does not expose.
 */
declare module 'ml-cart' {
  interface CartOptions {
    gainFunction?: 'gini' | 'regression';
    splitFunction?: 'mean';
    minNumSamples?: number;
    maxDepth?: number;
    gainThreshold?: number;
  }
  /** An ml-matrix row vector at classifier leaves, a number at regression leaves. */
  interface LeafValue {
    to1DArray(): number[];
  }
  interface CartNode {
    classify(row: readonly number[]): LeafValue | number;
  }
  export class DecisionTreeClassifier {
    constructor(options?: CartOptions);
    root: CartNode;
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
    toJSON(): object;
    static load(model: object): DecisionTreeClassifier;
  }
  export class DecisionTreeRegression {
    constructor(options?: CartOptions);
    root: CartNode;
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
    toJSON(): object;
    static load(model: object): DecisionTreeRegression;
  }
}
