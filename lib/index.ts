// The public API: classes, interfaces and enums only (no functions or constants), so that it stays
// jsii-friendly. Helpers the constructs share live in their modules and in lib/private/.
export { InstanceType } from './instance-type';
export { ContainerImage } from './container-image';
export type { ContainerImageConfig } from './container-image';
export { ModelData } from './model-data';
export type { ModelDataConfig, ModelDataAccessOptions } from './model-data';
export { Model } from './model';
export type { IModel, ModelProps } from './model';
export { ErrorKind } from './metrics';
export type { ErrorRateOptions, VariantMetricTarget } from './metrics';
export { RollbackAlarms } from './alarms/rollback-alarms';
export { Detection } from './alarms/detection';
export type { RollbackAlarmSet, RollbackAlarmTarget } from './alarms/alarm-set';
export type { RecommendedAlarmsOptions } from './alarms/recommended';
export type { RelativeAlarmsOptions } from './alarms/relative';
export type { QualityGateOptions } from './alarms/quality';
export { TrafficShift } from './traffic-shift';
export type { AllAtOnceOptions, CanaryShiftOptions, LinearShiftOptions, RollingUpdateOptions } from './traffic-shift';
export { CanaryPromotion } from './canary-promotion';
export type { CanaryPromotionOptions } from './canary-promotion';
export { Candidate, CandidateKind } from './candidate';
export type { CandidateVariantOptions, CanaryCandidateOptions, ShadowCandidateOptions } from './candidate';
export type { DataCaptureOptions } from './data-capture';
export { EndpointDashboard } from './endpoint-dashboard';
export type { EndpointDashboardProps } from './endpoint-dashboard';
export { ModelEndpoint } from './model-endpoint';
export type { IModelEndpoint, ModelEndpointAttributes, ModelEndpointProps, ProductionVariantOptions, ServerlessOptions } from './model-endpoint';
export { RolloutEvents } from './rollout-events';
export { ScalableInstanceCount } from './scaling/scalable-instance-count';
export type {
  InvocationsScalingProps, ProvisionedConcurrencyUtilizationScalingProps, ScalableInstanceCountProps, UtilizationScalingProps,
} from './scaling/scalable-instance-count';
export type { ProvisionedConcurrencyScalingOptions, VariantAutoScalingOptions } from './scaling/auto-scaling-options';
