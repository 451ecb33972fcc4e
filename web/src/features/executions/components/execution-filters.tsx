"use client";

import { X } from "lucide-react";

import { Button } from "@/components/ui/button";
import { Input, NativeSelect } from "@/components/ui/input";
import { FilterField } from "@/components/ui/filter-field";

import { EXECUTION_STATUSES, type ExecutionFilters, TRIGGERS, activeFilterCount } from "../filters";
import { TRIGGER_LABELS } from "../format";
import type { Agent } from "../queries";

const STATUS_LABELS: Record<string, string> = {
  queued: "Queued",
  pending: "Pending",
  running: "Running",
  waiting_approval: "Waiting approval",
  parked: "Waiting (delay)",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** Status, agent, trigger and date range; every change goes straight to the query string. */
export function ExecutionFiltersBar({
  filters,
  agents,
  onChange,
}: {
  filters: ExecutionFilters;
  agents: Agent[] | undefined;
  /** A change to merge into the filters; null clears them. */
  onChange: (patch: Partial<ExecutionFilters> | null) => void;
}) {
  const set = <K extends keyof ExecutionFilters>(key: K, value: ExecutionFilters[K] | "") =>
    onChange({ [key]: value || undefined });
  const agentMissing = filters.agent && agents && !agents.some((agent) => agent.id === filters.agent);

  return (
    <div className="mb-4 flex flex-wrap items-end gap-3" role="search" aria-label="Filter executions">
      <FilterField id="filter-status" label="Status" className="w-44">
        <NativeSelect
          id="filter-status"
          value={filters.status ?? ""}
          onChange={(event) => set("status", event.target.value as ExecutionFilters["status"])}
        >
          <option value="">All statuses</option>
          {EXECUTION_STATUSES.map((status) => (
            <option key={status} value={status}>
              {STATUS_LABELS[status] ?? status}
            </option>
          ))}
        </NativeSelect>
      </FilterField>
      <FilterField id="filter-agent" label="Agent" className="w-56">
        <NativeSelect
          id="filter-agent"
          value={filters.agent ?? ""}
          onChange={(event) => set("agent", event.target.value)}
          disabled={!agents}
        >
          <option value="">All agents</option>
          {agentMissing && <option value={filters.agent}>Selected agent</option>}
          {agents?.map((agent) => (
            <option key={agent.id} value={agent.id}>
              {agent.name}
              {agent.status === "archived" ? " (archived)" : ""}
            </option>
          ))}
        </NativeSelect>
      </FilterField>
      <FilterField id="filter-trigger" label="Trigger" className="w-40">
        <NativeSelect
          id="filter-trigger"
          value={filters.trigger ?? ""}
          onChange={(event) => set("trigger", event.target.value as ExecutionFilters["trigger"])}
        >
          <option value="">All triggers</option>
          {TRIGGERS.map((trigger) => (
            <option key={trigger} value={trigger}>
              {TRIGGER_LABELS[trigger]}
            </option>
          ))}
        </NativeSelect>
      </FilterField>
      <FilterField id="filter-from" label="From" className="w-40">
        <Input
          id="filter-from"
          type="date"
          value={filters.from ?? ""}
          max={filters.to}
          onChange={(event) => set("from", event.target.value)}
        />
      </FilterField>
      <FilterField id="filter-to" label="To" className="w-40">
        <Input
          id="filter-to"
          type="date"
          value={filters.to ?? ""}
          min={filters.from}
          onChange={(event) => set("to", event.target.value)}
        />
      </FilterField>
      {activeFilterCount(filters) > 0 && (
        <Button variant="ghost" onClick={() => onChange(null)}>
          <X aria-hidden />
          Clear filters
        </Button>
      )}
    </div>
  );
}
