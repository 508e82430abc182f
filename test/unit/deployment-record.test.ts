import {
  configsARevertNeeds, DeploymentRecord, guardDeployment, RevertRecord, revertIdAt, revertTarget, REVERT_ID_PATTERN,
} from '../../lib/runtime/deployment-record';

/** The pure decisions behind `revert`, the revert guard and `cleanup`, on recorded deployments. */
const deployment = (configName: string, model: string, at: string): DeploymentRecord => ({
  endpointName: 'recommender', configName, models: [{ variant: 'production', model }], at, stack: 'Service',
});
// Newest first, as the log returns them.
const records = [deployment('c3', 'm3', '2026-11-30T03:00:00.000Z'), deployment('c2', 'm2', '2026-11-29T03:00:00.000Z'), deployment('c1', 'm1', '2026-11-28T03:00:00.000Z')];

const revert = (overrides: Partial<RevertRecord> = {}): RevertRecord => ({
  id: 'revert-20261130T041233Z', endpointName: 'recommender', at: '2026-11-30T04:12:33.000Z', by: 'arn:aws:sts::123456789012:assumed-role/Ops/alice',
  reason: 'p99 doubled', mode: 'all-at-once', fromConfig: 'c3', fromModels: [{ variant: 'production', model: 'm3' }],
  toConfig: 'c2', toModels: [{ variant: 'production', model: 'm2' }], templateConfig: 'c3', templateModels: [{ variant: 'production', model: 'm3' }],
  revertedModels: ['m3'], ...overrides,
});

describe('where a revert goes', () => {
  test('from the newest deployment, to the one before it', () => {
    expect(revertTarget('recommender', records, 'c3')).toEqual({ kind: 'target', target: records[1], live: records[0] });
  });

  const reverted = { ...records[1], at: '2026-11-30T04:00:00.000Z', revertId: 'revert-20261130T040000Z' };

  test('a second revert goes one deployment further back, never back to the reverted model', () => {
    expect(revertTarget('recommender', [reverted, ...records], 'c2')).toEqual({ kind: 'target', target: records[2], live: records[1] });
  });

  test('a revert after a later deployment goes back to what was really live before it, not to the model reverted away from', () => {
    const c4 = deployment('c4', 'm4', '2026-11-30T05:00:00.000Z');
    expect(revertTarget('recommender', [c4, reverted, ...records], 'c4')).toEqual({ kind: 'target', target: records[1], live: c4 });
  });

  test('a config deployed twice in a row is skipped: the target has another config', () => {
    const twice = [records[0], { ...records[0], at: '2026-11-29T12:00:00.000Z' }, records[1]];
    expect(revertTarget('recommender', twice, 'c3')).toEqual(expect.objectContaining({ target: records[1] }));
  });

  test.each<[string, DeploymentRecord[], string, string]>([
    ['nothing recorded', [], 'c3', 'no deployment of "recommender" is recorded, so there is no previous config to go back to (deployments are recorded by the post-deploy check from this version of cdk-sagemaker-rollout on, unless verifyDeployment is false)'],
    ['only one deployment', [records[0]], 'c3', 'no deployment of "recommender" before config c3 is recorded: there is no previous config to go back to'],
    ['a config nobody recorded is live', records, 'by-hand', 'endpoint "recommender" runs config by-hand, but the last recorded config is c3: the endpoint was changed outside CloudFormation and this tool, so the previous config is unknown'],
  ])('refused: %s', (_name, recorded, live, reason) => {
    expect(revertTarget('recommender', recorded, live)).toEqual({ kind: 'refused', reason });
  });
});

describe('the revert guard', () => {
  test('no revert stands: every deployment is welcome', () => {
    expect(guardDeployment(undefined, { configName: 'c4', models: [{ variant: 'production', model: 'm3' }] })).toEqual({ kind: 'allow' });
  });

  test('a new config with the reverted model (an unrelated change) is refused, saying how to proceed', () => {
    expect(guardDeployment(revert(), { configName: 'c4', models: [{ variant: 'production', model: 'm3' }] })).toEqual({
      kind: 'refuse',
      message: 'endpoint recommender was reverted at 2026-11-30T04:12:33.000Z by arn:aws:sts::123456789012:assumed-role/Ops/alice (revert-20261130T041233Z: from c3 to c2, '
        + 'reason: p99 doubled). This deployment would put the reverted model m3 back on it (config c4). Nothing was changed. To proceed, either change the model '
        + 'in the code (a fixed model ends the revert), or acknowledge the revert: set acknowledgeRevert: \'revert-20261130T041233Z\' on the ModelEndpoint and deploy again.',
    });
  });

  test('the template\'s own config again (CloudFormation updating the endpoint for its deployment settings) is refused too', () => {
    expect(guardDeployment(revert(), { configName: 'c3', models: [{ variant: 'production', model: 'm3' }] }).kind).toBe('refuse');
  });

  test('acknowledging this revert lets the model back; acknowledging another one does not', () => {
    expect(guardDeployment(revert(), { configName: 'c4', models: [{ variant: 'production', model: 'm3' }], acknowledgeRevert: 'revert-20261130T041233Z' }))
      .toEqual({ kind: 'allow', note: 'revert-20261130T041233Z is acknowledged in the code: model m3 goes back on the endpoint' });
    expect(guardDeployment(revert(), { configName: 'c4', models: [{ variant: 'production', model: 'm3' }], acknowledgeRevert: 'revert-20261101T000000Z' }).kind).toBe('refuse');
  });

  test('a different model needs no acknowledgement; the model reverted to stays welcome', () => {
    expect(guardDeployment(revert(), { configName: 'c4', models: [{ variant: 'production', model: 'm4' }] }).kind).toBe('allow');
    expect(guardDeployment(revert(), { configName: 'c5', models: [{ variant: 'production', model: 'm2' }] }).kind).toBe('allow');
  });

  test('after two reverts, both models reverted away from are kept off', () => {
    const twice = revert({ toConfig: 'c1', toModels: [{ variant: 'production', model: 'm1' }], revertedModels: ['m2', 'm3'] });
    expect(guardDeployment(twice, { configName: 'c4', models: [{ variant: 'production', model: 'm2' }] }).kind).toBe('refuse');
    expect(guardDeployment(twice, { configName: 'c4', models: [{ variant: 'production', model: 'm3' }] }).kind).toBe('refuse');
  });
});

describe('what cleanup keeps for reverts', () => {
  test('the config a revert would go back to, and the template\'s while a revert stands; never the live one twice', () => {
    expect(configsARevertNeeds('recommender', records, 'c3')).toEqual(['c2']);
    const reverted = { ...records[1], at: '2026-11-30T04:00:00.000Z', revertId: 'revert-20261130T040000Z' };
    expect(configsARevertNeeds('recommender', [reverted, ...records], 'c2')).toEqual(['c1', 'c3']);
    expect(configsARevertNeeds('recommender', [], 'c3')).toEqual([]);
  });
});

test('a revert id names the time of the revert, and has the shape acknowledgeRevert checks', () => {
  const id = revertIdAt(new Date('2026-11-30T04:12:33.456Z'));
  expect(id).toBe('revert-20261130T041233Z');
  expect(REVERT_ID_PATTERN.test(id)).toBe(true);
});
