import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '../../core/shared/clock.ts';
import type { Clock } from '../../ports/clock.ts';
import type { EmailMessage, Mailer } from '../../ports/mailer.ts';

/**
 * The local stand-in for SES: each message becomes an RFC 5322 `.eml` file in the
 * outbox folder (any mail client opens one), named so they sort by time. Written
 * beside and renamed, so a reader never sees half a message.
 */
export class OutboxMailer implements Mailer {
  constructor(
    private readonly options: {
      readonly dir: string;
      /** The From header, e.g. `featurelake <exports@featurelake.local>`. */
      readonly from: string;
      /** Dates the messages. @default the system clock */
      readonly clock?: Clock;
    },
  ) {}

  async send(message: EmailMessage): Promise<void> {
    if (message.to.length === 0) return;
    await mkdir(this.options.dir, { recursive: true });
    const now = (this.options.clock ?? systemClock).now();
    const id = randomUUID();
    const name = `${now.toISOString().replace(/[:.]/g, '-')}-${id}.eml`;
    const temporary = join(this.options.dir, `.${name}.tmp`);
    await writeFile(
      temporary,
      toEml(message, { from: this.options.from, date: now, messageId: `<${id}@featurelake.local>` }),
    );
    await rename(temporary, join(this.options.dir, name));
  }
}

/** Header values never carry CR or LF (addresses are validated; subjects are ours), but a fold is refused anyway. */
const headerValue = (value: string) => value.replace(/[\r\n]+/g, ' ');

/** Non-ASCII header text as an RFC 2047 encoded word. */
const encodedWord = (value: string) =>
  /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;

export function toEml(message: EmailMessage, envelope: { from: string; date: Date; messageId: string }): string {
  const headers = [
    `From: ${headerValue(envelope.from)}`,
    `To: ${message.to.map(headerValue).join(', ')}`,
    `Subject: ${encodedWord(headerValue(message.subject))}`,
    `Date: ${envelope.date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${envelope.messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${message.text.replace(/\r?\n/g, '\r\n')}\r\n`;
}
