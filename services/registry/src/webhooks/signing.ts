import { createHmac } from 'node:crypto';

/** MLflow's webhook headers (`mlflow/webhooks/constants.py`). */
export const SIGNATURE_HEADER = 'X-MLflow-Signature';
export const TIMESTAMP_HEADER = 'X-MLflow-Timestamp';
export const DELIVERY_ID_HEADER = 'X-MLflow-Delivery-Id';
export const SIGNATURE_VERSION = 'v1';

/**
 * MLflow's signature (Standard Webhooks style): `v1,` + base64 of HMAC-SHA256 keyed by the secret over
 * `<delivery id>.<timestamp>.<body>`, all UTF-8.
 */
export function signDelivery(secret: string, deliveryId: string, timestamp: string, body: string): string {
  const digest = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(Buffer.from(`${deliveryId}.${timestamp}.${body}`, 'utf8'))
    .digest('base64');
  return `${SIGNATURE_VERSION},${digest}`;
}

/** The headers of one delivery attempt; the signature only when the webhook has a secret. */
export function deliveryHeaders(
  deliveryId: string,
  timestamp: string,
  body: string,
  secret: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    [DELIVERY_ID_HEADER]: deliveryId,
    [TIMESTAMP_HEADER]: timestamp,
  };
  if (secret) headers[SIGNATURE_HEADER] = signDelivery(secret, deliveryId, timestamp, body);
  return headers;
}
