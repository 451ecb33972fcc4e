"use client";

import { FileCode2, FileUp, X } from "lucide-react";
import { useRouter } from "next/navigation";
import * as React from "react";
import { toast } from "sonner";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogHeader,
  DialogTitle,
  FormDialogFooter,
} from "@/components/ui/dialog";
import { Textarea } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { cn } from "@/lib/utils";

import { builderHref } from "../filters";
import {
  ACCEPTED_EXTENSIONS,
  MAX_DOCUMENT_BYTES,
  byteLength,
  describeImportError,
  detectFormat,
  isAcceptedFile,
  precheckDocument,
} from "../portability";
import { useImportAgent } from "../queries";

type Source = "file" | "paste";
interface PickedFile {
  name: string;
  size: number;
  text: string;
}

const PLACEHOLDER = `agentflow: 1
kind: agent
name: My agent
definition:
  nodes: []
  edges: []`;

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Import an exported agent (YAML or JSON) from a file or pasted text; the API's verdict shows inline. */
export function ImportAgentDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const router = useRouter();
  const importAgent = useImportAgent();
  const [source, setSource] = React.useState<Source>("file");
  const [file, setFile] = React.useState<PickedFile | null>(null);
  const [pasted, setPasted] = React.useState("");
  const [localError, setLocalError] = React.useState<string | null>(null);
  const [dragging, setDragging] = React.useState(false);
  const inputRef = React.useRef<HTMLInputElement>(null);

  const text = source === "file" ? (file?.text ?? "") : pasted;
  const format = detectFormat(text, source === "file" ? file?.name : null);
  const apiError = importAgent.error ? describeImportError(importAgent.error) : null;

  function close(next: boolean) {
    if (!next && !importAgent.isPending) {
      setFile(null);
      setPasted("");
      setLocalError(null);
      setSource("file");
      importAgent.reset();
    }
    onOpenChange(next);
  }

  function clearErrors() {
    setLocalError(null);
    if (importAgent.error) importAgent.reset();
  }

  async function pick(picked: File | undefined) {
    clearErrors();
    if (!picked) return;
    if (!isAcceptedFile(picked.name)) {
      setFile(null);
      setLocalError(`Choose a ${ACCEPTED_EXTENSIONS.join(", ")} file.`);
      return;
    }
    if (picked.size > MAX_DOCUMENT_BYTES) {
      setFile(null);
      setLocalError("The file is larger than 1 MB, the most the API accepts.");
      return;
    }
    setFile({ name: picked.name, size: picked.size, text: await picked.text() });
  }

  function submit(event: React.FormEvent) {
    event.preventDefault();
    const problem = precheckDocument(text, format);
    setLocalError(problem);
    if (problem) return;
    importAgent.mutate(
      { text, format },
      {
        onSuccess: (agent) => {
          toast.success(`Imported ${agent.name}`);
          router.push(builderHref(agent.id));
        },
      },
    );
  }

  return (
    <Dialog open={open} onOpenChange={close}>
      <DialogContent className="max-w-2xl">
        <form onSubmit={submit} className="grid gap-5" noValidate>
          <DialogHeader>
            <DialogTitle>Import an agent</DialogTitle>
            <DialogDescription>
              A YAML or JSON document exported from AgentFlow. Its graph becomes the new agent&apos;s draft.
            </DialogDescription>
          </DialogHeader>
          <Tabs
            value={source}
            onValueChange={(value) => {
              setSource(value as Source);
              clearErrors();
            }}
          >
            <TabsList aria-label="Import from">
              <TabsTrigger value="file">Upload a file</TabsTrigger>
              <TabsTrigger value="paste">Paste</TabsTrigger>
            </TabsList>
            <TabsContent value="file">
              <input
                ref={inputRef}
                id="import-file"
                type="file"
                accept={[...ACCEPTED_EXTENSIONS, "application/json", "application/yaml"].join(",")}
                className="sr-only"
                aria-label="Agent file"
                onChange={(event) => {
                  void pick(event.target.files?.[0]);
                  event.target.value = "";
                }}
              />
              {file ? (
                <div className="flex items-center gap-3 rounded-lg border bg-muted/30 p-3">
                  <div className="flex size-10 items-center justify-center rounded-md bg-primary/10 text-primary">
                    <FileCode2 className="size-5" aria-hidden />
                  </div>
                  <div className="min-w-0 flex-1">
                    <p className="truncate text-sm font-medium" data-testid="import-file-name">
                      {file.name}
                    </p>
                    <p className="text-xs text-muted-foreground">
                      {formatSize(file.size)} · {format.toUpperCase()}
                    </p>
                  </div>
                  <Button type="button" variant="outline" size="sm" onClick={() => inputRef.current?.click()}>
                    Replace
                  </Button>
                  <Button
                    type="button"
                    variant="ghost"
                    size="icon-sm"
                    aria-label="Remove file"
                    onClick={() => {
                      setFile(null);
                      clearErrors();
                    }}
                  >
                    <X aria-hidden />
                  </Button>
                </div>
              ) : (
                <div
                  className={cn(
                    "flex flex-col items-center justify-center gap-3 rounded-lg border border-dashed px-6 py-10 text-center transition-colors",
                    dragging && "border-primary bg-primary/5",
                  )}
                  onDragOver={(event) => {
                    event.preventDefault();
                    setDragging(true);
                  }}
                  onDragLeave={() => setDragging(false)}
                  onDrop={(event) => {
                    event.preventDefault();
                    setDragging(false);
                    void pick(event.dataTransfer.files?.[0]);
                  }}
                >
                  <div className="flex size-10 items-center justify-center rounded-full bg-muted">
                    <FileUp className="size-5 text-muted-foreground" aria-hidden />
                  </div>
                  <div className="grid gap-1">
                    <p className="text-sm font-medium">Drop a file here</p>
                    <p className="text-xs text-muted-foreground">.yaml, .yml or .json, up to 1 MB</p>
                  </div>
                  <Button type="button" variant="outline" size="sm" onClick={() => inputRef.current?.click()}>
                    Choose file
                  </Button>
                </div>
              )}
            </TabsContent>
            <TabsContent value="paste" className="grid gap-1.5">
              <div className="flex items-center justify-between">
                <Label htmlFor="import-text">Document</Label>
                {pasted.trim() && (
                  <Badge variant="secondary">
                    {format.toUpperCase()} · {formatSize(byteLength(pasted))}
                  </Badge>
                )}
              </div>
              <Textarea
                id="import-text"
                value={pasted}
                rows={12}
                spellCheck={false}
                placeholder={PLACEHOLDER}
                className="font-mono text-xs leading-relaxed"
                onChange={(event) => {
                  setPasted(event.target.value);
                  clearErrors();
                }}
              />
            </TabsContent>
          </Tabs>
          {(localError || apiError) && (
            <div
              role="alert"
              className="grid gap-1.5 rounded-md border border-destructive/30 bg-destructive/10 px-3 py-2 text-sm text-destructive"
            >
              <p className="font-medium">{localError ?? apiError?.message}</p>
              {!localError && apiError && apiError.problems.length > 0 && (
                <ul className="grid gap-0.5 text-xs">
                  {apiError.problems.map((problem, index) => (
                    <li key={index}>
                      {problem.path && <code className="font-mono font-semibold">{problem.path}</code>}
                      {problem.path && ": "}
                      {problem.message}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
          <FormDialogFooter pending={importAgent.isPending || importAgent.isSuccess} disabled={!text.trim()}>
            Import agent
          </FormDialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
