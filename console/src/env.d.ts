/** esbuild bundles CSS imported for its side effect (console/build.ts). */
declare module '*.css';
