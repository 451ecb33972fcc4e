import { create } from "zustand";

export type ThemeChoice = "light" | "dark" | "system";
const STORAGE_KEY = "agentflow-theme";

interface ThemeState {
  choice: ThemeChoice;
  resolved: "light" | "dark";
  setChoice: (choice: ThemeChoice) => void;
}

function resolve(choice: ThemeChoice): "light" | "dark" {
  if (choice !== "system") return choice;
  if (typeof window === "undefined") return "light";
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function initialChoice(): ThemeChoice {
  if (typeof window === "undefined") return "system";
  const stored = window.localStorage.getItem(STORAGE_KEY);
  return stored === "light" || stored === "dark" ? stored : "system";
}

export const useTheme = create<ThemeState>((set) => ({
  choice: initialChoice(),
  resolved: resolve(initialChoice()),
  setChoice: (choice) => {
    window.localStorage.setItem(STORAGE_KEY, choice);
    const resolved = resolve(choice);
    document.documentElement.classList.toggle("dark", resolved === "dark");
    set({ choice, resolved });
  },
}));

/** Runs before the first paint (inline in <head>), so a dark page never flashes white. */
export const THEME_BOOT_SCRIPT = `try{var t=localStorage.getItem(${JSON.stringify(STORAGE_KEY)});if(t==="dark"||(t!=="light"&&matchMedia("(prefers-color-scheme: dark)").matches))document.documentElement.classList.add("dark")}catch(e){}`;
