'use strict';
/**
 * The probe of the integration cases: answers one question about what AWS did, and tells which of
 * the documented outcomes happened. Each answer is
 *   { verdict: 'settled' | 'waiting' | 'unexpected', question, answer?, detail }
 * The case's assertion repeats the question until the verdict is 'settled' (an outcome the README
 * names) and fails on 'unexpected' (neither) or on its timeout. Every settled or unexpected answer
 * is logged as one line `SETTLED {json}`, which `npm run integ` prints at the end of the run.
 *
 * The decisions are plain functions of what was observed (exported for the unit tests); the
 * handler only gathers the observations. The AWS SDK v3 is part of the Lambda Node.js runtime.
 */

const TERMINAL_UPDATE_STATUSES = new Set(['InService', 'Failed', 'UpdateRollbackFailed', 'OutOfService']);

// ---- pure decisions --------------------------------------------------------------------------

/** Canary: rolled back when the candidate's weight is 0 and production's is above 0. */
function decideCanaryRollback(obs) {
  const candidate = obs.variants.find((v) => v.VariantName === obs.candidateVariant);
  const production = obs.variants.find((v) => v.VariantName === obs.productionVariant);
  if (!candidate || !production) {
    return { verdict: 'unexpected', detail: `variants ${obs.variants.map((v) => v.VariantName).join(', ')} lack ${obs.candidateVariant} or ${obs.productionVariant}` };
  }
  const weight = (v) => (v.DesiredWeight !== undefined ? v.DesiredWeight : v.CurrentWeight);
  if (weight(candidate) !== 0 || !(weight(production) > 0) || obs.endpointStatus !== 'InService') {
    return { verdict: 'waiting', detail: `candidate weight ${weight(candidate)}, production ${weight(production)}, endpoint ${obs.endpointStatus}` };
  }
  const alarmAt = obs.firstAlarmAt ? Date.parse(obs.firstAlarmAt) : undefined;
  const rolledBackAt = Date.parse(obs.lastModifiedTime);
  const answer = {
    rolledBack: true,
    firstAlarmAt: obs.firstAlarmAt || null,
    weightZeroBy: obs.lastModifiedTime,
    secondsFromAlarmToZeroWeight: alarmAt !== undefined ? Math.round((rolledBackAt - alarmAt) / 1000) : null,
    // From the first minute the candidate served (CloudWatch, minute precision): detection plus reaction.
    secondsFromFirstTrafficToZeroWeight: obs.trafficSince ? Math.round((rolledBackAt - Date.parse(obs.trafficSince)) / 1000) : null,
  };
  return { verdict: 'settled', answer, detail: `canary rolled back to 0 %, ${answer.secondsFromAlarmToZeroWeight} s after its first alarm` };
}

/**
 * Blue/green after a broken new model: the old fleet must serve (an answer from the old version),
 * and the stack events tell which safety net fired: CloudFormation failed the endpoint update
 * itself, or it reported success and the post-deploy check failed the deployment.
 */
