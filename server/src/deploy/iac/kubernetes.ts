/**
 * `kubernetes.yaml`: the plan as manifests for a cluster — a Deployment pinned to the tier's
 * nodes (label and taint `stratum.dev/tier`), a Service with the http and grpc ports, and an
 * autoscaling/v2 HorizontalPodAutoscaler.
 *
 * Scale to zero: an HPA never goes below one replica. For min 0 the HPA gets minReplicas 1 and
 * the annotation `stratum.dev/scale-to-zero` (with a comment) says that going to zero on a
 * cluster needs KEDA or Knative, which Stratum does not install; its own workers and gateway do
 * scale to zero. One portable output beats a KEDA ScaledObject that fails on clusters without
 * the CRD.
 */
import { Document } from 'yaml';

import { SERVER_VERSION } from '../version';
import { DEFAULT_AUTOSCALING } from '../autoscaler';
import {
  dnsLabel,
  labelValue,
  PROBES,
  REPLICA_PORT,
  replicaArgs,
  resourcesOf,
  targetConcurrencyOf,
  type RenderablePlan,
} from './common';

export const TIER_LABEL = 'stratum.dev/tier';
export const GRPC_SERVICE_PORT = 8081;

export interface KubernetesOptions {
  /** Default: none (the namespace kubectl applies into). */
  readonly namespace?: string;
  /** Container image with the `stratum` CLI. Default `stratum/stratum:<server version>`. */
  readonly image?: string;
  /**
   * Control plane URL the replica fetches `name:version` from (env STRATUM_SERVER). Default: read
   * from the ConfigMap `controlPlaneConfigMap`, since the URL a cluster reaches is not the
   * control plane's own (loopback) one.
   */
  readonly controlPlaneUrl?: string;
  /** ConfigMap holding the control plane URL under key `url`. Default `stratum-control-plane`. */
  readonly controlPlaneConfigMap?: string;
  /** Secret holding the API token under key `token` (env STRATUM_TOKEN). Default `stratum-api-token`. */
  readonly tokenSecret?: string;
  /** HPA target for average CPU utilisation, in percent. Default 70. */
  readonly cpuUtilization?: number;
}

type Obj = Record<string, unknown>;

const tokenSecretOf = (o: KubernetesOptions): string => o.tokenSecret ?? 'stratum-api-token';
const configMapOf = (o: KubernetesOptions): string => o.controlPlaneConfigMap ?? 'stratum-control-plane';

/** CPU quantity: whole cores as "2", fractions as millicores ("500m"). */
export function cpuQuantity(cpus: number): string {
  return Number.isInteger(cpus) ? String(cpus) : `${Math.max(1, Math.round(cpus * 1000))}m`;
}

function placement(plan: RenderablePlan): Obj {
  const tiers = [plan.tier, ...plan.fallbackTiers.filter((t) => t !== plan.tier)];
  const tolerations = tiers.map((value) => ({ key: TIER_LABEL, operator: 'Equal', value, effect: 'NoSchedule' }));
  if (tiers.length === 1) return { nodeSelector: { [TIER_LABEL]: plan.tier }, tolerations };
  // Fallback tiers: any of them may hold a replica, the first tier is preferred.
  const term = (values: string[]) => ({ matchExpressions: [{ key: TIER_LABEL, operator: 'In', values }] });
  return {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term(tiers)] },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: term([plan.tier]) }],
      },
    },
    tolerations,
  };
}

function container(plan: RenderablePlan, o: KubernetesOptions): Obj {
  const r = resourcesOf(plan);
  const amounts: Obj = { cpu: cpuQuantity(r.cpus), memory: `${r.memoryMb}Mi` };
  const limits: Obj = r.gpus > 0 ? { ...amounts, 'nvidia.com/gpu': String(r.gpus) } : amounts;
  const probe = (p: (typeof PROBES)[keyof typeof PROBES]): Obj => ({
    httpGet: { path: p.path, port: 'http' },
    periodSeconds: p.periodSeconds,
    timeoutSeconds: p.timeoutSeconds,
    failureThreshold: p.failureThreshold,
  });
  const env: Obj[] = [
    { name: 'STRATUM_HOME', value: '/var/lib/stratum' },
    o.controlPlaneUrl
      ? { name: 'STRATUM_SERVER', value: o.controlPlaneUrl }
      : {
          name: 'STRATUM_SERVER',
          valueFrom: { configMapKeyRef: { name: configMapOf(o), key: 'url' } },
        },
    // The token only ever comes from the Secret: never inlined in a manifest people commit. Not
    // optional: without it the pod waits with a clear event instead of failing auth in a loop.
    {
      name: 'STRATUM_TOKEN',
      valueFrom: { secretKeyRef: { name: tokenSecretOf(o), key: 'token' } },
    },
  ];
  return {
    name: 'replica',
    image: o.image ?? `stratum/stratum:${SERVER_VERSION}`,
    command: ['stratum', 'replica'],
    args: replicaArgs(plan, { host: '0.0.0.0', port: REPLICA_PORT }),
    ports: [{ name: 'http', containerPort: REPLICA_PORT, protocol: 'TCP' }],
    env,
    resources: { requests: amounts, limits },
    readinessProbe: probe(PROBES.readiness),
    livenessProbe: probe(PROBES.liveness),
    volumeMounts: [{ name: 'models', mountPath: '/var/lib/stratum' }],
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    },
  };
}

