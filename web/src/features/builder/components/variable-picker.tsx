"use client";

import * as Popover from "@radix-ui/react-popover";
import { Braces, Search } from "lucide-react";
import * as React from "react";

import { Input } from "@/components/ui/input";

import { useRunStore } from "../run-store";
import type { TemplateField } from "../schema-form/schema-form";
import { useBuilderStore } from "../store";
import { insertReference, type VariableGroup, variablesFor } from "../variables";

/** The `{}` button beside a template field: lists what the node can reference, inserts it at the cursor. */
export function VariablePicker({ nodeId, field }: { nodeId: string; field: TemplateField }) {
  const [open, setOpen] = React.useState(false);
  const [filter, setFilter] = React.useState("");
  const [groups, setGroups] = React.useState<VariableGroup[]>([]);

  function onOpenChange(next: boolean) {
    if (next) {
      // Computed on open, from the graph as it is now: no work while the user only types.
      const { nodes, edges, catalog } = useBuilderStore.getState();
      const samples: Record<string, unknown> = {};
      for (const [id, run] of Object.entries(useRunStore.getState().view.nodes)) samples[id] = run.output;
      setGroups(variablesFor(nodeId, nodes, edges, catalog, samples));
      setFilter("");
    }
    setOpen(next);
  }

  function insert(expression: string) {
    const element = document.getElementById(field.id) as HTMLInputElement | HTMLTextAreaElement | null;
    const { text, cursor } = insertReference(
      field.value,
      expression,
      element?.selectionStart ?? null,
      element?.selectionEnd ?? null,
    );
    field.onChange(text);
    setOpen(false);
    requestAnimationFrame(() => {
      const target = document.getElementById(field.id) as HTMLInputElement | HTMLTextAreaElement | null;
      target?.focus();
      target?.setSelectionRange(cursor, cursor);
    });
  }

  const needle = filter.trim().toLowerCase();
  const shown = groups
    .map((group) => ({
      ...group,
      options: group.options.filter(
        (option) =>
          !needle || option.expression.toLowerCase().includes(needle) || group.label.toLowerCase().includes(needle),
      ),
    }))
    .filter((group) => group.options.length > 0);

  return (
    <Popover.Root open={open} onOpenChange={onOpenChange}>
      <Popover.Trigger
        type="button"
        className="inline-flex h-6 shrink-0 items-center gap-1 rounded-md border px-1.5 text-[11px] font-medium text-muted-foreground transition-colors hover:bg-accent hover:text-accent-foreground focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none disabled:opacity-50"
        aria-label={`Insert a variable into ${field.label}`}
        title="Insert a variable"
      >
        <Braces className="size-3" aria-hidden />
        Variable
      </Popover.Trigger>
      <Popover.Portal>
        <Popover.Content
          align="end"
          sideOffset={6}
          className="z-50 w-80 rounded-lg border bg-popover p-0 text-popover-foreground shadow-lg"
          onOpenAutoFocus={(event) => {
            event.preventDefault();
            document.getElementById(`${field.id}-variable-filter`)?.focus();
          }}
        >
          <div className="relative border-b p-2">
            <Search
              className="pointer-events-none absolute top-1/2 left-4 size-3.5 -translate-y-1/2 text-muted-foreground"
              aria-hidden
            />
            <Input
              id={`${field.id}-variable-filter`}
              value={filter}
              onChange={(event) => setFilter(event.target.value)}
              placeholder="Filter variables"
              aria-label="Filter variables"
              className="h-8 pl-7 text-xs"
              onKeyDown={(event) => {
                const first = shown[0]?.options[0];
                if (event.key === "Enter" && first) {
                  event.preventDefault();
                  insert(first.expression);
                }
              }}
            />
          </div>
          <div className="max-h-80 overflow-y-auto p-1" role="listbox" aria-label="Variables">
            {shown.length === 0 && (
              <p className="px-2 py-4 text-center text-xs text-muted-foreground">Nothing matches.</p>
            )}
            {shown.map((group) => (
              <div key={group.id} role="group" aria-label={group.label} className="mb-1">
                <p className="truncate px-2 pt-1.5 pb-1 text-[11px] font-semibold text-muted-foreground">
                  {group.label}
                </p>
                {group.options.map((option) => (
                  <button
                    key={option.expression}
                    type="button"
                    role="option"
                    aria-selected={false}
                    className="flex w-full items-baseline justify-between gap-2 rounded-md px-2 py-1 text-left hover:bg-accent focus-visible:bg-accent focus-visible:outline-none"
                    onClick={() => insert(option.expression)}
                  >
                    <code className="truncate font-mono text-xs">{`{{${option.expression}}}`}</code>
                    {option.hint && <span className="shrink-0 text-[11px] text-muted-foreground">{option.hint}</span>}
                  </button>
                ))}
              </div>
            ))}
          </div>
          {groups.length <= 2 && (
            <p className="border-t px-3 py-2 text-[11px] text-muted-foreground">
              Connect earlier steps to this node to use their outputs.
            </p>
          )}
        </Popover.Content>
      </Popover.Portal>
    </Popover.Root>
  );
}
