"use client";

/**
 * Autosave of the draft: every change to the graph schedules a save ~800 ms after the last one
 * (`PUT /agents/{id}/draft` with the revision it started from). One save at a time; edits made
 * while a save is in flight are saved right after. A 409 DRAFT_CONFLICT stops saving until the
 * user reloads theirs or overwrites with theirs. The saved draft's issues become the canvas's.
 */
import { toast } from "sonner";
import { create } from "zustand";

import { api, unwrap } from "@/lib/api/client";
import { ApiError, errorMessage } from "@/lib/api/errors";

import { fetchDraft, issuesOf } from "./queries";
import { useBuilderStore } from "./store";
import type { Issue } from "./types";

export const AUTOSAVE_DELAY_MS = 800;
const RETRY_DELAY_MS = 5000;

export type SaveStatus = "saved" | "pending" | "saving" | "error" | "conflict";

export interface SaveState {
  agentId: string | null;
  status: SaveStatus;
  /** The draft revision the next save starts from. */
  revision: number;
  /** The builder's changeSeq that the server has. */
  savedSeq: number;
  savedAt: number | null;
  error: string | null;
  conflict: { currentRevision: number | null } | null;
}

export const useSaveStore = create<SaveState>(() => ({
  agentId: null,
  status: "saved",
  revision: 0,
  savedSeq: 0,
  savedAt: null,
  error: null,
  conflict: null,
}));

let timer: ReturnType<typeof setTimeout> | undefined;
let inflight: Promise<boolean> | null = null;
let unsubscribe: (() => void) | null = null;
/** The newest revision each agent's draft is known to have (kept even after the page is left). */
const knownRevisions = new Map<string, number>();

function clearTimer(): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
}

/** Whether the server lacks some of the user's changes. */
export function hasUnsavedChanges(): boolean {
  const save = useSaveStore.getState();
  return save.agentId !== null && useBuilderStore.getState().changeSeq !== save.savedSeq;
}

function schedule(delay = AUTOSAVE_DELAY_MS): void {
  const save = useSaveStore.getState();
  if (!save.agentId || save.conflict || useBuilderStore.getState().readOnly) return;
  if (!hasUnsavedChanges()) return;
  if (save.status !== "saving") useSaveStore.setState({ status: "pending" });
  clearTimer();
  timer = setTimeout(() => void saveNow(), delay);
}

/** Start autosaving this agent's draft, which was just loaded at `revision`. */
export function startAutosave(agentId: string, revision: number): void {
  stopAutosave();
  useSaveStore.setState({
    agentId,
    status: "saved",
    revision,
    savedSeq: useBuilderStore.getState().changeSeq,
    savedAt: null,
    error: null,
    conflict: null,
  });
  unsubscribe = useBuilderStore.subscribe((state, previous) => {
    if (state.changeSeq !== previous.changeSeq) schedule();
  });
}

export function stopAutosave(): void {
  clearTimer();
  unsubscribe?.();
  unsubscribe = null;
}

/** After the draft is loaded anew (reload, restore): the server has exactly what is on screen. */
export function markLoaded(revision: number): void {
  clearTimer();
  useSaveStore.setState({
    status: "saved",
    revision,
    savedSeq: useBuilderStore.getState().changeSeq,
    savedAt: Date.now(),
    error: null,
    conflict: null,
  });
}

/** Save now (waiting for a save in flight first). True when the server has every change. */
export async function saveNow(): Promise<boolean> {
  clearTimer();
  if (inflight) await inflight;
  const save = useSaveStore.getState();
  const builder = useBuilderStore.getState();
  if (!save.agentId || save.conflict) return false;
  if (builder.readOnly) return true;
  const seq = builder.changeSeq;
  if (seq === save.savedSeq) {
    if (save.status !== "saved") useSaveStore.setState({ status: "saved", error: null });
    return true;
  }
  const agentId = save.agentId;
  const definition = builder.definition();
  useSaveStore.setState({ status: "saving" });
  inflight = (async () => {
    try {
      const draft = await unwrap(
        api.PUT("/api/v1/agents/{agent_id}/draft", {
          params: { path: { agent_id: agentId } },
          body: { definition: definition as unknown as Record<string, unknown>, revision: save.revision },
        }),
      );
      knownRevisions.set(agentId, draft.revision);
      if (useSaveStore.getState().agentId !== agentId) return false;
      useSaveStore.setState({ revision: draft.revision, savedSeq: seq, savedAt: Date.now(), error: null });
      useBuilderStore.getState().setIssues(draft.issues as Issue[]);
      return true;
    } catch (error) {
      if (useSaveStore.getState().agentId !== agentId) return false;
      if (error instanceof ApiError && error.status === 409) {
        const current = error.details.current_revision;
        useSaveStore.setState({
          status: "conflict",
          error: error.message,
          conflict: { currentRevision: typeof current === "number" ? current : null },
        });
        return false;
      }
      const issues = issuesOf(error);
      if (issues) useBuilderStore.getState().setIssues(issues);
      useSaveStore.setState({ status: "error", error: errorMessage(error) });
      // A broken structure stays broken until the next edit; anything else is worth a retry.
      if (!issues) {
        clearTimer();
        timer = setTimeout(() => void saveNow(), RETRY_DELAY_MS);
      }
      return false;
    } finally {
      inflight = null;
    }
  })();
  const ok = await inflight;
  if (ok) {
    if (hasUnsavedChanges()) schedule();
    else useSaveStore.setState({ status: "saved" });
  }
  return ok;
}

/**
 * Leaving the builder: stop autosaving and send what the server does not have yet, taken from the
 * graph right now (the page is about to reset it), after any save still in flight.
 */
export function leaveAutosave(): void {
  clearTimer();
  unsubscribe?.();
  unsubscribe = null;
  const save = useSaveStore.getState();
  const builder = useBuilderStore.getState();
  const agentId = save.agentId;
  const pending = agentId !== null && hasUnsavedChanges() && !save.conflict && !builder.readOnly;
  const definition = pending ? builder.definition() : null;
  useSaveStore.setState({ agentId: null, status: "saved" });
  if (!agentId || !definition) return;
  void (async () => {
    if (inflight) await inflight;
    const revision = knownRevisions.get(agentId) ?? save.revision;
    try {
      const draft = await unwrap(
        api.PUT("/api/v1/agents/{agent_id}/draft", {
          params: { path: { agent_id: agentId } },
          body: { definition: definition as unknown as Record<string, unknown>, revision },
        }),
      );
      knownRevisions.set(agentId, draft.revision);
    } catch (error) {
      toast.error(`Your last changes could not be saved: ${errorMessage(error)}`);
    }
  })();
}

/** Resolve a conflict by taking the server's draft (the caller reloads the canvas with it). */
export async function takeTheirs(agentId: string) {
  const draft = await fetchDraft(agentId);
  return draft;
}

/** Resolve a conflict by saving what is on screen over the server's newer draft. */
export async function overwriteTheirs(): Promise<boolean> {
  const save = useSaveStore.getState();
  if (!save.agentId) return false;
  const revision = (await fetchDraft(save.agentId)).revision;
  useSaveStore.setState({ conflict: null, revision, status: "pending", savedSeq: -1 });
  return saveNow();
}
