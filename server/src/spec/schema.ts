/**
 * The pipeline language (`apiVersion: stratum/v1`, `kind: Pipeline`), defined once.
 *
 * TypeBox gives both the JSON Schema that ships for editors (`schema/pipeline.schema.json`)
 * and the static TypeScript types used everywhere else: nothing is declared twice.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Strict = { additionalProperties: false } as const;

const Name = Type.String({
  pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
  description: 'Lowercase letters, digits and dashes (a DNS label): names runs, models and endpoints.',
});

/** A size: a number of MiB, or a string with a unit ("512Mi", "2Gi", "1GB", "300MB"). */
export const Quantity = Type.Union([
  Type.Number({ minimum: 0 }),
  Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?\\s*(Ki|Mi|Gi|Ti|KB|MB|GB|TB|B|k|M|G)?$' }),
]);

export const DataSpec = Type.Object(
  {
    source: Type.String({
      minLength: 1,
      description: 'Path (relative to the spec file) or http(s) URL of the data set.',
    }),
    format: Type.Optional(
      Type.Union([Type.Literal('csv'), Type.Literal('json'), Type.Literal('arrow'), Type.Literal('parquet')], {
        description: 'Inferred from the extension when absent.',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Read at most this many rows.' })),
  },
  Strict,
);

const Columns = Type.Array(Type.String({ minLength: 1 }), { minItems: 1 });

export const FillMissing = Type.Object(
  {
    fillMissing: Type.Object(
      {
        columns: Type.Optional(Columns),
        strategy: Type.Union(
          [Type.Literal('mean'), Type.Literal('median'), Type.Literal('mostFrequent'), Type.Literal('constant')],
          { default: 'mean' },
        ),
        value: Type.Optional(Type.Union([Type.Number(), Type.String()])),
      },
      Strict,
    ),
  },
  Strict,
);
export const Standardize = Type.Object(
  { standardize: Type.Object({ columns: Type.Optional(Columns) }, Strict) },
  Strict,
);
export const OneHot = Type.Object({ oneHot: Type.Object({ columns: Columns }, Strict) }, Strict);
export const Derive = Type.Object(
  {
    derive: Type.Object(
      {
        name: Type.String({ minLength: 1 }),
        expr: Type.String({ minLength: 1, description: 'Expression over columns, e.g. "Horsepower / Weight_in_lbs".' }),
      },
      Strict,
    ),
  },
  Strict,
);
export const Filter = Type.Object(
  {
    filter: Type.Object(
      {
        expr: Type.String({ minLength: 1, description: 'Rows where the expression is true are kept (training only).' }),
      },
      Strict,
    ),
  },
  Strict,
);
export const DropMissing = Type.Object(
  { dropMissing: Type.Object({ columns: Type.Optional(Columns) }, Strict) },
  Strict,
);
export const Transform = Type.Union([FillMissing, Standardize, OneHot, Derive, Filter, DropMissing]);

export const SplitSpec = Type.Union([
  Type.Object(
    {
      holdout: Type.Object(
        {
          test: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.2 }),
          seed: Type.Optional(Type.Integer({ minimum: 0 })),
          stratify: Type.Optional(Type.Boolean({ description: 'Keep class proportions (classification only).' })),
        },
        Strict,
      ),
    },
    Strict,
  ),
  Type.Object(
    {
      kfold: Type.Object(
        {
          k: Type.Integer({ minimum: 2, maximum: 50 }),
          seed: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        Strict,
      ),
    },
    Strict,
  ),
]);

/**
 * One hyper-parameter's search space. A scalar is fixed; a list is a set of choices;
 * `range` is uniform (integers when both ends are integers and there is no step);
 * `logRange` is log-uniform. `num` gives how many points a grid takes from a range.
 */
export const ParamScalar = Type.Union([Type.Number(), Type.String(), Type.Boolean()]);
export const ParamSpace = Type.Union([
  ParamScalar,
  Type.Array(ParamScalar, { minItems: 1 }),
  Type.Object(
    {
      range: Type.Tuple([Type.Number(), Type.Number()]),
      step: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
      num: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    Strict,
  ),
  Type.Object(
    {
      logRange: Type.Tuple([Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 })]),
      num: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    Strict,
  ),
]);

/** A layer value may be a number, a string, or `$param` referring to a hyper-parameter. */
const LayerValue = Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Array(Type.Number())]);
const LayerArgs = Type.Record(Type.String(), LayerValue);
export const LayerKinds = [
  'dense',
  'conv2d',
  'maxPooling2d',
  'averagePooling2d',
  'flatten',
  'dropout',
  'batchNormalization',
  'activation',
  'reshape',
] as const;
export type LayerKind = (typeof LayerKinds)[number];
export const Layer = Type.Union(LayerKinds.map((k) => Type.Object({ [k]: LayerArgs }, Strict)));

export const CandidateSpec = Type.Object(
  {
    name: Name,
    trainer: Type.String({ minLength: 1, description: 'A trainer plugin: see the trainer catalog.' }),
    params: Type.Optional(Type.Record(Type.String(), ParamSpace)),
    layers: Type.Optional(Type.Array(Layer, { minItems: 1, description: 'tfjs only: the layer stack.' })),
    resources: Type.Optional(Type.Ref('Resources')),
  },
  Strict,
);

