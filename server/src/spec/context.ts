/** What the checks after structural validation share: the typed spec and where it came from. */
import { type PipelineSpec } from './schema';
import { type SpecSource } from './source';
import { type ValidateContext } from './validate';

export interface CheckContext {
  /** The spec as plain data; structural validation has passed, so its types hold. */
  readonly spec: PipelineSpec;
  readonly source: SpecSource;
  /** For checking a node against a schema outside schema.ts (a trainer's parameter schema). */
  readonly validate: ValidateContext;
  /** The cluster's tier names; when given, tiers the spec names must be among them. */
  readonly tiers?: readonly string[];
}
