import { KvbenchError, type ResultsDocument, type WorkloadDocument, type WorkloadParams, type WorkloadSummary } from '@kvbench/common';

/** REST errors from the services, with the HTTP status and the body's message kept. */
export class ApiError extends KvbenchError {
  override readonly code = 'API_ERROR';
  constructor(message: string, readonly status: number, readonly body: unknown) {
    super(message);
  }
}

async function call<T>(url: string, init: RequestInit & { token?: string | undefined } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });
  } catch (err) {
    throw new KvbenchError(`cannot reach ${url}`, { cause: err });
  }
  const text = await res.text();
  const body = text ? safeJson(text) : undefined;
  if (!res.ok) {
    const msg = (body as { message?: string } | undefined)?.message ?? text.slice(0, 300);
    throw new ApiError(`${init.method ?? 'GET'} ${url} → ${res.status}: ${msg}`, res.status, body);
  }
  return body as T;
}

const safeJson = (t: string) => {
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
};

export interface RunRequest {
  workload_id: string;
  system_label: string;
  model: string;
  [key: string]: unknown;
}

/** The two services as a user reaches them: workload-api for submitting, aggregator for results. */
export class KvbenchClient {
  constructor(
    readonly apiUrl: string,
    readonly aggregatorUrl?: string,
    private readonly token?: string,
  ) {}

  createWorkload(input: { params: Partial<WorkloadParams> } | { document: WorkloadDocument | unknown }): Promise<WorkloadSummary> {
    return call(`${this.apiUrl}/workloads`, { method: 'POST', body: JSON.stringify(input), token: this.token });
  }

  submitRun(run: RunRequest): Promise<{ run_id: string; status: string; agents_serving?: number; warning?: string }> {
    return call(`${this.apiUrl}/runs`, { method: 'POST', body: JSON.stringify(run), token: this.token });
  }

  cancelRun(runId: string): Promise<{ run_id: string; status: 'cancelled' | 'cancelling' }> {
    return call(`${this.apiUrl}/runs/${encodeURIComponent(runId)}/cancel`, { method: 'POST', token: this.token });
  }

  agents(): Promise<{ agents: { agent_id: string; system_label: string; state: unknown }[] }> {
    return call(`${this.apiUrl}/agents`, { token: this.token });
  }

  runStatus(runId: string): Promise<{ status: string; error?: string | null }> {
    return call(`${this.apiUrl}/runs/${encodeURIComponent(runId)}`, { token: this.token });
  }

  results(query: Record<string, string>): Promise<ResultsDocument> {
    if (!this.aggregatorUrl) throw new KvbenchError('no aggregator URL given (--aggregator)');
    return call(`${this.aggregatorUrl}/results?${new URLSearchParams(query)}`, { token: this.token });
  }
}
