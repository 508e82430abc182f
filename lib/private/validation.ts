import { Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Synth-time checks shared by every construct of the library.
 *
 * Every message names the property, the value and the allowed range, so that the person reading it
 * knows what to change without opening the source. Values that are unresolved tokens are skipped:
 * they are only known at deploy time, and CloudFormation checks them then.
 */

/**
 * SageMaker's name pattern for endpoints, endpoint configs and variants
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html).
 */
const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export function validateSageMakerName(prop: string, value: string | undefined): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (value.length > 63) {
    throw new Error(`${prop} must be at most 63 characters, got ${value.length} ("${value}")`);
  }
  if (!SAGEMAKER_NAME.test(value)) {
    throw new Error(
      `${prop} must contain only letters, digits and hyphens, and start and end with a letter or digit, got "${value}"`,
    );
  }
}

/** A whole number within [min, max]; `max` may be omitted for "at least min". */
export function validateWholeNumber(prop: string, value: number | undefined, min: number, max?: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  const range = max === undefined ? `a whole number of at least ${min}` : `a whole number between ${min} and ${max}`;
  if (!Number.isInteger(value) || value < min || (max !== undefined && value > max)) {
    throw new Error(`${prop} must be ${range}, got ${value}`);
  }
}

/** A number (not necessarily whole) within [min, max]. */
export function validateNumberInRange(prop: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${prop} must be between ${min} and ${max}, got ${value}`);
  }
}

/**
 * A duration within [min, max] seconds, in whole seconds (SageMaker takes integers).
 * Returns the number of seconds, or undefined when the duration is absent or a token.
 */
export function durationInSeconds(prop: string, value: Duration | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (value.isUnresolved()) return value.toSeconds();
  const seconds = value.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw new Error(`${prop} must be a whole number of seconds between ${min} and ${max}, got ${seconds} seconds`);
  }
  return seconds;
}

/** Exactly one of two alternative optional props (DESIGN.md: two props, never a union type). */
export function exactlyOne(propA: string, a: unknown, propB: string, b: unknown): void {
  const given = [a, b].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new Error(`give exactly one of ${propA} and ${propB}, got ${given === 0 ? 'neither' : 'both'}`);
  }
}

/**
 * Errors raised while a construct is built name it, so that the reader knows which construct to fix:
 * `Acme/Recommender: production.instanceCount must be ...`. Factories that run before any construct
 * exists (`Candidate.canary`, `TrafficShift.linear`, `RollbackAlarms.*`) throw the bare message; the
 * constructor that receives their result is where the path is known.
 *
 * Every constructor of the library wraps its body once, so that every check it runs (its own, those
 * of the strategies it binds, and any added later) comes out with its path:
 *
 *     constructor(scope: Construct, id: string, props: Props) {
 *       super(scope, id);
 *       try {
 *         ...build...
 *       } catch (error) {
 *         throw withConstructPath(this, error);
 *       }
 *     }
 *
 * An error that already names a construct (one built inside another) keeps its own path.
 */
export function withConstructPath(scope: IConstruct, error: unknown): unknown {
  if (!(error instanceof Error) || named.has(error)) return error;
  const bare = error.message;
  error.message = `${scope.node.path}: ${bare}`;
  if (typeof error.stack === 'string' && error.stack.includes(bare)) {
    error.stack = error.stack.replace(bare, error.message);
  }
  named.add(error);
  return error;
}

/** Errors whose message already starts with a construct path. */
const named = new WeakSet<Error>();

/** Throws an error that names the construct: for checks that run outside a wrapped constructor. */
export function constructError(scope: IConstruct, message: string): Error {
  return withConstructPath(scope, new Error(message)) as Error;
}
