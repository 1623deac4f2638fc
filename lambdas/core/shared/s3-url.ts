/** `s3://bucket/key/parts` → `{bucket, key}`. */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match?.[1] || !match[2]) throw new Error(`not an s3:// object URL: ${url}`);
  return { bucket: match[1], key: match[2] };
}
