/**
 * Why an image could not be pulled, built or pushed, in one line a deployment's FAILED reason can show.
 * `code` is the registry's error code from the OCI error body (`{"errors":[{"code","message"}]}`,
 * distribution spec; deploy spec §1.6) when the registry sent one, `HTTP_<status>` when it sent none, or
 * one of the builder's own codes: `INVALID_REFERENCE`, `UNSUPPORTED_MEDIA_TYPE`, `PLATFORM_NOT_FOUND`,
 * `DIGEST_MISMATCH`, `UNSAFE_LOCATION`, `UNREACHABLE`, `INVALID_MODEL_DIR`.
 * `retryable` follows spec §1.6: network errors, 5xx and 429 are worth a retry with backoff; everything
 * else (unknown base, denied push, invalid manifest) fails the same way again.
 */
export class OciError extends Error {
  readonly code: string;
  /** The registry's HTTP status, when the error came from a response. */
  readonly status?: number;
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { status?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OciError';
    this.code = code;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
  }
}

interface ErrorBody {
  errors?: Array<{ code?: unknown; message?: unknown; detail?: unknown }>;
}

/**
 * The OciError for a registry's failure answer. `what` names the request (`GET manifest base:1.0`),
 * `body` is the response text (may be empty, HEAD has none). Message shape:
 * `registry 127.0.0.1:5000: GET manifest base:1.0 failed: 404 MANIFEST_UNKNOWN: manifest unknown`.
 */
export function registryError(host: string, what: string, status: number, body: string): OciError {
  let code = `HTTP_${status}`;
  let detail = '';
  try {
    const first = (JSON.parse(body) as ErrorBody).errors?.[0];
    if (first && typeof first.code === 'string') {
      code = first.code;
      detail = typeof first.message === 'string' ? first.message : '';
    }
  } catch {
    detail = body.trim().split('\n')[0]?.slice(0, 200) ?? '';
  }
  const reason = detail ? `${status} ${code}: ${detail}` : `${status} ${code}`;
  const retryable = status >= 500 || status === 429;
  return new OciError(code, `registry ${host}: ${what} failed: ${reason}`, { status, retryable });
}