function decideBlueGreen(obs) {
  if (!obs.answeredBy) {
    return { verdict: 'waiting', detail: `endpoint ${obs.endpointStatus}; no answer yet: ${obs.invokeError || 'none'}` };
  }
  if (obs.answeredBy !== obs.oldVersion) {
    return { verdict: 'unexpected', detail: `the endpoint answers with model ${obs.answeredBy}, not the old ${obs.oldVersion}: nothing rolled it back` };
  }
  const endpointFailed = obs.stackEvents.find((e) => e.ResourceType === 'AWS::SageMaker::Endpoint' && e.ResourceStatus === 'UPDATE_FAILED');
  const checkFailed = obs.stackEvents.find((e) => e.ResourceType === 'Custom::SageMakerRolloutDeployment' && /FAILED/.test(e.ResourceStatus));
  const updateStarted = obs.stackEvents.find((e) => e.ResourceType === 'AWS::SageMaker::Endpoint' && e.ResourceStatus === 'UPDATE_IN_PROGRESS');
  const seconds = (a, b) => (a && b ? Math.round((Date.parse(b.Timestamp) - Date.parse(a.Timestamp)) / 1000) : null);
  if (endpointFailed) {
    return { verdict: 'settled', answer: { oldFleetServing: true, cloudFormationOutcome: 'update-failed', reason: endpointFailed.ResourceStatusReason || '', secondsUpdateToFailure: seconds(updateStarted, endpointFailed) },
      detail: 'CloudFormation failed the endpoint update itself (the post-deploy check did not need to run)' };
  }
  if (checkFailed) {
    return { verdict: 'settled', answer: { oldFleetServing: true, cloudFormationOutcome: 'update-succeeded-check-failed', reason: checkFailed.ResourceStatusReason || '', secondsUpdateToFailure: seconds(updateStarted, checkFailed) },
      detail: 'CloudFormation reported the endpoint update as a success; the post-deploy check failed the deployment' };
  }
  return { verdict: 'unexpected', detail: `old fleet serving, but no failed endpoint update or post-deploy check in the stack events (${obs.stackEvents.length} events)` };
}

/** DescribeAlarms with a grant scoped to alarm ARNs: either it returns the alarms, or AWS demands "*". */
function decideDescribeAlarmsScope(obs) {
  if (obs.error) {
    if (/AccessDenied|not authorized/i.test(obs.error)) {
      return { verdict: 'settled', answer: { alarmScopedGrantWorks: false, error: obs.error }, detail: 'DescribeAlarms refuses a grant scoped to alarm ARNs: grant it on "*"' };
    }
    return { verdict: 'unexpected', detail: `DescribeAlarms failed for another reason: ${obs.error}` };
  }
  const missing = obs.requested.filter((name) => !obs.returned.includes(name));
  if (missing.length > 0) {
    return { verdict: 'unexpected', detail: `DescribeAlarms answered without ${missing.join(', ')}` };
  }
  return { verdict: 'settled', answer: { alarmScopedGrantWorks: true, alarms: obs.returned.length }, detail: 'DescribeAlarms works with a grant scoped to alarm ARNs' };
}

/**
 * Shadow capture: counts captured records per variant. With production weight 1 and shadow weight
 * w, the share copied is either w ("the weight is the sampling fraction") or w / (1 + w) ("weights
 * are shares of a total"); the case picks w so that the two are far apart.
 */
function decideShadowCapture(obs) {
  const production = obs.records[obs.productionVariant] || [];
  const shadow = obs.records[obs.shadowVariant] || [];
  if (production.length < obs.minRecords) {
    return { verdict: 'waiting', detail: `${production.length} production and ${shadow.length} shadow records so far (need ${obs.minRecords})` };
  }
  const ratio = shadow.length / production.length;
  const asFraction = obs.shadowWeight;
  const asShare = obs.shadowWeight / (1 + obs.shadowWeight);
  const tolerance = obs.tolerance;
  let mapping;
  if (Math.abs(ratio - asFraction) <= tolerance) mapping = 'weight-is-sampling-fraction';
  else if (Math.abs(ratio - asShare) <= tolerance) mapping = 'weights-are-shares-of-total';
  else {
    return { verdict: 'unexpected', detail: `shadow/production = ${ratio.toFixed(3)}: neither ${asFraction} (weight as fraction) nor ${asShare.toFixed(3)} (share of total)` };
  }
  // Pair the two variants' records of one request by inference id, then compare event ids.
  const shadowById = new Map(shadow.filter((r) => r.inferenceId).map((r) => [r.inferenceId, r.eventId]));
  const pairs = production.filter((r) => r.inferenceId && shadowById.has(r.inferenceId));
  const sameEventId = pairs.filter((r) => shadowById.get(r.inferenceId) === r.eventId).length;
  const eventIds = pairs.length === 0 ? 'no-pairs' : sameEventId === pairs.length ? 'same' : sameEventId === 0 ? 'different' : 'mixed';
  return {
    verdict: 'settled',
    answer: { productionRecords: production.length, shadowRecords: shadow.length, ratio: Number(ratio.toFixed(3)), mapping, pairedByInferenceId: pairs.length, eventIds },
    detail: `shadow/production = ${ratio.toFixed(3)} with shadow weight ${obs.shadowWeight}: ${mapping}; paired records have ${eventIds} event ids`,
  };
}

