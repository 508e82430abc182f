/**
 * What to tell a person whose AWS setup is missing something: one line naming what to set, instead
 * of the SDK's own message ("Region is missing", "Could not load credentials from any providers"),
 * which says what failed but not what to do.
 */

/** The SDK's errors when no region or no credentials can be found. */
function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? '';
}

function errorMessage(error: unknown): string {
  return (error as { message?: string })?.message ?? String(error);
}

/**
 * One line that says what to set, when `error` is the SDK failing to find a region or credentials;
 * undefined for any other error.
 */
export function awsSetupProblem(error: unknown, env: Record<string, string | undefined>): string | undefined {
  const message = errorMessage(error);
  if (/^Region is missing/i.test(message)) {
    if (env.AWS_PROFILE) return `no AWS region (the profile "${env.AWS_PROFILE}" in AWS_PROFILE names none): pass --region <region>, or set AWS_REGION`;
    return 'no AWS region: pass --region <region>, or set AWS_REGION, or AWS_PROFILE to a profile of ~/.aws/config that has one';
  }
  if (errorName(error) === 'CredentialsProviderError' || errorName(error) === 'TokenProviderError' || /^Could not load credentials/i.test(message)) {
    if (env.AWS_PROFILE) {
      return `no AWS credentials from the profile "${env.AWS_PROFILE}" in AWS_PROFILE: check it in ~/.aws/config, run "aws sso login --profile ${env.AWS_PROFILE}" `
        + 'if it uses SSO, or set AWS_PROFILE to another profile';
    }
    return 'no AWS credentials: set AWS_PROFILE to a profile of ~/.aws/config, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  }
  return undefined;
}
