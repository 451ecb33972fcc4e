"use client";

/**
 * A form generated from a node type's config JSON Schema: strings, texts, numbers, integers,
 * booleans, enums, lists of strings, lists of objects, nested objects, key-value maps, `oneOf`
 * variants and nullable values; a JSON editor for whatever else. Titles label the fields,
 * descriptions are hints, required fields are marked, and errors (keyed by the server's issue
 * paths, e.g. `categories[1].key`) show under their field.
 */
import { ArrowDown, ArrowUp, Plus, Trash2 } from "lucide-react";
import * as React from "react";

import { Button } from "@/components/ui/button";
import { Input, NativeSelect, Textarea } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Switch } from "@/components/ui/switch";
import { cn } from "@/lib/utils";

import {
  childPath,
  defaultValue,
  type FieldSpec,
  fieldSpec,
  formatLoose,
  humanize,
  type JsonSchema,
  matchVariant,
  parseLoose,
  resolve,
  titleOf,
} from "./schema";

/** What a text field that takes templates offers to its variable picker. */
export interface TemplateField {
  /** The DOM id of the input or textarea (to insert at its cursor). */
  id: string;
  value: string;
  onChange: (value: string) => void;
  label: string;
}

export interface SchemaFormProps {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  /** Error messages by path relative to the value, as the server writes them (`categories[1].key`). */
  errors?: Record<string, string>;
  /** Prefix of every field's DOM id; unique per form on the page. */
  idPrefix: string;
  readOnly?: boolean;
  /** Shown beside text fields marked `x-template` (the variable picker). */
  renderTemplateTools?: (field: TemplateField) => React.ReactNode;
  /** Suggestions for text fields by `x-widget` (model, tool, approvers, timezone). */
  suggestions?: Record<string, readonly string[]>;
  /**
   * The only values a field may take, by `x-widget`, each with the label people know it by: an
   * id field (credential) becomes a select of the org's records instead of a box for a UUID.
   */
  choices?: Record<string, readonly Choice[]>;
}

export interface Choice {
  value: string;
  label: string;
}

interface FormContext {
  root: JsonSchema;
  errors: Record<string, string>;
  idPrefix: string;
  renderTemplateTools?: (field: TemplateField) => React.ReactNode;
  suggestions: Record<string, readonly string[]>;
  choices: Record<string, readonly Choice[]>;
}

const Context = React.createContext<FormContext | null>(null);

function useForm(): FormContext {
  const context = React.useContext(Context);
  if (!context) throw new Error("SchemaForm fields must be inside SchemaForm");
  return context;
}

/** Enough rows for the text (wrapped at ~48 characters), between 3 and 14. */
function textRows(text: string): number {
  const lines = text.split("\n").reduce((count, line) => count + Math.max(1, Math.ceil(line.length / 48)), 0);
  return Math.min(14, Math.max(3, lines + 1));
}

const NO_OPTIONS = {};

