export * from './cookies.ts';
export * from './gateway.ts';
export * from './limits.ts';
