#!/usr/bin/env python3
"""The example app of bin/example-app.ts, in Python: one stack per strategy.

It runs on the Python package that jsii-pacmak builds from this library, and a test
(test/python/python-app.test.ts) checks that its templates equal the TypeScript app's, resource for
resource. Change both together. Image and model data come from CDK context, with placeholders that
synthesize offline:

    python3 bin/example_app.py            (with the wheel and aws-cdk-lib installed, see the README)
"""
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_sagemaker_rollout import (
    VariantAutoScalingOptions,
    CanaryPromotion,
    Candidate,
    ContainerImage,
    DataCaptureOptions,
    InstanceType,
    Model,
    ModelData,
    ModelEndpoint,
    ProductionVariantOptions,
    RollbackAlarms,
    TrafficShift,
)

PLACEHOLDER_INPUTS = {
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/recommender:1.0",
    "modelData": "s3://my-model-artifacts/recommender/1.0/model.tar.gz",
    "candidateImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/recommender:2.0",
    "candidateModelData": "s3://my-model-artifacts/recommender/2.0/model.tar.gz",
}


def inputs_from_context(app: App) -> dict:
    return {key: app.node.try_get_context(key) or default for key, default in PLACEHOLDER_INPUTS.items()}


class ExampleStack(Stack):
    """What every example stack shares: the model versions, an encryption key and an announcement topic."""

    def __init__(self, scope: Construct, id: str, *, inputs: dict) -> None:
        super().__init__(scope, id)
        self._inputs = inputs
        # One customer-managed key for the endpoint volumes, the captures and the topic. CloudWatch
        # alarms can only publish to an encrypted topic when its key lets CloudWatch use it.
        self.key = kms.Key(self, "Key", enable_key_rotation=True, description=f"{id}: SageMaker volumes and rollout announcements")
        # Only on behalf of this account's alarms (aws:SourceAccount), as the Amazon SNS guide's key policy
        # for AWS services shows: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchAlarmsOfThisAccountPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": self.account}},
        ))
        self.topic = sns.Topic(self, "Announcements", master_key=self.key, enforce_ssl=True)

    def recommender(self, version: int) -> Model:
        """Version 1 (in production today) or 2 (the new model) of the recommender."""
        return Model(
            self,
            f"RecommenderV{version}",
            image=ContainerImage.from_image_uri(self._inputs["image"] if version == 1 else self._inputs["candidateImage"]),
            model_data=ModelData.from_s3_url(self._inputs["modelData"] if version == 1 else self._inputs["candidateModelData"]),
            network_isolation=True,
        )


class SingleModelStack(ExampleStack):
    """The simplest endpoint: one model, the defaults (all-at-once with a 10-minute bake, recommended alarms)."""

    def __init__(self, scope: Construct, id: str, *, inputs: dict) -> None:
        super().__init__(scope, id, inputs=inputs)
        self.endpoint = ModelEndpoint(
            self,
            "Recommender",
            production=ProductionVariantOptions(model=self.recommender(1), instance_type=InstanceType.ML_M5_XLARGE, instance_count=2),
            encryption_key=self.key,
            notification_topic=self.topic,
        )


class BlueGreenStack(ExampleStack):
    """Blue/green: production moves to v2 in 20 % steps every 5 minutes, watched by 5xx, model-error and latency alarms; the fleet autoscales."""

    def __init__(self, scope: Construct, id: str, *, inputs: dict) -> None:
        super().__init__(scope, id, inputs=inputs)
        self.endpoint = ModelEndpoint(
            self,
            "Recommender",
            # Scales between 5 and 20 instances at 1000 requests per instance per minute; a new model
            # keeps the scaled size (the green fleet starts as large as the blue one is now).
            production=ProductionVariantOptions(
                model=self.recommender(2), instance_type=InstanceType.ML_M5_XLARGE, instance_count=5,
                auto_scaling=VariantAutoScalingOptions(
                    min_instance_count=5, max_instance_count=20, target_invocations_per_instance=1000,
                    scale_in_cooldown=Duration.minutes(10), scale_out_cooldown=Duration.minutes(2),
                ),
            ),
            traffic_shift=TrafficShift.LINEAR_20_PERCENT_EVERY_5_MINUTES,
            rollback_alarms=RollbackAlarms.recommended(max_error_rate_percent=1, max_latency=Duration.millis(250)),
            encryption_key=self.key,
            notification_topic=self.topic,
        )


class CanaryStack(ExampleStack):
    """Canary: v2 serves 10 % of traffic, promoted 10 -> 25 -> 50 -> 100 % every 30 minutes, rolled back by its alarms at any time; both variants autoscale."""

    def __init__(self, scope: Construct, id: str, *, inputs: dict) -> None:
        super().__init__(scope, id, inputs=inputs)
        self.endpoint = ModelEndpoint(
            self,
            "Recommender",
            production=ProductionVariantOptions(
                model=self.recommender(1), instance_type=InstanceType.ML_M5_XLARGE, instance_count=2,
                auto_scaling=VariantAutoScalingOptions(min_instance_count=2, max_instance_count=10, target_invocations_per_instance=1000),
            ),
            candidate=Candidate.canary(
                model=self.recommender(2),
                traffic_percent=10,
                # Scales on its own share at production's target; a rollback narrows it to one instance.
                auto_scaling=VariantAutoScalingOptions(min_instance_count=1, max_instance_count=10),
                promotion=CanaryPromotion.steps([10, 25, 50, 100], interval=Duration.minutes(30), min_invocations=500, approval_at=50),
            ),
            rollback_alarms=RollbackAlarms.recommended(max_error_rate_percent=1, max_latency=Duration.millis(250)),
            encryption_key=self.key,
            notification_topic=self.topic,
        )


class ShadowStack(ExampleStack):
    """Shadow: v2 gets a copy of every request; both models' requests and answers are captured to S3."""

    def __init__(self, scope: Construct, id: str, *, inputs: dict) -> None:
        super().__init__(scope, id, inputs=inputs)
        self.endpoint = ModelEndpoint(
            self,
            "Recommender",
            production=ProductionVariantOptions(model=self.recommender(1), instance_type=InstanceType.ML_M5_XLARGE, instance_count=2),
            candidate=Candidate.shadow(model=self.recommender(2), sampling_percent=100),
            data_capture=DataCaptureOptions(sampling_percent=100, encryption_key=self.key),
            encryption_key=self.key,
            notification_topic=self.topic,
        )


def build_example_app(app: App) -> list:
    """Every example stack, environment-agnostic so that synthesis needs no AWS account."""
    inputs = inputs_from_context(app)
    return [
        SingleModelStack(app, "SingleModelStack", inputs=inputs),
        BlueGreenStack(app, "BlueGreenStack", inputs=inputs),
        CanaryStack(app, "CanaryStack", inputs=inputs),
        ShadowStack(app, "ShadowStack", inputs=inputs),
    ]


if __name__ == "__main__":
    app = App()
    build_example_app(app)
    app.synth()
