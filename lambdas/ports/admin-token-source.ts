/** Where the admin bearer token lives (Secrets Manager on AWS, a file locally). */
export interface AdminTokenSource {
  token(): Promise<string>;
}
