/**
 * The integration probe's decisions: for each question, the observations that settle each
 * documented outcome, the ones that mean "keep waiting", and the ones that fit neither outcome
 * (the assertion then fails and shows what AWS did).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const probe = require('../integ/support/probe-function/index.js');

describe('canary rollback', () => {
  const base = { candidateVariant: 'candidate', productionVariant: 'production', endpointStatus: 'InService', lastModifiedTime: '2026-01-01T00:10:00Z' };
  test('settles once the candidate is at 0 and production serves, with the seconds since the first alarm', () => {
    const result = probe.decideCanaryRollback({ ...base, firstAlarmAt: '2026-01-01T00:09:30Z', trafficSince: '2026-01-01T00:00:00Z',
      variants: [{ VariantName: 'production', DesiredWeight: 1 }, { VariantName: 'candidate', DesiredWeight: 0 }] });
    expect(result).toMatchObject({ verdict: 'settled', answer: { rolledBack: true, secondsFromAlarmToZeroWeight: 30, secondsFromFirstTrafficToZeroWeight: 600 } });
  });
  test('waits while the candidate still has weight', () => {
    const result = probe.decideCanaryRollback({ ...base, variants: [{ VariantName: 'production', DesiredWeight: 1 }, { VariantName: 'candidate', DesiredWeight: 1 }] });
    expect(result).toEqual({ verdict: 'waiting', detail: 'candidate weight 1, production 1, endpoint InService' });
  });
  test('is unexpected when the candidate variant is gone', () => {
    expect(probe.decideCanaryRollback({ ...base, variants: [{ VariantName: 'production', DesiredWeight: 1 }] }).verdict).toBe('unexpected');
  });
});

describe('blue/green after a broken model', () => {
  const events = (type: string, status: string, at: string, reason = '') => ({ ResourceType: type, ResourceStatus: status, Timestamp: at, ResourceStatusReason: reason });
  const started = events('AWS::SageMaker::Endpoint', 'UPDATE_IN_PROGRESS', '2026-01-01T00:00:00Z');
  test('CloudFormation failed the endpoint update itself', () => {
    const result = probe.decideBlueGreen({ answeredBy: 'v1', oldVersion: 'v1', stackEvents: [started, events('AWS::SageMaker::Endpoint', 'UPDATE_FAILED', '2026-01-01T00:20:00Z', 'rolled back')] });
    expect(result).toMatchObject({ verdict: 'settled', answer: { oldFleetServing: true, cloudFormationOutcome: 'update-failed', reason: 'rolled back', secondsUpdateToFailure: 1200 } });
  });
  test('CloudFormation reported success and the post-deploy check failed the deployment', () => {
    const result = probe.decideBlueGreen({ answeredBy: 'v1', oldVersion: 'v1', stackEvents: [started,
      events('AWS::SageMaker::Endpoint', 'UPDATE_COMPLETE', '2026-01-01T00:20:00Z'),
      events('Custom::SageMakerRolloutDeployment', 'UPDATE_FAILED', '2026-01-01T00:20:30Z', 'endpoint runs the old config')] });
    expect(result).toMatchObject({ verdict: 'settled', answer: { cloudFormationOutcome: 'update-succeeded-check-failed', secondsUpdateToFailure: 1230 } });
  });
  test('is unexpected when the broken model answers (nothing rolled back)', () => {
    expect(probe.decideBlueGreen({ answeredBy: 'v2', oldVersion: 'v1', stackEvents: [] })).toEqual({
      verdict: 'unexpected', detail: 'the endpoint answers with model v2, not the old v1: nothing rolled it back' });
  });
  test('is unexpected when the old fleet serves but no failure was recorded', () => {
    expect(probe.decideBlueGreen({ answeredBy: 'v1', oldVersion: 'v1', stackEvents: [started] }).verdict).toBe('unexpected');
  });
});

describe('DescribeAlarms scoped to alarm ARNs', () => {
  test('works: both alarms come back', () => {
    expect(probe.decideDescribeAlarmsScope({ requested: ['a', 'b'], returned: ['a', 'b'] })).toMatchObject({ verdict: 'settled', answer: { alarmScopedGrantWorks: true } });
  });
  test('refused: AWS demands "*"', () => {
    expect(probe.decideDescribeAlarmsScope({ requested: ['a'], returned: [], error: 'AccessDenied: User is not authorized to perform: cloudwatch:DescribeAlarms' }))
      .toMatchObject({ verdict: 'settled', answer: { alarmScopedGrantWorks: false } });
  });
  test('an answer without the alarms fits neither outcome', () => {
    expect(probe.decideDescribeAlarmsScope({ requested: ['a', 'b'], returned: ['a'] })).toEqual({ verdict: 'unexpected', detail: 'DescribeAlarms answered without b' });
  });
});

describe('shadow capture', () => {
  const records = (n: number, prefix: string, eventPrefix: string) => Array.from({ length: n }, (_, i) => ({ inferenceId: `${prefix}-${i}`, eventId: `${eventPrefix}-${i}` }));
  const base = { productionVariant: 'production', shadowVariant: 'shadow', shadowWeight: 0.5, minRecords: 100, tolerance: 0.08 };
  test('a ratio near the weight: the weight is the sampled fraction; shared event ids', () => {
    const result = probe.decideShadowCapture({ ...base, records: { production: records(200, 'r', 'e'), shadow: records(98, 'r', 'e') } });
    expect(result).toMatchObject({ verdict: 'settled', answer: { mapping: 'weight-is-sampling-fraction', eventIds: 'same', pairedByInferenceId: 98 } });
  });
  test('a ratio near w / (1 + w): weights are shares of a total; different event ids', () => {
    const result = probe.decideShadowCapture({ ...base, records: { production: records(300, 'r', 'p'), shadow: records(101, 'r', 's') } });
    expect(result).toMatchObject({ verdict: 'settled', answer: { mapping: 'weights-are-shares-of-total', eventIds: 'different' } });
  });
  test('waits for enough production records, and a ratio near neither is unexpected', () => {
    expect(probe.decideShadowCapture({ ...base, records: { production: records(50, 'r', 'e') } }).verdict).toBe('waiting');
    expect(probe.decideShadowCapture({ ...base, records: { production: records(200, 'r', 'e'), shadow: records(200, 'r', 'e') } }).verdict).toBe('unexpected');
  });
});

test('a capture file belongs to the variant named right after the endpoint in its key', () => {
  expect(probe.variantOfCaptureKey('capture/integ-rollout-shadow/shadow/2026/01/01/00/12-34.jsonl', 'capture/integ-rollout-shadow/')).toBe('shadow');
  expect(() => probe.variantOfCaptureKey('other/x.jsonl', 'capture/e/')).toThrow('capture key other/x.jsonl is not under capture/e/');
});

describe('endpoint state-change events', () => {
  const event = (status: string) => ({ detail: { EndpointName: 'e', EndpointStatus: status, EndpointArn: 'arn' } });
  test('the documented IN_SERVICE spelling', () => {
    expect(probe.decideStateChangeEvents({ endpointName: 'e', events: [event('UPDATING'), event('IN_SERVICE')] }))
      .toMatchObject({ verdict: 'settled', answer: { inServiceSpelling: 'IN_SERVICE', fields: ['EndpointArn', 'EndpointName', 'EndpointStatus'] } });
  });
  test('another spelling of in service', () => {
    expect(probe.decideStateChangeEvents({ endpointName: 'e', events: [event('InService')] })).toMatchObject({ verdict: 'settled', answer: { inServiceSpelling: 'InService' } });
  });
  test('waits until an event of this endpoint arrives', () => {
    expect(probe.decideStateChangeEvents({ endpointName: 'e', events: [{ detail: { EndpointName: 'other' } }] }).verdict).toBe('waiting');
  });
});

describe('guarded update driven through the API', () => {
  const base = { startedAt: '2026-01-01T00:00:00Z', originalConfigName: 'old', targetConfigName: 'new', lastModifiedTime: '2026-01-01T00:15:00Z' };
  test('rolled back to the old config, with the time it took', () => {
    expect(probe.decideGuardedUpdate({ ...base, endpointStatus: 'InService', endpointConfigName: 'old', failureReason: 'alarm' }))
      .toEqual({ verdict: 'settled', answer: { outcome: 'rolled-back', seconds: 900, failureReason: 'alarm' }, detail: 'SageMaker rolled the update back to old in 900 s' });
  });
  test('completed on the new config', () => {
    expect(probe.decideGuardedUpdate({ ...base, endpointStatus: 'InService', endpointConfigName: 'new' })).toMatchObject({ verdict: 'settled', answer: { outcome: 'completed' } });
  });
  test('refused by SageMaker', () => {
    expect(probe.decideGuardedUpdate({ refusedWith: 'ValidationException: not supported' })).toMatchObject({ verdict: 'settled', answer: { outcome: 'refused' } });
  });
  test('waits while updating; a failed endpoint is unexpected', () => {
    expect(probe.decideGuardedUpdate({ ...base, endpointStatus: 'Updating', endpointConfigName: 'old' }).verdict).toBe('waiting');
    expect(probe.decideGuardedUpdate({ ...base, endpointStatus: 'Failed', endpointConfigName: 'new' }).verdict).toBe('unexpected');
  });
});

describe('metric resolution of enhanced metrics', () => {
  const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds)).toISOString();
  test('datapoints between whole minutes: high resolution', () => {
    expect(probe.decideMetricResolution({ metricName: 'Invocations', minDatapoints: 6, timestamps: [0, 10, 20, 30, 40, 50].map(at) }))
      .toMatchObject({ verdict: 'settled', answer: { resolution: 'high-resolution', betweenWholeMinutes: 5 } });
  });
  test('datapoints only on whole minutes: one-minute resolution', () => {
    expect(probe.decideMetricResolution({ metricName: 'Invocations', minDatapoints: 6, timestamps: [0, 60, 120, 180, 240, 300].map(at) }))
      .toMatchObject({ verdict: 'settled', answer: { resolution: 'one-minute', betweenWholeMinutes: 0 } });
  });
  test('waits for enough datapoints', () => {
    expect(probe.decideMetricResolution({ metricName: 'Invocations', minDatapoints: 6, timestamps: [0, 60].map(at) }).verdict).toBe('waiting');
  });
});