/** The endpoint's state-change events: do they carry EndpointName and the documented IN_SERVICE spelling? */
function decideStateChangeEvents(obs) {
  const events = obs.events.filter((e) => e && e.detail && e.detail.EndpointName === obs.endpointName);
  if (events.length === 0) {
    return { verdict: 'waiting', detail: `no SageMaker Endpoint State Change event for ${obs.endpointName} yet (${obs.events.length} recorded)` };
  }
  const statuses = [...new Set(events.map((e) => e.detail.EndpointStatus))];
  const documented = statuses.includes('IN_SERVICE');
  const other = statuses.filter((s) => s !== 'IN_SERVICE');
  if (!documented && !other.some((s) => /in.?service/i.test(String(s)))) {
    return { verdict: 'waiting', detail: `statuses so far: ${statuses.join(', ')}` };
  }
  return {
    verdict: 'settled',
    answer: { events: events.length, statuses, inServiceSpelling: documented ? 'IN_SERVICE' : other.find((s) => /in.?service/i.test(String(s))), fields: Object.keys(events[0].detail).sort() },
    detail: documented ? 'state-change events carry EndpointName and EndpointStatus IN_SERVICE, as documented' : 'state-change events spell the in-service status differently: the controller\'s rule does not match them',
  };
}

/**
 * A guarded update driven through the API (UpdateEndpoint with a DeploymentConfig): SageMaker
 * either rolls back to the old config, completes on the new one, or refuses the update.
 */
function decideGuardedUpdate(obs) {
  if (obs.refusedWith) {
    return { verdict: 'settled', answer: { outcome: 'refused', error: obs.refusedWith }, detail: `SageMaker refused the guarded update: ${obs.refusedWith}` };
  }
  if (!obs.startedAt) return { verdict: 'waiting', detail: 'update not started yet' };
  if (!TERMINAL_UPDATE_STATUSES.has(obs.endpointStatus)) {
    return { verdict: 'waiting', detail: `endpoint ${obs.endpointStatus} since the update began at ${obs.startedAt}` };
  }
  const seconds = Math.round((Date.parse(obs.lastModifiedTime) - Date.parse(obs.startedAt)) / 1000);
  if (obs.endpointConfigName === obs.targetConfigName && obs.endpointStatus === 'InService') {
    return { verdict: 'settled', answer: { outcome: 'completed', seconds }, detail: `SageMaker completed the update on ${obs.targetConfigName} in ${seconds} s` };
  }
  if (obs.endpointConfigName === obs.originalConfigName && obs.endpointStatus === 'InService') {
    return { verdict: 'settled', answer: { outcome: 'rolled-back', seconds, failureReason: obs.failureReason || '' }, detail: `SageMaker rolled the update back to ${obs.originalConfigName} in ${seconds} s` };
  }
  return { verdict: 'unexpected', detail: `endpoint ${obs.endpointStatus} on ${obs.endpointConfigName}: ${obs.failureReason || 'no reason'}` };
}

/**
 * Enhanced metrics at a 10-second interval: is the endpoint/variant-level series (no InstanceId)
 * stored at high resolution? Asked with a 10-second period, a high-resolution series has
 * datapoints between whole minutes; a standard one only on whole minutes.
 */
