import * as fs from 'fs';
import * as path from 'path';
import { ListReport, renderList } from '../../lib/cli/list';

/**
 * The README shows `list` as captured against the emulator; this keeps that capture honest when
 * the rendering changes: the same report renders to exactly the README's text.
 */
test('the README\'s "list" output is what renderList prints for that report', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf-8');
  const shown = /```text\n\$ npx cdk-sagemaker-rollout list\n([\s\S]*?)\n```/.exec(readme);
  expect(shown).not.toBeNull();
  const report: ListReport = {
    endpoints: [
      { name: 'bluegreenstack-recommender-3c92e9c6', status: 'InService', strategy: 'blue/green' },
      {
        name: 'canarystack-recommender-2a8236ab', status: 'InService', strategy: 'canary', stateTable: 'CanaryStack-SageMakerRolloutStateA1B2C3D4-1XYZ2ABC3DEF',
        rollout: { status: 'active', candidateVariant: 'candidate', candidateModel: 'RecommenderV2-DeF456', percent: 25, step: { index: 2, of: 4 }, since: '2026-11-30T05:16:26.974Z' },
      },
      {
        name: 'shadowstack-recommender-77c05dca', status: 'InService', strategy: 'shadow', stateTable: 'ShadowStack-SageMakerRolloutStateE5F6A7B8-4GHI5JKL6MNO',
        rollout: { status: 'active', candidateVariant: 'shadow', candidateModel: 'RecommenderV2-PqR678', percent: 100, since: '2026-11-30T05:16:25.116Z' },
      },
      { name: 'singlemodelstack-recommender-6bc8edc8', status: 'InService', strategy: 'blue/green' },
    ],
    unmanaged: 1,
  };
  expect(renderList(report)).toBe(shown![1]);
});

test('nothing managed: one sentence', () => {
  expect(renderList({ endpoints: [], unmanaged: 0 })).toBe('No endpoints managed by cdk-sagemaker-rollout in this account and region.');
  expect(renderList({ endpoints: [], unmanaged: 2 })).toBe('No endpoints managed by cdk-sagemaker-rollout in this account and region (2 other endpoints).');
});
