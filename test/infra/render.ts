/**
 * Renders CloudFormation intrinsics to plain strings for readable assertions: pseudo parameters
 * become fixed sample values, `Ref X` becomes `<X>`, `Fn::GetAtt [X, Y]` becomes `<X.Y>`.
 */
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
};

export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return PSEUDO[v.Ref as string] ?? `<${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** A statement's Action or Resource as a list of rendered strings. */
export function renderList(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).map(render);
}
