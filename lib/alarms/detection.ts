/**
 * How fast the recommended alarms notice a broken new model.
 *
 * The README's "How fast a bad model is caught" table gives the time to detect of each, and what
 * fast detection costs.
 */
export enum Detection {
  /**
   * One-minute alarms on SageMaker's standard metrics, 2 of 3 periods: a fully broken new model
   * trips them within 4 minutes (`endpoint.timeToDetect`).
   */
  STANDARD = 'standard',
  /**
   * The standard alarms, plus 10-second alarms on the new model's error rates (2 of 3 periods,
   * within 40 seconds), fed by SageMaker's enhanced metrics published every 10 seconds
   * (`MetricsConfig` of the endpoint config). Instance-based endpoints only. Missing data never
   * breaches: if CloudWatch stores those datapoints at one-minute resolution, the endpoint is
   * exactly as protected as with `STANDARD`.
   */
  FAST = 'fast',
}
