import { act, cleanup, fireEvent, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { api } from "@/lib/api/client";

import { answer, failure, renderWithClient } from "../../settings/test-utils";
import { ImportAgentDialog } from "./import-agent-dialog";

vi.mock("@/lib/api/client", async (importActual) => {
  const actual = await importActual<typeof import("@/lib/api/client")>();
  return { ...actual, api: { GET: vi.fn(), POST: vi.fn(), PUT: vi.fn(), DELETE: vi.fn() } };
});
const push = vi.fn();
vi.mock("next/navigation", () => ({ useRouter: () => ({ push }) }));
vi.mock("sonner", () => ({ toast: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn() }) }));

const post = vi.mocked(api.POST);

function paste(text: string) {
  // Radix tabs switch on mousedown, not click.
  fireEvent.mouseDown(screen.getByRole("tab", { name: "Paste" }));
  fireEvent.change(screen.getByLabelText("Document"), { target: { value: text } });
}

beforeEach(() => {
  post.mockReset();
  push.mockReset();
});
afterEach(cleanup);

describe("ImportAgentDialog", () => {
  it("catches broken JSON without calling the API", () => {
    renderWithClient(<ImportAgentDialog open onOpenChange={() => {}} />);
    paste('{"name": "x",');
    fireEvent.click(screen.getByRole("button", { name: "Import agent" }));
    expect(screen.getByRole("alert").textContent).toMatch(/not valid JSON/);
    expect(post).not.toHaveBeenCalled();
  });

  it("shows the API's validation errors field by field", async () => {
    post.mockReturnValue(
      failure(422, {
        error: {
          code: "INVALID_DOCUMENT",
          message: "The document is invalid",
          details: { fields: [{ loc: ["definition"], message: "Field required", type: "missing" }] },
        },
      }) as never,
    );
    renderWithClient(<ImportAgentDialog open onOpenChange={() => {}} />);
    paste("name: Only a name\n");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Import agent" })));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The document is invalid");
    expect(alert.textContent).toContain("definition: Field required");
  });

  it("sends the raw YAML with its content type, then opens the builder", async () => {
    post.mockReturnValue(answer({ id: "a-1", name: "Imported" }, 201) as never);
    renderWithClient(<ImportAgentDialog open onOpenChange={() => {}} />);
    const yaml = "agentflow: 1\nname: Imported\ndefinition:\n  nodes: []\n  edges: []\n";
    paste(yaml);
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Import agent" })));
    expect(post).toHaveBeenCalledTimes(1);
    const [path, options] = post.mock.calls[0] as unknown as [
      string,
      { body: string; headers: Record<string, string>; bodySerializer: (body: unknown) => unknown },
    ];
    expect(path).toBe("/api/v1/agents/import");
    expect(options.headers["Content-Type"]).toBe("application/yaml");
    expect(options.bodySerializer(options.body)).toBe(yaml);
    expect(push).toHaveBeenCalledWith("/agents/builder/?id=a-1");
  });

  it("reads a chosen file and sends JSON as JSON", async () => {
    post.mockReturnValue(answer({ id: "a-2", name: "From file" }, 201) as never);
    renderWithClient(<ImportAgentDialog open onOpenChange={() => {}} />);
    const json = '{"name": "From file", "definition": {"nodes": [], "edges": []}}';
    const file = new File([json], "agent.json", { type: "application/json" });
    await act(async () => fireEvent.change(screen.getByLabelText("Agent file"), { target: { files: [file] } }));
    expect((await screen.findByTestId("import-file-name")).textContent).toBe("agent.json");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Import agent" })));
    const [, options] = post.mock.calls[0] as unknown as [string, { headers: Record<string, string>; body: string }];
    expect(options.headers["Content-Type"]).toBe("application/json");
    expect(options.body).toBe(json);
  });

  it("refuses files that are not YAML or JSON", async () => {
    renderWithClient(<ImportAgentDialog open onOpenChange={() => {}} />);
    const file = new File(["hello"], "notes.txt", { type: "text/plain" });
    await act(async () => fireEvent.change(screen.getByLabelText("Agent file"), { target: { files: [file] } }));
    expect(screen.getByRole("alert").textContent).toMatch(/\.yaml, \.yml, \.json/);
  });
});
