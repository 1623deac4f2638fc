/**
 * The request headers Bucket's and Reflag's SDKs send, read from their published
 * builds (@reflag/browser-sdk `httpClient.post`, @bucketco/tracking-sdk's fetches):
 * a browser preflights every such call, so both the local server and the deployed
 * HTTP API must allow each of them from any origin.
 */
export const SDK_REQUEST_HEADERS = ['content-type', 'authorization', 'bucket-sdk-version', 'reflag-sdk-version'];

/** An origin no featurelake stack is ever served from. */
export const FOREIGN_ORIGIN = 'https://app.example.com';
