"use client";

import { ChevronRight } from "lucide-react";
import * as React from "react";

import { cn } from "@/lib/utils";

/** A JSON value as a collapsible tree: objects and arrays fold, long strings wrap. */
export function JsonView({
  value,
  className,
  defaultDepth = 2,
}: {
  value: unknown;
  className?: string;
  defaultDepth?: number;
}) {
  return (
    <div
      className={cn("overflow-x-auto rounded-lg border bg-muted/30 p-3 font-mono text-xs leading-relaxed", className)}
    >
      <JsonNode value={value} depth={0} defaultDepth={defaultDepth} />
    </div>
  );
}

function JsonNode({
  name,
  value,
  depth,
  defaultDepth,
}: {
  name?: string;
  value: unknown;
  depth: number;
  defaultDepth: number;
}) {
  const [open, setOpen] = React.useState(depth < defaultDepth);
  const label = name !== undefined ? <span className="text-primary">{JSON.stringify(name)}: </span> : null;
  if (value === null || typeof value !== "object") {
    return (
      <div className="pl-4">
        {label}
        <Scalar value={value} />
      </div>
    );
  }
  const entries = Array.isArray(value)
    ? value.map((item, index) => [String(index), item] as const)
    : Object.entries(value);
  const [openBracket, closeBracket] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) {
    return (
      <div className="pl-4">
        {label}
        {openBracket + closeBracket}
      </div>
    );
  }
  return (
    <div className={depth > 0 ? "pl-4" : undefined}>
      <button
        type="button"
        className="-ml-4 inline-flex items-center rounded hover:bg-accent"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        <ChevronRight className={cn("size-3.5 transition-transform", open && "rotate-90")} aria-hidden />
        {label}
        <span>{openBracket}</span>
        {!open && (
          <span className="text-muted-foreground">
            {" "}
            {entries.length} {Array.isArray(value) ? "items" : "keys"} {closeBracket}
          </span>
        )}
      </button>
      {open && (
        <>
          {entries.map(([key, item]) => (
            <JsonNode
              key={key}
              name={Array.isArray(value) ? undefined : key}
              value={item}
              depth={depth + 1}
              defaultDepth={defaultDepth}
            />
          ))}
          <div>{closeBracket}</div>
        </>
      )}
    </div>
  );
}

function Scalar({ value }: { value: unknown }) {
  if (typeof value === "string")
    return <span className="whitespace-pre-wrap text-success [overflow-wrap:anywhere]">{JSON.stringify(value)}</span>;
  if (typeof value === "number") return <span className="text-amber-600 dark:text-warning">{value}</span>;
  if (typeof value === "boolean") return <span className="text-primary">{String(value)}</span>;
  return <span className="text-muted-foreground">null</span>;
}
