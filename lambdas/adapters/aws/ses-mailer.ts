import type { EmailMessage, Mailer } from '../../ports/mailer.ts';

/**
 * The part of `@aws-sdk/client-sesv2`'s aggregated `SESv2` client this adapter
 * uses, typed here so the adapter compiles without the package: `new SESv2({})`
 * fits it as is.
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

/**
 * A stopgap until `@aws-sdk/client-sesv2` is a dependency: the client is imported
 * on first use, by a name esbuild does not follow, so the bundle builds without
 * it. Whether the Lambda runtime's own SDK copy resolves from an ESM bundle is not
 * something to count on (the functions bundle their pinned SDK), and a failed send
 * is only logged by the export (the job still completes). Once the package is
 * added, pass `new SESv2({})` to SesMailer and delete this.
 */
export function lazySesV2Client(): SesV2Like {
  let client: Promise<SesV2Like> | undefined;
  return {
    sendEmail: async (input) => {
      client ??= (async () => {
        const moduleName = '@aws-sdk/client-sesv2';
        const { SESv2 } = (await import(moduleName)) as { SESv2: new (config: object) => SesV2Like };
        return new SESv2({});
      })();
      return (await client).sendEmail(input);
    },
  };
}