function decideMetricResolution(obs) {
  const stamps = obs.timestamps.map((t) => Date.parse(t));
  if (stamps.length < obs.minDatapoints) {
    return { verdict: 'waiting', detail: `${stamps.length} datapoints of ${obs.metricName} so far (need ${obs.minDatapoints})` };
  }
  const offMinute = stamps.filter((t) => (t / 1000) % 60 !== 0).length;
  const answer = { metricName: obs.metricName, datapoints: stamps.length, betweenWholeMinutes: offMinute, resolution: offMinute > 0 ? 'high-resolution' : 'one-minute' };
  return { verdict: 'settled', answer, detail: offMinute > 0
    ? `${obs.metricName} is stored at high resolution: 10-second alarms see data`
    : `${obs.metricName} is stored at one-minute resolution: 10-second alarms see no data, the standard alarms protect` };
}

// ---- observations ------------------------------------------------------------------------------

let clients;
function aws() {
  if (!clients) {
    const sm = require('@aws-sdk/client-sagemaker');
    const rt = require('@aws-sdk/client-sagemaker-runtime');
    const cw = require('@aws-sdk/client-cloudwatch');
    const cfn = require('@aws-sdk/client-cloudformation');
    const logs = require('@aws-sdk/client-cloudwatch-logs');
    const s3 = require('@aws-sdk/client-s3');
    clients = {
      sm, rt, cw, cfn, logs, s3,
      sagemaker: new sm.SageMakerClient({}), runtime: new rt.SageMakerRuntimeClient({}), cloudwatch: new cw.CloudWatchClient({}),
      cloudformation: new cfn.CloudFormationClient({}), cloudwatchLogs: new logs.CloudWatchLogsClient({}), storage: new s3.S3Client({}),
    };
  }
  return clients;
}

async function describeEndpoint(name) {
  const c = aws();
  return c.sagemaker.send(new c.sm.DescribeEndpointCommand({ EndpointName: name }));
}

async function firstAlarmAt(alarmNames) {
  const c = aws();
  let first;
  for (const name of alarmNames) {
    const history = await c.cloudwatch.send(new c.cw.DescribeAlarmHistoryCommand({ AlarmName: name, HistoryItemType: 'StateUpdate', MaxRecords: 100 }));
    for (const item of history.AlarmHistoryItems || []) {
      if (/to ALARM/.test(item.HistorySummary || '') && (!first || item.Timestamp < first)) first = item.Timestamp;
    }
  }
  return first ? new Date(first).toISOString() : undefined;
}

/** The first minute in which the variant served requests (minute precision), from CloudWatch. */
async function firstInvocationMinute(endpointName, variantName) {
  const c = aws();
  const end = new Date();
  const out = await c.cloudwatch.send(new c.cw.GetMetricDataCommand({
    StartTime: new Date(end.getTime() - 3 * 3600_000), EndTime: end, ScanBy: 'TimestampAscending',
    MetricDataQueries: [{ Id: 'i', ReturnData: true, MetricStat: { Period: 60, Stat: 'Sum', Metric: {
      Namespace: 'AWS/SageMaker', MetricName: 'Invocations',
      Dimensions: [{ Name: 'EndpointName', Value: endpointName }, { Name: 'VariantName', Value: variantName }] } } }],
  }));
  const result = out.MetricDataResults?.[0];
  const index = (result?.Values || []).findIndex((v) => v > 0);
  return index >= 0 ? new Date(result.Timestamps[index]).toISOString() : undefined;
}

async function invokeNormally(endpointName) {
  const c = aws();
  try {
    const response = await c.runtime.send(new c.rt.InvokeEndpointCommand({
      EndpointName: endpointName, ContentType: 'application/json', Accept: 'application/json', Body: Buffer.from(JSON.stringify({ x: [1, 2] })),
    }));
    return { answeredBy: JSON.parse(Buffer.from(response.Body).toString('utf8')).version };
  } catch (error) {
    return { invokeError: `${error.name}: ${error.message}` };
  }
}

async function stackEvents(stackName) {
  const c = aws();
  const events = [];
  let token;
  do {
    const page = await c.cloudformation.send(new c.cfn.DescribeStackEventsCommand({ StackName: stackName, NextToken: token }));
    events.push(...(page.StackEvents || []).map((e) => ({ ...e, Timestamp: new Date(e.Timestamp).toISOString() })));
    token = page.NextToken;
  } while (token && events.length < 1000);
  return events;
}

