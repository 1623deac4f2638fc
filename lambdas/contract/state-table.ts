/**
 * The single DynamoDB state table. Items are keyed `pk`/`sk`; lookups by key go
 * through sparse GSIs so that creating an environment is one conditional write
 * (dynalite has no transactions, and neither do we need them).
 */
export const STATE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expires_at',
  byTrackingKey: { indexName: 'by-tracking-key', partitionKey: 'tracking_key' },
  byApiKeyHash: { indexName: 'by-api-key-hash', partitionKey: 'api_key_hash' },
} as const;
