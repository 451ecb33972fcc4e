"use client";

import * as React from "react";

import type { Catalog } from "./types";

/**
 * What every canvas node needs and what rarely changes: the catalog and whether the graph is
 * read-only. Handed down by context, so the nodes do not subscribe to the graph store (which
 * changes on every drag frame).
 */
export interface CanvasContextValue {
  catalog: Catalog;
  readOnly: boolean;
}

export const CanvasContext = React.createContext<CanvasContextValue>({ catalog: new Map(), readOnly: true });
