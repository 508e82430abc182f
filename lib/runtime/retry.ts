/**
 * Retrying calls that SageMaker refuses for a while: a busy endpoint ("Cannot update in-progress
 * endpoint") and throttling. Exponential backoff with full jitter, bounded by a deadline.
 */

export interface RetryOptions {
  /** Stop retrying at this time. */
  readonly deadline: Date;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** First delay; doubles up to `maxDelayMs`. @default 1000 */
  readonly baseDelayMs?: number;
  /** @default 30000 */
  readonly maxDelayMs?: number;
  /** Called before each wait, for logs. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Randomness for the jitter, replaceable in tests. @default Math.random */
  readonly random?: () => number;
}

/** Raised when the deadline passed while the call still failed with a retryable error. */
export class DeadlineExceededError extends Error {
  constructor(public readonly lastError: unknown, public readonly attempts: number) {
    super(`gave up after ${attempts} attempts: ${errorMessage(lastError)}`);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * A busy endpoint: SageMaker refuses updates while one is in progress, with a ValidationException
 * "Cannot update in-progress endpoint" (not in the error list of
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpointWeightsAndCapacities.html; the
 * message AWS's own SageMaker operator for Kubernetes matches, aws/amazon-sagemaker-operator-for-k8s).
 */
export function isBusyEndpoint(error: unknown): boolean {
  return errorName(error) === 'ValidationException' && /in-progress endpoint|is in progress|currently being updated/i.test(errorMessage(error));
}

/** Throttling, in any of the spellings AWS services use. */
export function isThrottling(error: unknown): boolean {
  return ['ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded'].includes(errorName(error))
    || /rate exceeded/i.test(errorMessage(error));
}

/** Errors worth another try: busy, throttled, or the service or network failing on its side. */
export function isRetryable(error: unknown): boolean {
  if (isBusyEndpoint(error) || isThrottling(error)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return ['TimeoutError', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(errorName(error))
    || ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes((error as { code?: string })?.code ?? '');
}

export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const base = options.baseDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isRetryable(error)) throw error;
      const ceiling = Math.min(max, base * 2 ** (attempt - 1));
      const delay = Math.max(1, Math.round(random() * ceiling));
      if (options.now().getTime() + delay >= options.deadline.getTime()) {
        throw new DeadlineExceededError(error, attempt);
      }
      options.onRetry?.(error, attempt, delay);
      await options.sleep(delay);
    }
  }
}

export function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? '';
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
