import type { NextConfig } from 'next';

const config: NextConfig = {
  // @circles/client ships TypeScript source (no build step of its own).
  transpilePackages: ['@circles/client'],
  reactStrictMode: true,
  poweredByHeader: false,
  // Served by apps/server through Next's programmatic API; no standalone output.
};

export default config;