async function captureRecords(bucketName, prefix) {
  const c = aws();
  const byVariant = {};
  let token;
  do {
    const page = await c.storage.send(new c.s3.ListObjectsV2Command({ Bucket: bucketName, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents || []) {
      const variant = variantOfCaptureKey(object.Key, prefix);
      const body = await c.storage.send(new c.s3.GetObjectCommand({ Bucket: bucketName, Key: object.Key }));
      const text = await body.Body.transformToString();
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        const record = JSON.parse(line);
        const meta = record.eventMetadata || {};
        (byVariant[variant] = byVariant[variant] || []).push({ eventId: meta.eventId, inferenceId: meta.inferenceId });
      }
    }
    token = page.NextContinuationToken;
  } while (token);
  return byVariant;
}

/**
 * The variant a capture file belongs to. SageMaker writes
 * `<destination prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`; `endpointPrefix` is
 * everything up to and including `<endpoint>/`.
 */
function variantOfCaptureKey(key, endpointPrefix) {
  if (!key.startsWith(endpointPrefix)) throw new Error(`capture key ${key} is not under ${endpointPrefix}`);
  return key.slice(endpointPrefix.length).split('/')[0];
}

async function recordedEvents(logGroupName) {
  const c = aws();
  const out = [];
  let token;
  do {
    const page = await c.cloudwatchLogs.send(new c.logs.FilterLogEventsCommand({ logGroupName, nextToken: token }));
    for (const e of page.events || []) {
      try { out.push(JSON.parse(e.message)); } catch { /* not an event */ }
    }
    token = page.nextToken;
  } while (token && out.length < 500);
  return out;
}

const UPDATE_TAG = 'integ:update-started-at';

async function guardedUpdate(q) {
  const c = aws();
  const endpoint = await describeEndpoint(q.endpointName);
  const tags = await c.sagemaker.send(new c.sm.ListTagsCommand({ ResourceArn: endpoint.EndpointArn }));
  let startedAt = (tags.Tags || []).find((t) => t.Key === UPDATE_TAG)?.Value;
  let originalConfigName = (tags.Tags || []).find((t) => t.Key === 'integ:original-config')?.Value;
  let refusedWith;
  if (!startedAt && q.startWhenAlarmIs) {
    // The case wants its alarm in this state before the update starts.
    const out = await c.cloudwatch.send(new c.cw.DescribeAlarmsCommand({ AlarmNames: q.alarmNames }));
    const states = (out.MetricAlarms || []).map((a) => a.StateValue);
    if (states.length === 0 || states.some((s) => s !== q.startWhenAlarmIs)) {
      return { verdict: 'waiting', detail: `alarms ${states.join(', ') || 'not found'}; the update starts once they are ${q.startWhenAlarmIs}` };
    }
  }
  if (!startedAt && endpoint.EndpointStatus === 'InService') {
    originalConfigName = endpoint.EndpointConfigName;
    startedAt = new Date().toISOString();
    // Tag first: a retried question must never start a second update.
    await c.sagemaker.send(new c.sm.AddTagsCommand({ ResourceArn: endpoint.EndpointArn, Tags: [{ Key: UPDATE_TAG, Value: startedAt }, { Key: 'integ:original-config', Value: originalConfigName }] }));
    try {
      await c.sagemaker.send(new c.sm.UpdateEndpointCommand({
        EndpointName: q.endpointName,
        EndpointConfigName: q.targetConfigName,
        DeploymentConfig: {
          BlueGreenUpdatePolicy: {
            TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 },
            TerminationWaitInSeconds: q.bakeSeconds,
            MaximumExecutionTimeoutInSeconds: Math.max(1800, q.bakeSeconds + 1800),
          },
          AutoRollbackConfiguration: { Alarms: q.alarmNames.map((AlarmName) => ({ AlarmName })) },
        },
      }));
    } catch (error) {
      refusedWith = `${error.name}: ${error.message}`;
    }
    return decideGuardedUpdate({ refusedWith, startedAt, endpointStatus: 'Updating' });
  }
  return decideGuardedUpdate({
    startedAt, originalConfigName, targetConfigName: q.targetConfigName,
    endpointStatus: endpoint.EndpointStatus, endpointConfigName: endpoint.EndpointConfigName,
    lastModifiedTime: new Date(endpoint.LastModifiedTime).toISOString(), failureReason: endpoint.FailureReason,
  });
}

