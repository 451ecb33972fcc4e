import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { TemplateCard, templateTestId } from "./template-card";

const template = {
  id: "t-1",
  slug: "content-approval",
  name: "Blog post with human approval",
  description: "Drafts a post and waits for a person.",
  category: "Marketing",
  icon: "stamp",
  is_official: true,
  is_public: true,
  mine: false,
  install_count: 3,
  node_count: 12,
  created_at: "2026-01-01T00:00:00Z",
};

afterEach(cleanup);

describe("TemplateCard", () => {
  it("shows the template and is addressable by its slug", () => {
    render(<TemplateCard template={template} canInstall installing={false} onOpen={() => {}} onInstall={() => {}} />);
    const card = screen.getByTestId("template-content-approval");
    expect(within(card).getByText("Marketing")).toBeTruthy();
    expect(within(card).getByText("Official")).toBeTruthy();
    expect(within(card).getByText("12 steps")).toBeTruthy();
    expect(within(card).getByText("3 installs")).toBeTruthy();
  });

  it("installs from its button and opens details from its name", () => {
    const onInstall = vi.fn();
    const onOpen = vi.fn();
    render(<TemplateCard template={template} canInstall installing={false} onOpen={onOpen} onInstall={onInstall} />);
    fireEvent.click(screen.getByRole("button", { name: "Install" }));
    expect(onInstall).toHaveBeenCalledTimes(1);
    expect(onOpen).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: template.name }));
    expect(onOpen).toHaveBeenCalledTimes(1);
  });

  it("has no Install button for a role that cannot create agents", () => {
    render(
      <TemplateCard template={template} canInstall={false} installing={false} onOpen={() => {}} onInstall={() => {}} />,
    );
    expect(screen.queryByRole("button", { name: "Install" })).toBeNull();
  });

  it("falls back to the id when a template has no slug", () => {
    expect(templateTestId({ id: "t-9", slug: null })).toBe("template-t-9");
  });
});
