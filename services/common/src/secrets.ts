/**
 * Secrets never reach logs or error messages: a URI's password (`postgresql://user:***@host/db`) and
 * known secret query parameters are masked wherever a URI is printed.
 */

const SECRET_QUERY_PARAMETERS =
  /([?&](?:password|sslpassword|secret|token|access_key|secret_key|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&\s'"]*/gi;

/** Masks the password of every `scheme://user:password@` in a text, and secret query parameters. */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^/\s:@'"]*:)[^\s'"/]*@/gi, '$1***@')
    .replace(SECRET_QUERY_PARAMETERS, '$1***');
}
