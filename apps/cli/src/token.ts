/**
 * The bearer token a command sends to the services: `--token`, else $KVBENCH_TOKEN. One token
 * serves writes (AUTH_TOKENS of the workload-api) and protected reads (READ_TOKEN) alike;
 * a deployment that uses different ones gives the command the one its calls need.
 */
export function bearerToken(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const flag = flags.token;
  if (typeof flag === 'string' && flag !== '') return flag;
  const fromEnv = env.KVBENCH_TOKEN?.trim();
  return fromEnv ? fromEnv : undefined;
}
