/**
 * Publishing the outcome to SNS with the Lambda runtime's own `@aws-sdk/client-sns` (external to
 * the bundle). The module is imported on the first publish only, so a function with no topic
 * never loads it.
 */
export interface PublishInput {
  topicArn: string;
  subject: string;
  message: string;
}

export type Publish = (input: PublishInput) => Promise<void>;

/** A publish function over one lazily created SNSClient (reused while the container is warm). */
export function snsPublisher(clientConfig: Record<string, unknown> = {}): Publish {
  let loading: Promise<Publish> | undefined;
  const load = async (): Promise<Publish> => {
    const sns = await import('@aws-sdk/client-sns');
    const client = new sns.SNSClient(clientConfig);
    return async ({ topicArn, subject, message }) => {
      await client.send(new sns.PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }));
    };
  };
  return async (input) => {
    const current = (loading ??= load());
    let publish: Publish;
    try {
      publish = await current;
    } catch (err) {
      // A failed import must not stick: the next click tries again.
      loading = undefined;
      throw err;
    }
    await publish(input);
  };
}
