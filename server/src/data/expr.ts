/**
 * The restricted expression language of the `derive` and `filter` transforms, e.g.
 * `Horsepower / Weight_in_lbs`, `` `Beak Length (mm)` > 40 and Island != 'Dream' ``.
 * Parsed by hand and evaluated over columns: never `eval`, never `Function`.
 */
export { ExprError, expressionColumns, MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH, FUNCTIONS } from './expr-ast';
export type { ExprNode, BinaryOp, UnaryOp, FunctionName } from './expr-ast';
export { parseExpression } from './expr-parse';
export { evaluateExpression } from './expr-eval';
