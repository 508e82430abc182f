"""A model that fails on demand, for the integration tests of cdk-sagemaker-rollout.

Served by AWS's scikit-learn inference container, which imports this file (the module named by
SAGEMAKER_PROGRAM, found in SAGEMAKER_SUBMIT_DIRECTORY = /opt/ml/model/code) and calls
model_fn once, then input_fn -> predict_fn -> output_fn per request. An exception in any of them
becomes an HTTP 500 from the container, which SageMaker reports to the caller as a ModelError and
counts in Invocation5XXErrors and InvocationModelErrors: exactly what the rollback alarms watch.
Standard library only, so it runs in any Python 3 (the unit tests run it here, without the
container).

Behaviour:
- a request {"x": [numbers...]} is answered with {"sum": ..., "version": ...};
- a request with "fail": true raises, so a test can break a healthy model on purpose;
- a model packed with behaviour.json {"broken": true} raises on every request (the "broken"
  candidate of the rollback cases).
"""
import json
import os

BEHAVIOUR_FILE = "behaviour.json"


class RequestedFailure(RuntimeError):
    """Raised when a request asks the model to fail, or the model was built broken."""


def model_fn(model_dir):
    """Reads code/behaviour.json beside this script (written by the archive builder)."""
    path = os.path.join(model_dir, "code", BEHAVIOUR_FILE)
    if not os.path.exists(path):
        # The container sets SAGEMAKER_SUBMIT_DIRECTORY to the folder this script was loaded from.
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), BEHAVIOUR_FILE)
    with open(path, encoding="utf-8") as handle:
        behaviour = json.load(handle)
    return {
        "version": str(behaviour.get("version", "unknown")),
        "broken": bool(behaviour.get("broken", False)),
    }


def input_fn(request_body, request_content_type):
    """Accepts JSON only; the body may arrive as bytes or str."""
    if request_content_type != "application/json":
        raise ValueError("content type must be application/json, got %s" % request_content_type)
    if isinstance(request_body, (bytes, bytearray)):
        request_body = request_body.decode("utf-8")
    return json.loads(request_body)


def predict_fn(input_data, model):
    """Answers with the sum of x, unless the model is broken or the request asks for a failure."""
    if model["broken"]:
        raise RequestedFailure("model %s was built broken: every request fails" % model["version"])
    if isinstance(input_data, dict) and input_data.get("fail") is True:
        raise RequestedFailure("the request asked model %s to fail" % model["version"])
    values = input_data.get("x", []) if isinstance(input_data, dict) else []
    return {"sum": float(sum(float(v) for v in values)), "version": model["version"]}


def output_fn(prediction, accept):
    """JSON out, whatever the Accept header (the tests always ask for JSON)."""
    return json.dumps(prediction), "application/json"
