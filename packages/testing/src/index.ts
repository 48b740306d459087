export * from './client.ts';
export * from './databases.ts';
export * from './platform.ts';
export * from './services.ts';
export * from './processes.ts';
export * from './browser.ts';
export * from './s3.ts';
export * from './chat.ts';