async function answer(q) {
  const c = () => aws();
  switch (q.question) {
    case 'canaryRollback': {
      const endpoint = await describeEndpoint(q.endpointName);
      return decideCanaryRollback({
        variants: endpoint.ProductionVariants || [], candidateVariant: q.candidateVariant, productionVariant: q.productionVariant,
        endpointStatus: endpoint.EndpointStatus, lastModifiedTime: new Date(endpoint.LastModifiedTime).toISOString(),
        firstAlarmAt: await firstAlarmAt(q.alarmNames), trafficSince: await firstInvocationMinute(q.endpointName, q.candidateVariant),
      });
    }
    case 'blueGreen': {
      const endpoint = await describeEndpoint(q.endpointName);
      return decideBlueGreen({ ...(await invokeNormally(q.endpointName)), oldVersion: q.oldVersion, endpointStatus: endpoint.EndpointStatus, stackEvents: await stackEvents(q.stackName) });
    }
    case 'describeAlarmsScope': {
      try {
        const out = await c().cloudwatch.send(new (c().cw.DescribeAlarmsCommand)({ AlarmNames: q.alarmNames }));
        return decideDescribeAlarmsScope({ requested: q.alarmNames, returned: (out.MetricAlarms || []).map((a) => a.AlarmName) });
      } catch (error) {
        return decideDescribeAlarmsScope({ requested: q.alarmNames, returned: [], error: `${error.name}: ${error.message}` });
      }
    }
    case 'shadowCapture':
      return decideShadowCapture({ ...q, records: await captureRecords(q.bucketName, `${q.prefix}${q.endpointName}/`) });
    case 'stateChangeEvents':
      return decideStateChangeEvents({ endpointName: q.endpointName, events: await recordedEvents(q.logGroupName) });
    case 'guardedUpdate':
      return guardedUpdate(q);
    case 'metricResolution': {
      const end = new Date();
      const out = await c().cloudwatch.send(new (c().cw.GetMetricDataCommand)({
        StartTime: new Date(end.getTime() - q.windowMinutes * 60_000), EndTime: end,
        MetricDataQueries: [{ Id: 'm', ReturnData: true, MetricStat: { Period: 10, Stat: 'Sum', Metric: {
          Namespace: 'AWS/SageMaker', MetricName: q.metricName,
          Dimensions: [{ Name: 'EndpointName', Value: q.endpointName }, { Name: 'VariantName', Value: q.variantName }] } } }],
      }));
      const timestamps = (out.MetricDataResults?.[0]?.Timestamps || []).map((t) => new Date(t).toISOString());
      return decideMetricResolution({ metricName: q.metricName, timestamps, minDatapoints: q.minDatapoints });
    }
    default:
      return { verdict: 'unexpected', detail: `unknown question ${JSON.stringify(q.question)}` };
  }
}

exports.decideCanaryRollback = decideCanaryRollback;
exports.decideBlueGreen = decideBlueGreen;
exports.decideDescribeAlarmsScope = decideDescribeAlarmsScope;
exports.decideShadowCapture = decideShadowCapture;
exports.decideStateChangeEvents = decideStateChangeEvents;
exports.decideGuardedUpdate = decideGuardedUpdate;
exports.decideMetricResolution = decideMetricResolution;
exports.variantOfCaptureKey = variantOfCaptureKey;
exports.handler = async (event) => {
  const result = { question: event.question, label: event.label, ...(await answer(event)) };
  if (result.verdict !== 'waiting') console.log(`SETTLED ${JSON.stringify(result)}`);
  return result;
};
