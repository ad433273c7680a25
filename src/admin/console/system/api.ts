/**
 * The admin API as the system page calls it: the ops token and operator name the console keeps in
 * this tab's sessionStorage, JSON in and out, errors as the contract's shape. Signing in and out
 * stays the console's business (console.js): a 401 here is only reported.
 */
const TOKEN_KEY = 'ow.console.token';
const NAME_KEY = 'ow.console.operator';

export interface ErrorDetail {
  path?: string;
  message: string;
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

export interface Answer<T> {
  status: number;
  data: T;
  etag: string | null;
}

export function signedInToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export async function api<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<Answer<T>> {
  const token = signedInToken();
  if (!token) throw new ApiProblem(401, 'unauthorized', '');
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json', ...extraHeaders };
  const name = sessionStorage.getItem(NAME_KEY);
  if (name) headers['X-OW-Operator'] = encodeURIComponent(name);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
  } catch (err) {
    throw new ApiProblem(0, 'network', err instanceof Error ? err.message : String(err));
  }
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const error = (data as { error?: { code?: string; message?: string; details?: ErrorDetail[] } } | null)?.error;
    if (error && typeof error.code === 'string') throw new ApiProblem(res.status, error.code, error.message ?? '', Array.isArray(error.details) ? error.details : []);
    throw new ApiProblem(res.status, 'bad_answer', text.slice(0, 200) || res.statusText);
  }
  if (data === null) throw new ApiProblem(res.status, 'bad_answer', 'The gateway answered without JSON.');
  return { status: res.status, data: data as T, etag: res.headers.get('ETag') };
}

// What the gateway answers, as far as the page reads it.

export type Role = 'viewer' | 'operator' | 'admin';

export interface SystemVersion {
  id: string;
  version: number;
  source: 'file' | 'api';
  system: Record<string, unknown>;
}

export interface VersionInfo {
  version: number;
  at: string;
  who: string;
  source: 'file' | 'api';
  summary: string;
  reason?: string;
  /** This version removed the system. */
  removed?: boolean;
  applyError?: string;
}

/** The routing table as the gateway shows it (GET /admin/routes). */
export interface RoutesVersion {
  version: number;
  source: 'file' | 'api';
  routes: Array<{ itemCode: string; targets: string[] }>;
  unrouted?: string;
}

export interface SystemStatus {
  id: string;
  name: string;
  level: string;
  protocol: string;
  paused: boolean;
  circuit?: { state: 'closed' | 'open' | 'half_open'; failures: number; openUntil?: string };
}

export interface DryRunAnswer {
  systemId: string;
  version?: number;
  proposed: boolean;
  caseId: string;
  caseSource: 'stored' | 'given' | 'sample';
  request: { endpoint: string; method: string; headers: Record<string, string>; charset: string; body: string; byteLength: number };
  reply?: { success: boolean; receiptNo?: string; error?: string; retryable: boolean };
  sealPreview?: string;
  sent: false;
}
