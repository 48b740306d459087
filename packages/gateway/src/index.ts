export * from './compose.ts';
export * from './cookies.ts';
export * from './gateway.ts';
export * from './limits.ts';
