/**
 * Gate: cfn-lint over templates with fast detection, relative and quality gates, which the example
 * app does not use: the MetricsConfig property names and values, the 10-second alarm periods and
 * the metric-math alarms must pass CloudFormation's schema as cfn-lint knows it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Candidate, Detection, ModelEndpoint, RollbackAlarms } from '../../lib';
import { PROJECT_ROOT, venvExecutable } from '../support/python-tools';
import { modelV1, modelV2, newStack } from '../unit/util';
import { runTool } from './gate-support';

test('cfn-lint finds nothing in a canary with fast detection and gates, nor in a blue/green endpoint with fast detection', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gates-lint-'));
  try {
    const canary = newStack('GatedCanary');
    new ModelEndpoint(canary, 'Recommender', {
      production: { model: modelV1(canary), instanceCount: 2 },
      candidate: Candidate.canary({ model: modelV2(canary), trafficPercent: 10 }),
      rollbackAlarms: RollbackAlarms.combine(
        RollbackAlarms.recommended({ maxLatency: Duration.millis(250), detection: Detection.FAST }),
        RollbackAlarms.relative({ maxLatencyIncreasePercent: 25 }),
        RollbackAlarms.quality({ metricNamespace: 'Recommender', metricName: 'ClickThrough', higherIsBetter: true, maxDropPercent: 10, minSamples: 200 }),
      ),
    });
    const blueGreen = newStack('FastBlueGreen');
    new ModelEndpoint(blueGreen, 'Recommender', { production: { model: modelV1(blueGreen), instanceCount: 2 }, rollbackAlarms: RollbackAlarms.recommended({ detection: Detection.FAST }) });
    const files = [canary, blueGreen].map((stack) => {
      const file = path.join(dir, `${stack.stackName}.template.json`);
      fs.writeFileSync(file, JSON.stringify(Template.fromStack(stack).toJSON(), null, 1));
      return file;
    });
    const run = await runTool(venvExecutable('cfn-lint', 'cfn-lint'), ['--config-file', path.join(PROJECT_ROOT, '.cfnlintrc.yaml'), '--format', 'json', '--', ...files]);
    expect(JSON.parse(run.stdout)).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
