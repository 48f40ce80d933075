import { DEFAULT_BATCHING } from '../../../serving/replica';
import { parseReplicaArgs } from '../../../serving/replica-main';
import { cpuQuantity, DEFAULT_MAX_BATCH_SIZE, dnsLabel, labelValue, renderKubernetes } from '../index';
import { byKind, docs, plan, validate, type Obj } from './plan-fixture';

describe('renderKubernetes', () => {
  it('renders a Deployment, a Service and an HPA that the Kubernetes schemas accept', () => {
    const objects = docs(renderKubernetes(plan()));
    expect(objects.map((o) => `${o.apiVersion} ${o.kind}`)).toEqual([
      'apps/v1 Deployment',
      'v1 Service',
      'autoscaling/v2 HorizontalPodAutoscaler',
    ]);
    expect(validate(objects)).toEqual([null, null, null]);
  });

  it('writes plain YAML without anchors or aliases', () => {
    expect(renderKubernetes(plan())).not.toMatch(/[&*]a\d/);
  });

  it('is validated for real: the schemas refuse a broken object', () => {
    const [deployment] = docs(renderKubernetes(plan()));
    deployment!.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    delete deployment!.spec.selector;
    expect(validate([deployment!])[0]).toMatch(/containerPort must be integer|must have required property 'selector'/);
  });

  it('pins replicas to the tier: nodeSelector, toleration for the tier taint', () => {
    const pod = byKind(docs(renderKubernetes(plan()))).Deployment.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'stratum.dev/tier': 'edge' });
    expect(pod.tolerations).toEqual([
      { key: 'stratum.dev/tier', operator: 'Equal', value: 'edge', effect: 'NoSchedule' },
    ]);
  });

  it('passes the API token only from a Secret, never inline', () => {
    const c = byKind(docs(renderKubernetes(plan(), { tokenSecret: 'my-token', controlPlaneUrl: 'http://cp:7070' })))
      .Deployment.spec.template.spec.containers[0];
    const token = c.env.find((e: Obj) => e.name === 'STRATUM_TOKEN');
    expect(token).toEqual({ name: 'STRATUM_TOKEN', valueFrom: { secretKeyRef: { name: 'my-token', key: 'token' } } });
    expect(c.env.find((e: Obj) => e.name === 'STRATUM_SERVER')).toEqual({
      name: 'STRATUM_SERVER',
      value: 'http://cp:7070',
    });
    // Without a URL (the control plane's own is loopback), the URL comes from a ConfigMap.
    const byDefault = byKind(docs(renderKubernetes(plan()))).Deployment.spec.template.spec.containers[0];
    expect(byDefault.env.find((e: Obj) => e.name === 'STRATUM_SERVER')).toEqual({
      name: 'STRATUM_SERVER',
      valueFrom: { configMapKeyRef: { name: 'stratum-control-plane', key: 'url' } },
    });
    expect(renderKubernetes(plan())).toMatch(/kubectl create configmap stratum-control-plane --from-literal=url=/);
  });

  it('lets fallback tiers take replicas through node affinity, preferring the plan’s tier', () => {
    const objects = docs(renderKubernetes(plan({ fallbackTiers: ['fog', 'cloud'] })));
    expect(validate(objects)).toEqual([null, null, null]);
    const pod = byKind(objects).Deployment.spec.template.spec;
    expect(pod.nodeSelector).toBeUndefined();
    const node = pod.affinity.nodeAffinity;
    expect(node.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([
      { key: 'stratum.dev/tier', operator: 'In', values: ['edge', 'fog', 'cloud'] },
    ]);
    expect(node.preferredDuringSchedulingIgnoredDuringExecution[0]).toEqual({
      weight: 100,
      preference: { matchExpressions: [{ key: 'stratum.dev/tier', operator: 'In', values: ['edge'] }] },
    });
    expect(pod.tolerations.map((t: Obj) => t.value)).toEqual(['edge', 'fog', 'cloud']);
  });

  it('runs `stratum replica` with the plan’s model under the deployment’s name, batching and port, as replica-main takes them', () => {
    const c = byKind(docs(renderKubernetes(plan({ name: 'penguins-edge', maxQueueDelayMs: 2.6 })))).Deployment.spec
      .template.spec.containers[0];
    expect(c.command).toEqual(['stratum', 'replica']);
    expect(c.args).toEqual(
      [
        '--model',
        'penguins:3',
        '--name',
        'penguins-edge',
        '--version',
        '3',
        '--host',
        '0.0.0.0',
        '--port',
        '8080',
      ].concat(['--max-batch-size', '16', '--max-queue-delay-ms', '3']),
    );
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    const parsed = parseReplicaArgs(c.args);
    expect(parsed).toMatchObject({
      name: 'penguins-edge',
      version: '3',
      host: '0.0.0.0',
      port: 8080,
      batching: { maxBatchSize: 16, maxQueueDelayMs: 3 },
    });
  });

  it('probes readiness and liveness on the OIP health routes', () => {
    const c = byKind(docs(renderKubernetes(plan()))).Deployment.spec.template.spec.containers[0];
    expect(c.readinessProbe).toEqual({
      httpGet: { path: '/v2/health/ready', port: 'http' },
      periodSeconds: 2,
      timeoutSeconds: 1,
      failureThreshold: 2,
    });
    expect(c.livenessProbe).toEqual({
      httpGet: { path: '/v2/health/live', port: 'http' },
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    });
  });

  it('asks for the plan’s resources, and a GPU limit when the plan has one', () => {
    const cpu = byKind(docs(renderKubernetes(plan()))).Deployment.spec.template.spec.containers[0];
    expect(cpu.resources).toEqual({
      requests: { cpu: '500m', memory: '192Mi' },
      limits: { cpu: '500m', memory: '192Mi' },
    });
    const objects = docs(
      renderKubernetes(plan({ resources: { $typeName: 'stratum.v1.Resources', cpus: 2, memoryMb: 4096n, gpus: 1 } })),
    );
    expect(validate(objects)).toEqual([null, null, null]);
    expect(byKind(objects).Deployment.spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: '2', memory: '4096Mi' },
      limits: { cpu: '2', memory: '4096Mi', 'nvidia.com/gpu': '1' },
    });
  });

  it('selects the Deployment’s pods from the Service and targets it from the HPA', () => {
    const {
      Deployment,
      Service,
      HorizontalPodAutoscaler: hpa,
    } = byKind(docs(renderKubernetes(plan(), { namespace: 'ml' })));
    const podLabels = Deployment.spec.template.metadata.labels;
    expect(Deployment.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'stratum-replica',
      'app.kubernetes.io/instance': 'penguins',
    });
    for (const [k, v] of Object.entries(Deployment.spec.selector.matchLabels)) expect(podLabels[k]).toBe(v);
    expect(Service.spec.selector).toEqual(Deployment.spec.selector.matchLabels);
    expect(Service.spec.ports).toEqual([
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
      { name: 'grpc', port: 8081, targetPort: 'http', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' },
    ]);
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: Deployment.metadata.name,
    });
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([1, 4]);
    expect([Deployment, Service, hpa].map((o) => o.metadata.namespace)).toEqual(['ml', 'ml', 'ml']);
    expect(Deployment.spec.replicas).toBeUndefined();
    expect(Deployment.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
  });

  it('keeps one replica under an HPA when min is 0, and says why in an annotation and a comment', () => {
    const yaml = renderKubernetes(plan({ minReplicas: 0 }));
    const objects = docs(yaml);
    expect(validate(objects)).toEqual([null, null, null]);
    const hpa = byKind(objects).HorizontalPodAutoscaler;
    expect(hpa.spec.minReplicas).toBe(1);
    expect(hpa.metadata.annotations['stratum.dev/scale-to-zero']).toBe(
      'requested; an HPA keeps at least 1 replica, going to zero needs KEDA or Knative',
    );
    expect(yaml).toContain(
      '# min replicas 0 asked: an HPA cannot scale to zero, so minReplicas is 1 here; use KEDA or Knative for zero.',
    );
    expect(
      byKind(docs(renderKubernetes(plan()))).HorizontalPodAutoscaler.metadata.annotations['stratum.dev/scale-to-zero'],
    ).toBeUndefined();
  });

  it('heads the manifests with the plan’s checks', () => {
    const yaml = renderKubernetes(
      plan({
        feasible: false,
        checks: [{ $typeName: 'stratum.v1.PlanCheck', name: 'capacity', ok: false, message: 'no ready edge worker' }],
      }),
    );
    expect(yaml.split('\n').slice(0, 3)).toEqual([
      '# Stratum deployment "penguins": model penguins v3 on tier edge.',
      '# Plan NOT feasible:',
      '# FAIL capacity: no ready edge worker',
    ]);
  });

  it('turns any deployment name into names and labels a cluster accepts', () => {
    const objects = docs(
      renderKubernetes(plan({ name: '2nd Penguins_model.v2!', modelName: 'Penguins (sklearn)', tier: 'edge' })),
    );
    expect(validate(objects)).toEqual([null, null, null]);
    expect(objects.map((o) => o.metadata.name)).toEqual([
      'd-2nd-penguins-model-v2',
      'd-2nd-penguins-model-v2',
      'd-2nd-penguins-model-v2',
    ]);
    expect(objects[0]!.metadata.labels['stratum.dev/model']).toBe('Penguins-sklearn');
    expect(objects[0]!.metadata.annotations['stratum.dev/deployment']).toBe('2nd Penguins_model.v2!');
  });
});

describe('names and quantities', () => {
  it.each([
    ['penguins', 'penguins'],
    ['Penguins V2', 'penguins-v2'],
    ['--x--', 'x'],
    ['9lives', 'd-9lives'],
    ['a'.repeat(80), 'a'.repeat(63)],
    ['', 'd'],
  ])('dnsLabel(%j) = %j', (name, label) => {
    expect(dnsLabel(name)).toBe(label);
    expect(label).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });

  it('labelValue keeps what a label value allows and trims the ends', () => {
    expect(labelValue('_model (v1)_')).toBe('model-v1');
    expect(labelValue('x'.repeat(70))).toHaveLength(63);
  });

  it('cpuQuantity writes whole cores or millicores', () => {
    expect([cpuQuantity(1), cpuQuantity(0.5), cpuQuantity(1.25), cpuQuantity(0.0001)]).toEqual([
      '1',
      '500m',
      '1250m',
      '1m',
    ]);
  });

  it('agrees with replica-main on the default batch size', () => {
    expect(DEFAULT_MAX_BATCH_SIZE).toBe(DEFAULT_BATCHING.maxBatchSize);
  });
});