export function fieldDomId(prefix: string, path: string): string {
  return `${prefix}-${path.replaceAll(/[^A-Za-z0-9_-]+/g, "-")}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function SchemaForm({
  schema,
  value,
  onChange,
  errors = {},
  idPrefix,
  readOnly = false,
  renderTemplateTools,
  suggestions = NO_OPTIONS,
  choices = NO_OPTIONS,
}: SchemaFormProps) {
  const context = React.useMemo<FormContext>(
    () => ({ root: schema, errors, idPrefix, renderTemplateTools, suggestions, choices }),
    [schema, errors, idPrefix, renderTemplateTools, suggestions, choices],
  );
  const root = resolve(schema, schema);
  return (
    <Context.Provider value={context}>
      <fieldset disabled={readOnly} className="m-0 grid min-w-0 grid-cols-1 gap-4 border-0 p-0">
        {Object.keys(root.properties ?? {}).length === 0 ? (
          <p className="text-sm text-muted-foreground">This node has no settings.</p>
        ) : (
          <ObjectFields schema={root} value={value} onChange={onChange} path="" />
        )}
      </fieldset>
    </Context.Provider>
  );
}

function ObjectFields({
  schema,
  value,
  onChange,
  path,
}: {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  path: string;
}) {
  const required = new Set(schema.required ?? []);
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([key, property]) => (
        <SchemaField
          key={key}
          name={key}
          schema={property}
          required={required.has(key)}
          path={childPath(path, key)}
          value={value[key]}
          onChange={(next) => {
            const copy = { ...value };
            if (next === undefined) delete copy[key];
            else copy[key] = next;
            onChange(copy);
          }}
        />
      ))}
    </>
  );
}

interface FieldProps {
  name: string;
  schema: JsonSchema;
  required: boolean;
  path: string;
  value: unknown;
  onChange: (value: unknown) => void;
  /** Overrides the schema title (list items: "Category 2"). */
  label?: string;
}

function SchemaField(fieldProps: FieldProps) {
  const { root } = useForm();
  const spec = fieldSpec(fieldProps.schema, root);
  // The title written on the property itself, else its name: a `$ref` target's title is its class
  // name ("ConditionGroup"), not what the field is called.
  const props = { ...fieldProps, label: fieldProps.label ?? fieldProps.schema.title ?? humanize(fieldProps.name) };
  switch (spec.kind) {
    case "const":
      return null;
    case "boolean":
      return <BooleanField {...props} spec={spec} />;
    case "object":
      return <ObjectField {...props} spec={spec} />;
    case "item-list":
      return <ItemListField {...props} spec={spec} />;
    case "string-list":
      return <StringListField {...props} spec={spec} />;
    case "key-value":
      return <KeyValueField {...props} spec={spec} />;
    case "union":
      return <UnionField {...props} spec={spec} />;
    case "json":
      return <JsonField {...props} spec={spec} />;
    default:
      return <ScalarField {...props} spec={spec} />;
  }
}

type SpecProps = FieldProps & { spec: FieldSpec };

function RequiredMark() {
  return (
    <span aria-hidden className="ml-0.5 text-destructive">
      *
    </span>
  );
}

/** Label, tools beside the label, the control, then its hint or error. */
function FieldShell({
  id,
  label,
  required,
  hint,
  error,
  tools,
  children,
}: {
  id: string;
  label: string;
  required: boolean;
  hint?: string;
  error?: string;
  tools?: React.ReactNode;
  children: React.ReactNode;
}) {
  return (
    <div className="grid min-w-0 grid-cols-1 gap-1.5" data-field={id}>
      <div className="flex min-h-5 items-center justify-between gap-2">
        <span className="flex items-baseline">
          <Label htmlFor={id}>{label}</Label>
          {required && <RequiredMark />}
        </span>
        {tools}
      </div>
      {children}
      <FieldMessage id={id} hint={hint} error={error} />
    </div>
  );
}

function describedBy(id: string, hint: string | undefined, error: string | undefined): string | undefined {
  if (error) return `${id}-error`;
  return hint ? `${id}-hint` : undefined;
}

function ScalarField({ name, required, path, value, onChange, spec, label }: SpecProps) {
  const { errors, idPrefix, renderTemplateTools, suggestions, choices } = useForm();
  const schema = spec.schema;
  const id = fieldDomId(idPrefix, path);
  const title = label ?? titleOf(schema, name);
  const error = errors[path];
  const hint = schema.description;
  const aria = {
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy(id, hint, error),
    "aria-required": required || undefined,
  } as const;
  const widget = schema["x-widget"];
  const listId = widget && suggestions[widget]?.length ? `${idPrefix}-suggest-${widget}` : undefined;

  let control: React.ReactNode;
  let textValue: string | null = null;
  let setText: ((text: string) => void) | null = null;

  switch (spec.kind) {
    case "enum": {
      const options = schema.enum ?? [];
      const current = options.findIndex((option) => option === value);
      control = (
        <NativeSelect
          id={id}
          value={current < 0 ? "" : String(current)}
          onChange={(event) => {
            const index = event.target.value;
            onChange(index === "" ? (spec.nullable ? null : undefined) : options[Number(index)]);
          }}
          {...aria}
        >
          {(current < 0 || !required || spec.nullable) && <option value="">—</option>}
          {options.map((option, index) => (
            <option key={String(option)} value={String(index)}>
              {typeof option === "string" ? humanize(option) : JSON.stringify(option)}
            </option>
          ))}
        </NativeSelect>
      );
      break;
    }
    case "number":
    case "integer":
      control = (
        <NumberInput
          id={id}
          value={typeof value === "number" ? value : null}
          integer={spec.kind === "integer"}
          min={schema.minimum}
          max={schema.maximum}
          placeholder={schema.default !== undefined && schema.default !== null ? String(schema.default) : undefined}
          onChange={(number) => onChange(number === null ? (spec.nullable ? null : undefined) : number)}
          aria={aria}
        />
      );
      break;
    case "text":
    case "string": {
      const options = spec.kind === "string" && widget ? choices[widget] : undefined;
      if (options) {
        control = (
          <ChoiceSelect
            id={id}
            value={typeof value === "string" ? value : ""}
            options={options}
            allowNone={!required || spec.nullable}
            onChange={(choice) => onChange(choice === "" ? (spec.nullable ? null : undefined) : choice)}
            aria={aria}
          />
        );
        break;
      }
      textValue = typeof value === "string" ? value : "";
      setText = (text) => onChange(text === "" && spec.nullable ? null : text);
      const multiline = spec.kind === "text";
      control = multiline ? (
        <Textarea
          id={id}
          value={textValue}
          onChange={(event) => setText?.(event.target.value)}
          rows={textRows(textValue)}
          className={cn("resize-y", widget === "code" && "font-mono text-xs")}
          spellCheck={widget !== "code"}
          {...aria}
        />
      ) : (
        <Input
          id={id}
          value={textValue}
          onChange={(event) => setText?.(event.target.value)}
          list={listId}
          className={cn(schema["x-template"] && "font-mono text-xs")}
          autoComplete="off"
          {...aria}
        />
      );
      break;
    }
    default: {
      // Any JSON value (a switch case's `equals`, a condition's `right`): text, or JSON read as JSON.
      textValue = formatLoose(value);
      setText = (text) =>
        onChange(text === "" ? (spec.nullable || value === null ? null : undefined) : parseLoose(text));
      control = (
        <Input
          id={id}
          value={textValue}
          onChange={(event) => setText?.(event.target.value)}
          className="font-mono text-xs"
          autoComplete="off"
          {...aria}
        />
      );
    }
  }

  const tools =
    schema["x-template"] && renderTemplateTools && textValue !== null && setText
      ? renderTemplateTools({ id, value: textValue, onChange: setText, label: title })
      : null;

  return (
    <FieldShell
      id={id}
      label={title}
      required={required}
      hint={spec.kind === "any" ? (hint ?? "Text, or JSON (numbers, true/false, lists).") : hint}
      error={error}
      tools={tools}
    >
      {control}
      {listId && (
        <datalist id={listId}>
          {suggestions[widget as string]?.map((option) => (
            <option key={option} value={option} />
          ))}
        </datalist>
      )}
    </FieldShell>
  );
}

/** Under a field: its error if it has one, else its hint (ids as `describedBy` names them). */
function FieldMessage({ id, hint, error }: { id: string; hint?: string; error?: string }) {
  if (error) {
    return (
      <p id={`${id}-error`} role="alert" className="text-xs font-medium text-destructive">
        {error}
      </p>
    );
  }
  return hint ? (
    <p id={`${id}-hint`} className="text-xs text-muted-foreground">
      {hint}
    </p>
  ) : null;
}

function ChoiceSelect({
  id,
  value,
  options,
  allowNone,
  onChange,
  aria,
}: {
  id: string;
  value: string;
  options: readonly Choice[];
  allowNone: boolean;
  onChange: (value: string) => void;
  aria: React.AriaAttributes;
}) {
  // A value that is not among the choices (a deleted credential, one made in another org and
  // imported) stays visible as such instead of silently showing the first option.
  const known = value === "" || options.some((option) => option.value === value);
  return (
    <NativeSelect id={id} value={value} onChange={(event) => onChange(event.target.value)} {...aria}>
      {(allowNone || value === "") && <option value="">{options.length === 0 ? "None available" : "—"}</option>}
      {!known && <option value={value}>Not found ({value.slice(0, 8)}…)</option>}
      {options.map((option) => (
        <option key={option.value} value={option.value}>
          {option.label}
        </option>
      ))}
    </NativeSelect>
  );
}

function NumberInput({
  id,
  value,
  integer,
  min,
  max,
  placeholder,
  onChange,
  aria,
}: {
  id: string;
  value: number | null;
  integer: boolean;
  min?: number;
  max?: number;
  placeholder?: string;
  onChange: (value: number | null) => void;
  aria: Record<string, unknown>;
}) {
  // Local text, so "0." or "-" can be typed on the way to a number; it follows outside changes.
  const [text, setText] = React.useState(value === null ? "" : String(value));
  const [last, setLast] = React.useState<number | null>(value);
  if (value !== last) {
    setLast(value);
    setText(value === null ? "" : String(value));
  }
  return (
    <Input
      id={id}
      type="number"
      inputMode={integer ? "numeric" : "decimal"}
      step={integer ? 1 : "any"}
      min={min}
      max={max}
      placeholder={placeholder}
      value={text}
      onChange={(event) => {
        const raw = event.target.value;
        setText(raw);
        const number = raw.trim() === "" ? null : Number(raw);
        if (number !== null && !Number.isFinite(number)) return;
        const next = number === null || !integer ? number : Math.trunc(number);
        setLast(next);
        onChange(next);
      }}
      {...aria}
    />
  );
}

function BooleanField({ name, required, path, value, onChange, spec, label }: SpecProps) {
  const { errors, idPrefix } = useForm();
  const id = fieldDomId(idPrefix, path);
  const error = errors[path];
  const hint = spec.schema.description;
  const checked = typeof value === "boolean" ? value : spec.schema.default === true;
  return (
    <div className="grid grid-cols-1 gap-1.5">
      <div className="flex items-center justify-between gap-3">
        <span className="flex items-baseline">
          <Label htmlFor={id}>{label ?? titleOf(spec.schema, name)}</Label>
          {required && <RequiredMark />}
        </span>
        <Switch
          id={id}
          checked={checked}
          onCheckedChange={(next) => onChange(next)}
          aria-describedby={describedBy(id, hint, error)}
          aria-invalid={error ? true : undefined}
        />
      </div>
      <FieldMessage id={id} hint={hint} error={error} />
    </div>
  );
}

/** A titled group of fields: nested objects, list items, variants. */
function Group({
  id,
  title,
  required,
  hint,
  error,
  actions,
  children,
  className,
}: {
  id: string;
  title: string;
  required: boolean;
  hint?: string;
  error?: string;
  actions?: React.ReactNode;
  children: React.ReactNode;
  className?: string;
}) {
  return (
    <fieldset
      className={cn(
        "m-0 grid min-w-0 grid-cols-1 gap-3 rounded-lg border p-3",
        error && "border-destructive",
        className,
      )}
      aria-describedby={describedBy(id, hint, error)}
      data-field={id}
    >
      <legend className="sr-only">{title}</legend>
      <div className="flex items-center justify-between gap-2" aria-hidden>
        <span className="text-sm font-medium">
          {title}
          {required && <RequiredMark />}
        </span>
        {actions}
      </div>
      {hint && !error && (
        <p id={`${id}-hint`} className="-mt-2 text-xs text-muted-foreground">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} role="alert" className="-mt-2 text-xs font-medium text-destructive">
          {error}
        </p>
      )}
      {children}
    </fieldset>
  );
}

function ObjectField({ name, required, path, value, onChange, spec, label }: SpecProps) {
  const { errors, idPrefix } = useForm();
  const id = fieldDomId(idPrefix, path);
  const object = isPlainObject(value) ? value : {};
  return (
    <Group
      id={id}
      title={label ?? titleOf(spec.schema, name)}
      required={required}
      hint={spec.schema.description}
      error={errors[path]}
    >
      <ObjectFields schema={spec.schema} value={object} onChange={onChange} path={path} />
    </Group>
  );
}

function singular(title: string): string {
  if (/ies$/i.test(title)) return title.replace(/ies$/i, "y");
  if (/sses$/i.test(title)) return title.slice(0, -2);
  if (/s$/i.test(title) && !/ss$/i.test(title)) return title.slice(0, -1);
  return title;
}

function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  const copy = items.slice();
  const [item] = copy.splice(from, 1);
  if (item !== undefined) copy.splice(to, 0, item);
  return copy;
}

function ItemListField({ name, required, path, value, onChange, spec, label }: SpecProps) {
  const { errors, idPrefix, root } = useForm();
  const id = fieldDomId(idPrefix, path);
  const items = Array.isArray(value) ? value : [];
  const title = label ?? titleOf(spec.schema, name);
  const itemName = singular(title);
  const max = spec.schema.maxItems;
  return (
    <Group
      id={id}
      title={title}
      required={required}
      hint={spec.schema.description}
      error={errors[path]}
      className="bg-muted/20"
    >
      {items.length === 0 && <p className="text-xs text-muted-foreground">None yet.</p>}
      {items.map((item, index) => {
        const itemPath = childPath(path, index);
        const itemLabel = `${itemName} ${index + 1}`;
        return (
          <div
            key={index}
            className="grid grid-cols-1 gap-2 rounded-md border bg-card p-3"
            data-field={fieldDomId(idPrefix, itemPath)}
          >
            <div className="flex items-center justify-between gap-2">
              <span className="text-xs font-semibold text-muted-foreground">{itemLabel}</span>
              <div className="flex items-center gap-0.5">
                <Button
                  type="button"
                  variant="ghost"
                  size="icon-sm"
                  aria-label={`Move ${itemLabel} up`}
                  disabled={index === 0}
                  onClick={() => onChange(moveItem(items, index, index - 1))}
                >
                  <ArrowUp />
                </Button>
                <Button
                  type="button"
                  variant="ghost"
                  size="icon-sm"
                  aria-label={`Move ${itemLabel} down`}
                  disabled={index === items.length - 1}
                  onClick={() => onChange(moveItem(items, index, index + 1))}
                >
                  <ArrowDown />
                </Button>
                <Button
                  type="button"
                  variant="ghost"
                  size="icon-sm"
                  aria-label={`Remove ${itemLabel}`}
                  onClick={() => onChange(items.filter((_, other) => other !== index))}
                >
                  <Trash2 />
                </Button>
              </div>
            </div>
            {errors[itemPath] && (
              <p role="alert" className="text-xs font-medium text-destructive">
                {errors[itemPath]}
              </p>
            )}
            <ItemBody
              schema={spec.schema.items ?? {}}
              path={itemPath}
              value={item}
              onChange={(next) => onChange(items.map((other, position) => (position === index ? next : other)))}
            />
          </div>
        );
      })}
      <Button
        type="button"
        variant="outline"
        size="sm"
        className="justify-self-start"
        disabled={max !== undefined && items.length >= max}
        onClick={() => onChange([...items, defaultValue(spec.schema.items, root, true)])}
      >
        <Plus aria-hidden />
        Add {itemName.toLowerCase()}
      </Button>
    </Group>
  );
}

/** A list item's fields, without a second frame around them. */
function ItemBody({
  schema,
  path,
  value,
  onChange,
}: {
  schema: JsonSchema;
  path: string;
  value: unknown;
  onChange: (value: unknown) => void;
}) {
  const { root } = useForm();
  const spec = fieldSpec(schema, root);
  if (spec.kind === "object") {
    return (
      <ObjectFields schema={spec.schema} value={isPlainObject(value) ? value : {}} onChange={onChange} path={path} />
    );
  }
  if (spec.kind === "union") return <VariantBody spec={spec} path={path} value={value} onChange={onChange} />;
  return <SchemaField name="value" schema={schema} required path={path} value={value} onChange={onChange} />;
}

function variantTitle(variant: JsonSchema, index: number): string {
  if (!variant.title) return `Option ${index + 1}`;
  // Pydantic names variants by class: "ConditionGroup" → "Condition group".
  const words = variant.title.replaceAll(/([a-z])([A-Z])/g, "$1 $2");
  return humanize(words.toLowerCase());
}

function VariantBody({
  spec,
  path,
  value,
  onChange,
}: {
  spec: FieldSpec;
  path: string;
  value: unknown;
  onChange: (value: unknown) => void;
}) {
  const { root, idPrefix } = useForm();
  const variants = (spec.variants ?? []).map((variant) => resolve(variant, root));
  const selected = matchVariant(variants, value, root);
  const variant = variants[selected] ?? {};
  const id = fieldDomId(idPrefix, `${path}.__variant`);
  return (
    <>
      <div className="grid grid-cols-1 gap-1.5">
        <Label htmlFor={id}>Kind</Label>
        <NativeSelect
          id={id}
          value={String(selected)}
          onChange={(event) => {
            const next = variants[Number(event.target.value)];
            onChange(defaultValue(next, root, true));
          }}
        >
          {variants.map((option, index) => (
            <option key={index} value={String(index)}>
              {variantTitle(option, index)}
            </option>
          ))}
        </NativeSelect>
      </div>
      <ObjectFields schema={variant} value={isPlainObject(value) ? value : {}} onChange={onChange} path={path} />
    </>
  );
}

function UnionField({ name, required, path, value, onChange, spec, label }: SpecProps) {
  const { errors, idPrefix } = useForm();
  const id = fieldDomId(idPrefix, path);
  return (
    <Group
      id={id}
      title={label ?? titleOf(spec.schema, name)}
      required={required}
      hint={spec.schema.description}
      error={errors[path]}
    >
      <VariantBody spec={spec} path={path} value={value} onChange={onChange} />
    </Group>
  );
}

function StringListField({ name, required, path, value, onChange, spec, label }: SpecProps) {
  const { errors, idPrefix, suggestions } = useForm();
  const id = fieldDomId(idPrefix, path);
  const items = Array.isArray(value) ? value.map((item) => (typeof item === "string" ? item : String(item))) : [];
  const title = label ?? titleOf(spec.schema, name);
  const error = errors[path];
  const hint = spec.schema.description;
  const widget = spec.schema["x-widget"];
  const listId = widget && suggestions[widget]?.length ? `${idPrefix}-suggest-${widget}` : undefined;
  const max = spec.schema.maxItems;
  const rows = items.length === 0 ? [""] : items;
  return (
    <FieldShell id={id} label={title} required={required} hint={hint} error={error}>
      <div className="grid grid-cols-1 gap-1.5">
        {rows.map((item, index) => (
          <div key={index} className="flex items-center gap-1.5">
            <Input
              id={index === 0 ? id : `${id}-${index}`}
              aria-label={index === 0 ? undefined : `${title} ${index + 1}`}
              value={item}
              list={listId}
              autoComplete="off"
              aria-invalid={errors[childPath(path, index)] || error ? true : undefined}
              aria-describedby={index === 0 ? describedBy(id, hint, error) : undefined}
              onChange={(event) => {
                const next = rows.slice();
                next[index] = event.target.value;
                onChange(items.length === 0 && event.target.value === "" ? [] : next);
              }}
            />
            <Button
              type="button"
              variant="ghost"
              size="icon-sm"
              aria-label={`Remove ${title} ${index + 1}`}
              disabled={items.length === 0}
              onClick={() => onChange(items.filter((_, other) => other !== index))}
            >
              <Trash2 />
            </Button>
          </div>
        ))}
        <Button
          type="button"
          variant="outline"
          size="sm"
          className="justify-self-start"
          disabled={(max !== undefined && items.length >= max) || (items.length > 0 && items[items.length - 1] === "")}
          onClick={() => onChange([...items, ""])}
        >
          <Plus aria-hidden />
          Add {singular(title).toLowerCase()}
        </Button>
      </div>
      {listId && (
        <datalist id={listId}>
          {suggestions[widget as string]?.map((option) => (
            <option key={option} value={option} />
          ))}
        </datalist>
      )}
    </FieldShell>
  );
}

interface Row {
  key: string;
  text: string;
}

function rowsOf(value: unknown): Row[] {
  return isPlainObject(value) ? Object.entries(value).map(([key, item]) => ({ key, text: formatLoose(item) })) : [];
}

function objectOf(rows: readonly Row[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const row of rows) if (row.key !== "") out[row.key] = parseLoose(row.text);
  return out;
}

function KeyValueField({ name, required, path, value, onChange, spec, label }: SpecProps) {
  const { errors, idPrefix, renderTemplateTools } = useForm();
  const id = fieldDomId(idPrefix, path);
  const title = label ?? titleOf(spec.schema, name);
  const error = errors[path];
  // Rows live locally (a half-typed key must not vanish); they follow the value when it changes
  // from outside (undo, reload).
  const initialRows = (input: unknown) => {
    const found = rowsOf(input);
    return found.length === 0 && required ? [{ key: "", text: "" }] : found;
  };
  const [rows, setRows] = React.useState<Row[]>(() => initialRows(value));
  const [emitted, setEmitted] = React.useState<unknown>(value);
  if (value !== emitted) {
    setEmitted(value);
    setRows(initialRows(value));
  }
  const update = (next: Row[]) => {
    setRows(next);
    const object = objectOf(next);
    setEmitted(object);
    onChange(object);
  };
  return (
    <FieldShell
      id={`${id}-key-0`}
      label={title}
      required={required}
      hint={spec.schema.description ?? "Values: text, or JSON (numbers, true/false, lists)."}
      error={error}
    >
      <div className="grid grid-cols-1 gap-1.5" id={id}>
        {rows.map((row, index) => {
          const valueId = `${id}-value-${index}`;
          return (
            <div key={index} className="grid grid-cols-[minmax(0,2fr)_minmax(0,3fr)_auto] items-start gap-1.5">
              <Input
                id={`${id}-key-${index}`}
                aria-label={index === 0 ? undefined : `${title} name ${index + 1}`}
                placeholder="name"
                value={row.key}
                className="font-mono text-xs"
                autoComplete="off"
                aria-invalid={errors[childPath(path, row.key)] ? true : undefined}
                onChange={(event) =>
                  update(
                    rows.map((other, position) => (position === index ? { ...other, key: event.target.value } : other)),
                  )
                }
              />
              <div className="flex min-w-0 items-center gap-1">
                <Input
                  id={valueId}
                  aria-label={`${title} value ${index + 1}`}
                  placeholder="value"
                  value={row.text}
                  className="font-mono text-xs"
                  autoComplete="off"
                  onChange={(event) =>
                    update(
                      rows.map((other, position) =>
                        position === index ? { ...other, text: event.target.value } : other,
                      ),
                    )
                  }
                />
                {spec.schema["x-template"] &&
                  renderTemplateTools?.({
                    id: valueId,
                    value: row.text,
                    label: `${title} value ${index + 1}`,
                    onChange: (text) =>
                      update(rows.map((other, position) => (position === index ? { ...other, text } : other))),
                  })}
              </div>
              <Button
                type="button"
                variant="ghost"
                size="icon-sm"
                aria-label={`Remove ${title} ${index + 1}`}
                onClick={() => update(rows.filter((_, other) => other !== index))}
              >
                <Trash2 />
              </Button>
            </div>
          );
        })}
        <Button
          type="button"
          variant="outline"
          size="sm"
          className="justify-self-start"
          onClick={() => setRows([...rows, { key: "", text: "" }])}
        >
          <Plus aria-hidden />
          Add {singular(title).toLowerCase()}
        </Button>
      </div>
    </FieldShell>
  );
}

function JsonField({ name, required, path, value, onChange, spec, label }: SpecProps) {
  const { errors, idPrefix } = useForm();
  const id = fieldDomId(idPrefix, path);
  const title = label ?? titleOf(spec.schema, name);
  const serverError = errors[path];
  const format = (input: unknown) => (input === undefined || input === null ? "" : JSON.stringify(input, null, 2));
  const [text, setText] = React.useState(() => format(value));
  const [emitted, setEmitted] = React.useState<unknown>(value);
  const [parseError, setParseError] = React.useState<string | null>(null);
  if (value !== emitted) {
    setEmitted(value);
    setText(format(value));
    setParseError(null);
  }
  const error = parseError ?? serverError;
  const hint = spec.schema.description ? `${spec.schema.description} (JSON)` : "JSON";
  return (
    <FieldShell id={id} label={title} required={required} hint={hint} error={error ?? undefined}>
      <Textarea
        id={id}
        value={text}
        spellCheck={false}
        rows={Math.min(16, Math.max(4, text.split("\n").length + 1))}
        className="resize-y font-mono text-xs"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error ?? undefined)}
        aria-required={required || undefined}
        onChange={(event) => {
          const next = event.target.value;
          setText(next);
          if (next.trim() === "") {
            setParseError(null);
            const empty = spec.nullable ? null : undefined;
            setEmitted(empty);
            onChange(empty);
            return;
          }
          try {
            const parsed = JSON.parse(next) as unknown;
            setParseError(null);
            setEmitted(parsed);
            onChange(parsed);
          } catch (caught) {
            setParseError(`Not valid JSON yet: ${caught instanceof Error ? caught.message : "check the syntax"}`);
          }
        }}
      />
    </FieldShell>
  );
}
