/**
 * Publishing to SNS with the Lambda runtime's own `@aws-sdk/client-sns` (external to the bundle),
 * imported at the first publish, so a function with no topic never loads it.
 */
export interface PublishInput {
  topicArn: string;
  subject: string;
  message: string;
}

export type Publish = (input: PublishInput) => Promise<void>;

/** A publish function over one SNSClient, made at the first publish and kept while the container is warm. */
export function snsPublisher(): Publish {
  let loading: Promise<Publish> | undefined;
  const load = async (): Promise<Publish> => {
    const sns = await import('@aws-sdk/client-sns');
    const client = new sns.SNSClient({});
    return async ({ topicArn, subject, message }) => void (await client.send(new sns.PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message })));
  };
  // A failed import must not stick: the next publish tries again.
  const publisher = () => (loading ??= load().catch((err: unknown) => {
    loading = undefined;
    throw err;
  }));
  return async (input) => (await publisher())(input);
}
