import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

/**
 * Who acts, for the audit trail: the caller's identity as AWS sees it (STS GetCallerIdentity,
 * which needs no permission), with the operator's `--as` as an extra label only. A label alone
 * could be anything; the ARN is what CloudTrail shows for the same calls.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 */
export interface CallerIdentity {
  /** `arn:aws:sts::123456789012:assumed-role/Ops/alice`. */
  readonly arn: string;
  readonly account?: string;
  /** The `--as` label, when given. */
  readonly label?: string;
}

/** Asks STS who the credentials belong to. */
export async function callerIdentity(sts: STSClient, label: string | undefined): Promise<CallerIdentity> {
  const out = await sts.send(new GetCallerIdentityCommand({}));
  if (!out.Arn) throw new Error('STS GetCallerIdentity returned no ARN: cannot record who acts');
  return { arn: out.Arn, account: out.Account, label: label === undefined || label.trim() === '' ? undefined : label.trim() };
}

/** How the audit trail names an identity: the ARN, then the label (`arn:... (as "alice")`). */
export function actorOf(identity: CallerIdentity): string {
  return identity.label ? `${identity.arn} (as "${identity.label}")` : identity.arn;
}
