/**
 * UNCONFIRMED (fast detection): with enhanced metrics published every 10 seconds
 * (MetricsConfig: EnableEnhancedMetrics, MetricPublishFrequencyInSeconds 10), is the
 * endpoint/variant-level `Invocations` series, the one rollback alarms watch (no InstanceId), stored
 * at high resolution? If it is, 10-second alarms see data and detect faster; if not, they see none
 * and the standard one-minute alarms protect the endpoint exactly as before. The endpoint config is
 * set through the L1 escape hatch, so this case settles the AWS fact whatever the library's API.
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { InstanceType, ModelEndpoint } from '../../lib';
import { failingModel, Probe, settle, SteadyTraffic } from './support/kit';

const app = new App();
const stack = new Stack(app, 'IntegRolloutFastMetrics', { stackName: 'integ-rollout-fast-metrics' });
const endpointName = 'integ-rollout-fast-metrics';

const endpoint = new ModelEndpoint(stack, 'Endpoint', {
  endpointName,
  production: { model: failingModel(stack, 'V1', { version: 'v1' }), instanceType: InstanceType.of('ml.m5.large'), instanceCount: 1 },
  dashboard: false,
});
endpoint.endpointConfig.addPropertyOverride('MetricsConfig', { EnableEnhancedMetrics: true, MetricPublishFrequencyInSeconds: 10 });
new SteadyTraffic(stack, 'Traffic', { endpointName, ratePerSecond: 2 });
const probe = new Probe(stack, 'Probe', { functionName: 'integ-rollout-fast-metrics-probe' });

const integ = new IntegTest(app, 'FastMetrics', { testCases: [stack], stackUpdateWorkflow: false });
settle(integ.assertions, probe, {
  question: 'metricResolution', endpointName, variantName: endpoint.productionVariantName,
  metricName: 'Invocations', windowMinutes: 10, minDatapoints: 6,
}, Duration.minutes(20));
