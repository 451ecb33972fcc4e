import Link from "next/link";

export default function NotFound() {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-3 p-6 text-center">
      <p className="text-sm font-medium text-primary">404</p>
      <h1 className="text-2xl font-semibold">This page does not exist</h1>
      <p className="text-sm text-muted-foreground">The link may be old, or the page was moved.</p>
      <Link href="/agents/" className="text-sm font-medium text-primary underline-offset-4 hover:underline">
        Back to your agents
      </Link>
    </main>
  );
}
