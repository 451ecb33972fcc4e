"use client";

/**
 * The builder's keyboard shortcuts. They act on the canvas, so they stay out of the way while the
 * user types in a field, and inside dialogs and menus.
 */
import * as React from "react";

export interface ShortcutHandlers {
  undo: () => void;
  redo: () => void;
  deleteSelection: () => void;
  copy: () => void;
  paste: () => void;
  selectAll: () => void;
  fitView: () => void;
  help: () => void;
}

export const SHORTCUTS: { keys: string[]; description: string }[] = [
  { keys: ["Ctrl/⌘", "Z"], description: "Undo" },
  { keys: ["Ctrl/⌘", "Shift", "Z"], description: "Redo (also Ctrl+Y)" },
  { keys: ["Delete"], description: "Delete the selected nodes and connections (also Backspace)" },
  { keys: ["Ctrl/⌘", "C"], description: "Copy the selected nodes" },
  { keys: ["Ctrl/⌘", "V"], description: "Paste them (with new ids)" },
  { keys: ["Ctrl/⌘", "A"], description: "Select everything" },
  { keys: ["F"], description: "Fit the graph in view (also Shift+1)" },
  { keys: ["Shift", "drag"], description: "Select an area" },
  { keys: ["?"], description: "Show these shortcuts" },
];

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (target as HTMLInputElement).type;
    return !["checkbox", "radio", "button", "submit", "range", "color"].includes(type);
  }
  return false;
}

/** Editing shortcuts act on the canvas: only when the focus is on it (or on nothing in particular). */
function onCanvas(target: EventTarget | null): boolean {
  return !(target instanceof HTMLElement) || target === document.body || target.closest(".react-flow") !== null;
}

const CANVAS_ONLY = new Set<keyof ShortcutHandlers>(["deleteSelection", "copy", "paste", "selectAll"]);

function inOverlay(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    target.closest('[role="dialog"], [role="alertdialog"], [role="menu"], [role="listbox"]') !== null
  );
}

/** Which action a key press asks for, or null. Pure (tested). */
export function shortcutFor(
  event: Pick<KeyboardEvent, "key" | "code" | "metaKey" | "ctrlKey" | "shiftKey" | "altKey">,
): keyof ShortcutHandlers | null {
  const mod = event.metaKey || event.ctrlKey;
  const key = event.key.toLowerCase();
  if (event.altKey) return null;
  if (mod) {
    if (key === "z") return event.shiftKey ? "redo" : "undo";
    if (key === "y") return "redo";
    if (key === "c" && !event.shiftKey) return "copy";
    if (key === "v" && !event.shiftKey) return "paste";
    if (key === "a" && !event.shiftKey) return "selectAll";
    return null;
  }
  if (key === "delete" || key === "backspace") return "deleteSelection";
  if (key === "f" && !event.shiftKey) return "fitView";
  if (event.shiftKey && event.code === "Digit1") return "fitView";
  if (key === "?") return "help";
  return null;
}

export function useShortcuts(handlers: ShortcutHandlers, enabled: boolean): void {
  const ref = React.useRef(handlers);
  React.useEffect(() => {
    ref.current = handlers;
  });
  React.useEffect(() => {
    if (!enabled) return;
    function onKeyDown(event: KeyboardEvent) {
      if (event.defaultPrevented || isTyping(event.target) || inOverlay(event.target)) return;
      const action = shortcutFor(event);
      if (!action || (CANVAS_ONLY.has(action) && !onCanvas(event.target))) return;
      // Copying text the user selected on the page is the browser's job, not ours.
      if (action === "copy" && (window.getSelection()?.toString() ?? "") !== "") return;
      event.preventDefault();
      ref.current[action]();
    }
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [enabled]);
}