/** The Kubernetes objects of a plan, in apply order: Deployment, Service, HorizontalPodAutoscaler. */
export function kubernetesObjects(plan: RenderablePlan, o: KubernetesOptions = {}): Obj[] {
  const name = dnsLabel(plan.name);
  const selector = { 'app.kubernetes.io/name': 'stratum-replica', 'app.kubernetes.io/instance': name };
  const labels = {
    ...selector,
    'app.kubernetes.io/managed-by': 'stratum',
    'stratum.dev/deployment': labelValue(plan.name),
    'stratum.dev/model': labelValue(plan.modelName),
    'stratum.dev/model-version': String(plan.modelVersion),
    [TIER_LABEL]: labelValue(plan.tier),
  };
  const metadata = (annotations: Obj = {}): Obj => ({
    name,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    labels,
    annotations: {
      'stratum.dev/deployment': plan.name,
      'stratum.dev/model': `${plan.modelName}:${plan.modelVersion}`,
      ...annotations,
    },
  });
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(plan.modelDigest ? { 'stratum.dev/model-digest': plan.modelDigest } : {}),
    spec: {
      selector: { matchLabels: selector },
      // Load the new replica before the old one goes (and it drains on SIGTERM).
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels,
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(REPLICA_PORT),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          ...placement(plan),
          terminationGracePeriodSeconds: 30,
          containers: [container(plan, o)],
          volumes: [{ name: 'models', emptyDir: {} }],
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(),
    spec: {
      type: 'ClusterIP',
      selector,
      // One container port answers both: REST on HTTP/1.1, gRPC on h2c.
      ports: [
        { name: 'http', port: REPLICA_PORT, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
        {
          name: 'grpc',
          port: GRPC_SERVICE_PORT,
          targetPort: 'http',
          protocol: 'TCP',
          appProtocol: 'kubernetes.io/h2c',
        },
      ],
    },
  };
  const zero = plan.minReplicas === 0;
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: metadata({
      'stratum.dev/target-concurrency': String(targetConcurrencyOf(plan)),
      ...(zero
        ? {
            'stratum.dev/scale-to-zero':
              'requested; an HPA keeps at least 1 replica, going to zero needs KEDA or Knative',
          }
        : {}),
    }),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: Math.max(1, plan.minReplicas),
      maxReplicas: Math.max(1, plan.maxReplicas),
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: o.cpuUtilization ?? 70 } },
        },
      ],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: Math.round(DEFAULT_AUTOSCALING.scaleUpDelayMs / 1000) },
        scaleDown: { stabilizationWindowSeconds: Math.round(DEFAULT_AUTOSCALING.scaleDownDelayMs / 1000) },
      },
    },
  };
  return [deployment, service, hpa];
}

export function renderKubernetes(plan: RenderablePlan, o: KubernetesOptions = {}): string {
  const [deployment, service, hpa] = kubernetesObjects(plan, o).map(
    (obj) => new Document(obj, { aliasDuplicateObjects: false }),
  );
  const checks = plan.checks.map((c) => ` ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.message}`);
  deployment!.commentBefore = [
    ` Stratum deployment "${plan.name}": model ${plan.modelName} v${plan.modelVersion} on tier ${plan.tier}.`,
    ` Plan ${plan.feasible ? 'feasible' : 'NOT feasible'}${checks.length ? ':' : ''}`,
    ...checks,
    ' replicas: left to the HorizontalPodAutoscaler below, so a re-apply does not reset them.',
    ' Before applying, give the replicas the API token and (unless rendered with its URL) the control plane:',
    `   kubectl create secret generic ${tokenSecretOf(o)} --from-literal=token=...`,
    ...(o.controlPlaneUrl
      ? []
      : [`   kubectl create configmap ${configMapOf(o)} --from-literal=url=http://CONTROL-PLANE:7070`]),
  ].join('\n');
  service!.commentBefore = ` REST on port http (${REPLICA_PORT}); gRPC (h2c) on port grpc (${GRPC_SERVICE_PORT}), the same container port.`;
  hpa!.commentBefore = [
    ` Scales ${Math.max(1, plan.minReplicas)}..${Math.max(1, plan.maxReplicas)} on CPU; the concurrency target (${targetConcurrencyOf(plan)} per replica)`,
    ' needs a custom metric (stratum_gateway_inflight through prometheus-adapter).',
    ...(plan.minReplicas === 0
      ? [' min replicas 0 asked: an HPA cannot scale to zero, so minReplicas is 1 here; use KEDA or Knative for zero.']
      : []),
  ].join('\n');
  return [deployment, service, hpa].map((d) => d!.toString({ lineWidth: 0 })).join('---\n');
}
