/**
 * A secret string kept out of the code, the template and the state table:
 * Secrets Manager on AWS, a 0600 file in the home locally. The admin bearer
 * token and the download-link signing key are such secrets.
 */
export interface SecretSource {
  value(): Promise<string>;
}
