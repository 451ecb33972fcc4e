import type { NextConfig } from "next";

// Production: a static export (web/out) that the API process serves on its own origin, so the
// refresh cookie (SameSite=strict, path /api/v1/auth) and the API share one origin.
// `npm run dev`: the dev server proxies /api to a running API (AGENTFLOW_API_URL, default
// http://127.0.0.1:8000) to keep that same-origin shape.
const isDev = process.env.NODE_ENV === "development";
const apiUrl = process.env.AGENTFLOW_API_URL ?? "http://127.0.0.1:8000";

const config: NextConfig = {
  output: isDev ? undefined : "export",
  // Lets several builds live side by side (e.g. NEXT_DIST_DIR=.next-preview); default .next / out.
  ...(process.env.NEXT_DIST_DIR ? { distDir: process.env.NEXT_DIST_DIR } : {}),
  trailingSlash: true,
  reactStrictMode: true,
  poweredByHeader: false,
  images: { unoptimized: true },
  ...(isDev ? { rewrites: async () => [{ source: "/api/:path*", destination: `${apiUrl}/api/:path*` }] } : {}),
};

export default config;