export const ResourcesSpec = Type.Object(
  {
    cpus: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1024 })),
    memory: Type.Optional(Quantity),
    gpus: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
  },
  { ...Strict, $id: 'Resources' },
);

export const SearchSpec = Type.Object(
  {
    strategy: Type.Union([Type.Literal('grid'), Type.Literal('random')], { default: 'grid' }),
    samples: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, description: 'Trials per candidate (random).' })),
    seed: Type.Optional(Type.Integer({ minimum: 0 })),
    maxTrials: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
  },
  Strict,
);

export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(us|ms|s)$';
const Duration = Type.String({ pattern: DURATION_PATTERN });
export const QosSpec = Type.Object(
  {
    p99: Type.Optional(Duration),
    p95: Type.Optional(Duration),
    p50: Type.Optional(Duration),
    rps: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    maxCostPerHour: Type.Optional(Type.Number({ minimum: 0 })),
  },
  Strict,
);

/**
 * Latency-aware selection: the best model by the metric whose profile on `tier` meets the QoS
 * ("best f1 whose p99 on edge is at most 10 ms"). Candidates are profiled in ranked order when
 * every trial is done; those that miss are set aside with the measured number.
 */
export const SelectionQosSpec = Type.Object(
  {
    tier: Type.String({
      minLength: 1,
      description: 'The tier the model must meet the QoS on (cloud, fog, edge, ...).',
    }),
    ...QosSpec.properties,
  },
  Strict,
);

export const SelectionSpec = Type.Object(
  {
    metric: Type.String({ minLength: 1, description: 'accuracy, f1, precision, recall, logloss, rmse, mae, r2' }),
    goal: Type.Optional(Type.Union([Type.Literal('maximize'), Type.Literal('minimize')])),
    constraints: Type.Optional(
      Type.Object(
        {
          maxModelSize: Type.Optional(Quantity),
          minMetric: Type.Optional(Type.Record(Type.String(), Type.Number())),
          maxMetric: Type.Optional(Type.Record(Type.String(), Type.Number())),
        },
        Strict,
      ),
    ),
    qos: Type.Optional(SelectionQosSpec),
  },
  Strict,
);

export const EarlyStoppingSpec = Type.Object(
  {
    rule: Type.Union([Type.Literal('median'), Type.Literal('asha')]),
    /** Metric reported per epoch that the rule compares (default: val_loss, minimized). */
    metric: Type.Optional(Type.String()),
    goal: Type.Optional(Type.Union([Type.Literal('maximize'), Type.Literal('minimize')])),
    graceEpochs: Type.Optional(Type.Integer({ minimum: 0 })),
    reductionFactor: Type.Optional(Type.Integer({ minimum: 2 })),
  },
  Strict,
);

/** Reserved for the deployment engine; validated when present. */
export const DeploySpec = Type.Object(
  {
    tier: Type.String({ minLength: 1 }),
    qos: Type.Optional(QosSpec),
    minReplicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    maxReplicas: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    fallbackTiers: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  Strict,
);

export const PipelineSpec = Type.Object(
  {
    apiVersion: Type.Literal('stratum/v1'),
    kind: Type.Literal('Pipeline'),
    metadata: Type.Object(
      {
        name: Name,
        description: Type.Optional(Type.String()),
        labels: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      Strict,
    ),
    data: DataSpec,
    target: Type.String({ minLength: 1 }),
    features: Type.Optional(Columns),
    transforms: Type.Optional(Type.Array(Transform)),
    split: Type.Optional(SplitSpec),
    task: Type.Union([Type.Literal('classification'), Type.Literal('regression')]),
    models: Type.Array(CandidateSpec, { minItems: 1 }),
    search: Type.Optional(SearchSpec),
    selection: SelectionSpec,
    resources: Type.Optional(ResourcesSpec),
    earlyStopping: Type.Optional(EarlyStoppingSpec),
    seed: Type.Optional(Type.Integer({ minimum: 0 })),
    deploy: Type.Optional(DeploySpec),
  },
  { ...Strict, $id: 'https://stratum.dev/schemas/pipeline.v1.json', title: 'Stratum pipeline' },
);

/** Candidates typed with their `resources` (TypeBox types a `$ref` as unknown). */
export type PipelineSpec = Omit<Static<typeof PipelineSpec>, 'models'> & { models: CandidateSpec[] };
export type DataSpec = Static<typeof DataSpec>;
export type TransformSpec = Static<typeof Transform>;
export type SplitSpec = Static<typeof SplitSpec>;
export type CandidateSpec = Omit<Static<typeof CandidateSpec>, 'resources'> & { resources?: ResourcesSpec };
export type ResourcesSpec = Static<typeof ResourcesSpec>;
export type ParamSpace = Static<typeof ParamSpace>;
export type ParamScalar = Static<typeof ParamScalar>;
export type LayerSpec = Static<typeof Layer>;
export type SelectionSpec = Static<typeof SelectionSpec>;
export type EarlyStoppingSpec = Static<typeof EarlyStoppingSpec>;
export type SearchSpec = Static<typeof SearchSpec>;
export type QosSpec = Static<typeof QosSpec>;
export type SelectionQosSpec = Static<typeof SelectionQosSpec>;
export type DeploySpec = Static<typeof DeploySpec>;

/** Schemas referenced by `$ref` inside PipelineSpec. */
export const referencedSchemas: TSchema[] = [ResourcesSpec];
