/** The local stack's fixed names: its one DynamoDB table and its S3 buckets. */
export const LOCAL_STATE_TABLE = 'featurelake-state';
export const LOCAL_EXPORTS_BUCKET = 'featurelake-exports';
/** Where the local Athena stand-in writes query results, as Athena writes to the workgroup's bucket. */
export const LOCAL_RESULTS_BUCKET = 'featurelake-query-results';
