import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import { newId } from './ids.ts';
import { migrateSchema } from './migrate.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface StoredMail extends MailMessage {
  id: string;
  createdAt: Date;
}

export interface Mailer {
  /** 'smtp' delivers to a real server; 'outbox' keeps mail in the instance for the admin to read. */
  readonly delivery: 'smtp' | 'outbox';
  send(message: MailMessage): Promise<void>;
  /** Newest first. Empty for SMTP delivery: delivered mail is not kept. */
  listOutbox(opts: { limit: number; before?: Date }): Promise<StoredMail[]>;
}

export class SmtpMailer implements Mailer {
  readonly delivery = 'smtp' as const;
  private readonly transport;
  constructor(smtpUrl: string, private readonly from: string) {
    this.transport = nodemailer.createTransport(smtpUrl);
  }
  async send(m: MailMessage): Promise<void> {
    await this.transport.sendMail({ from: this.from, to: m.to, subject: m.subject, text: m.text, html: m.html });
  }
  async listOutbox(): Promise<StoredMail[]> {
    return [];
  }
}

/** The embedded default: no SMTP server needed; the instance admin reads mail in the web app. */
export class OutboxMailer implements Mailer {
  readonly delivery = 'outbox' as const;
  private constructor(private readonly db: Kysely<any>) {}

  static async open(db: Kysely<any>): Promise<OutboxMailer> {
    await migrateSchema(
      db,
      'platform_mail',
      {
        '0001_mail_outbox': {
          async up(db) {
            await sql`create table platform_mail.outbox (
              id uuid primary key,
              to_address text not null,
              subject text not null,
              text_body text not null,
              html_body text,
              created_at timestamptz not null default now()
            )`.execute(db);
            await sql`create index outbox_created_at on platform_mail.outbox (created_at desc)`.execute(db);
          },
        },
      },
      { withPlatformTables: false },
    );
    return new OutboxMailer(db);
  }

  async send(m: MailMessage): Promise<void> {
    await this.db.insertInto('platform_mail.outbox').values({ id: newId(), to_address: m.to, subject: m.subject, text_body: m.text, html_body: m.html ?? null }).execute();
  }

  async listOutbox(opts: { limit: number; before?: Date }): Promise<StoredMail[]> {
    let q = this.db.selectFrom('platform_mail.outbox').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(opts.limit);
    if (opts.before) q = q.where('created_at', '<', opts.before);
    const rows = await q.execute();
    return rows.map((r) => ({ id: r.id, to: r.to_address, subject: r.subject, text: r.text_body, html: r.html_body ?? undefined, createdAt: new Date(r.created_at) }));
  }
}
