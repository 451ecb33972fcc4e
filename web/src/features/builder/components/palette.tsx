"use client";

import { Search } from "lucide-react";
import * as React from "react";

import { Input } from "@/components/ui/input";
import { cn } from "@/lib/utils";

import { groupByCategory } from "../catalog";
import { NodeIcon } from "@/components/node-icon";
import { useBuilderStore } from "../store";
import type { NodeTypeInfo } from "../types";
import { PALETTE_MIME } from "./canvas";

/** The node types, by category, with search: drag one onto the canvas, or click it to add it. */
export function Palette({ onAdd }: { onAdd: (kind: string) => void }) {
  const catalog = useBuilderStore((state) => state.catalog);
  const hasTrigger = useBuilderStore((state) => state.nodes.some((node) => node.data.kind.startsWith("trigger.")));
  const [search, setSearch] = React.useState("");
  const groups = React.useMemo(() => groupByCategory(catalog, search), [catalog, search]);

  return (
    <section aria-label="Node palette" className="flex h-full min-h-0 flex-col">
      <div className="border-b p-3">
        <div className="relative">
          <Search
            className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground"
            aria-hidden
          />
          <Input
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
            placeholder="Search nodes"
            aria-label="Search nodes"
            className="h-8 pl-8"
          />
        </div>
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto p-2">
        {groups.length === 0 && (
          <p className="px-2 py-6 text-center text-sm text-muted-foreground">No node matches “{search}”.</p>
        )}
        {groups.map(([category, items]) => (
          <div key={category} className="mb-3" role="group" aria-labelledby={`palette-${category}`}>
            <h3
              id={`palette-${category}`}
              className="px-2 pt-1 pb-1.5 text-[11px] font-semibold tracking-wide text-muted-foreground uppercase"
            >
              {category}
            </h3>
            <div className="flex flex-col gap-0.5">
              {items.map((info) => (
                <PaletteItem key={info.key} info={info} onAdd={onAdd} muted={info.type === "trigger" && hasTrigger} />
              ))}
            </div>
          </div>
        ))}
      </div>
      <p className="border-t px-3 py-2 text-[11px] text-muted-foreground">Drag onto the canvas, or click to add.</p>
    </section>
  );
}

function PaletteItem({ info, onAdd, muted }: { info: NodeTypeInfo; onAdd: (kind: string) => void; muted: boolean }) {
  return (
    <button
      type="button"
      draggable
      onDragStart={(event) => {
        event.dataTransfer.setData(PALETTE_MIME, info.key);
        event.dataTransfer.effectAllowed = "copy";
      }}
      onClick={() => onAdd(info.key)}
      aria-label={info.display_name}
      aria-describedby={`palette-desc-${info.key.replace(".", "-")}`}
      title={muted ? `${info.description} — this agent already has its one trigger` : info.description}
      className={cn(
        "group flex w-full min-w-0 cursor-grab items-center gap-2.5 rounded-md px-2 py-1.5 text-left transition-colors hover:bg-accent focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none active:cursor-grabbing",
        muted && "opacity-60",
      )}
    >
      <NodeIcon icon={info.icon} family={info.type} className="size-7" iconClassName="size-3.5" />
      <span className="min-w-0 flex-1">
        <span className="block truncate text-sm font-medium">{info.display_name}</span>
        <span
          id={`palette-desc-${info.key.replace(".", "-")}`}
          className="block truncate text-xs text-muted-foreground"
        >
          {info.description}
        </span>
      </span>
    </button>
  );
}
