import type { EmailMessage, Mailer } from '../../ports/mailer.ts';

/**
 * The part of `@aws-sdk/client-sesv2`'s aggregated `SESv2` client this adapter
 * uses: `new SESv2({})` fits it, and a test double can too.
 */
export interface SesV2Like {
  sendEmail(input: {
    FromEmailAddress: string;
    Destination: { ToAddresses: string[] };
    Content: {
      Simple: { Subject: { Data: string; Charset: 'UTF-8' }; Body: { Text: { Data: string; Charset: 'UTF-8' } } };
    };
  }): Promise<{ MessageId?: string }>;
}

/** Email through Amazon SES (v2 API), one message per notification, every recipient in To. */
export class SesMailer implements Mailer {
  constructor(
    private readonly options: {
      readonly client: SesV2Like;
      /** A verified SES identity (address or domain) of the account and region. */
      readonly from: string;
    },
  ) {}

  async send(message: EmailMessage): Promise<void> {
    if (message.to.length === 0) return;
    await this.options.client.sendEmail({
      FromEmailAddress: this.options.from,
      Destination: { ToAddresses: [...message.to] },
      Content: {
        Simple: {
          Subject: { Data: message.subject, Charset: 'UTF-8' },
          Body: { Text: { Data: message.text, Charset: 'UTF-8' } },
        },
      },
    });
  }
}
