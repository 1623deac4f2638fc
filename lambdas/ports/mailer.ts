/** A plain-text notification to some addresses. */
export interface EmailMessage {
  readonly to: readonly string[];
  readonly subject: string;
  /** Lines separated by `\n`. */
  readonly text: string;
}

/** Sends email (SES on AWS, `.eml` files in the outbox folder locally). */
export interface Mailer {
  send(message: EmailMessage): Promise<void>;
}
