import type { ComponentChildren } from 'preact';

/** What a form shows back after a failed submit: the typed values and a message per field. */
export interface FormState {
  values: Record<string, string>;
  errors: Record<string, string>;
  /**
   * Sent back because what it changes was changed by someone else since the page was read
   * (409): nothing saved, the typing kept, the page says what is saved now.
   */
  stale?: boolean;
}

export const emptyForm = (values: Record<string, string> = {}): FormState => ({
  values,
  errors: {},
});

/**
 * A form sent back with a 409 (`FormState.stale`), holding what was typed but not the version it
 * was read at: it is shown at the saved version, so saving it again applies the typing on purpose.
 * (A form refused for its values, a 400 or a 422, keeps its version instead: corrected and saved
 * again, it is still refused if the record changed meanwhile.)
 */
export const staleForm = ({ version: _read, ...values }: Record<string, string>): FormState => ({
  values,
  errors: {},
  stale: true,
});

interface FieldProps {
  form: FormState;
  name: string;
  /** Text, or text with a part for screen readers only (which of several like fields it is). */
  label: ComponentChildren;
  hint?: string;
  /** Prefix for the element id when the same form appears more than once on a page. */
  idPrefix?: string;
  required?: boolean;
}

const fieldId = (p: FieldProps) => `${p.idPrefix ?? ''}${p.name}`;

function Label(p: FieldProps) {
  return (
    <label class="fr-label" for={fieldId(p)}>
      {p.label}
      {p.required ? <span aria-hidden="true"> *</span> : null}
      {p.hint ? <span class="fr-hint-text">{p.hint}</span> : null}
    </label>
  );
}

function ErrorText({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={`${id}-error`} class="fr-error-text">
      {message}
    </p>
  );
}

export function TextField(
  p: FieldProps & {
    type?:
      | 'text'
      | 'email'
      | 'tel'
      | 'url'
      | 'password'
      | 'date'
      | 'datetime-local'
      | 'number'
      | 'search';
    autocomplete?: string;
    inputmode?: 'numeric' | 'tel' | 'email' | 'text';
    maxLength?: number;
  },
) {
  const id = fieldId(p);
  const error = p.form.errors[p.name];
  return (
    <div class={`fr-input-group${error ? ' fr-input-group--error' : ''}`}>
      <Label {...p} />
      <input
        class={`fr-input${error ? ' fr-input--error' : ''}`}
        id={id}
        name={p.name}
        // preact types narrow `type` per input kind; the union of kinds here is safe.
        type={(p.type ?? 'text') as 'text'}
        value={p.form.values[p.name] ?? ''}
        required={p.required}
        autocomplete={p.autocomplete}
        inputMode={p.inputmode}
        maxLength={p.maxLength}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      <ErrorText id={id} message={error} />
    </div>
  );
}

export function TextArea(p: FieldProps & { rows?: number; autocomplete?: string }) {
  const id = fieldId(p);
  const error = p.form.errors[p.name];
  return (
    <div class={`fr-input-group${error ? ' fr-input-group--error' : ''}`}>
      <Label {...p} />
      <textarea
        class={`fr-input${error ? ' fr-input--error' : ''}`}
        id={id}
        name={p.name}
        rows={p.rows ?? 3}
        required={p.required}
        autocomplete={p.autocomplete}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      >
        {p.form.values[p.name] ?? ''}
      </textarea>
      <ErrorText id={id} message={error} />
    </div>
  );
}

export function SelectField(
  p: FieldProps & { options: Record<string, string>; placeholder?: string },
) {
  const id = fieldId(p);
  const error = p.form.errors[p.name];
  const current = p.form.values[p.name] ?? '';
  return (
    <div class={`fr-select-group${error ? ' fr-select-group--error' : ''}`}>
      <Label {...p} />
      <select
        class={`fr-select${error ? ' fr-select--error' : ''}`}
        id={id}
        name={p.name}
        required={p.required}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      >
        {p.placeholder !== undefined ? (
          <option value="" selected={current === ''}>
            {p.placeholder}
          </option>
        ) : null}
        {Object.entries(p.options).map(([value, label]) => (
          <option value={value} selected={value === current}>
            {label}
          </option>
        ))}
      </select>
      <ErrorText id={id} message={error} />
    </div>
  );
}

/**
 * Boxes to tick under one name; the form state holds the ticked values joined by commas. The
 * fieldset carries the field's id, so the error summary's link leads to it.
 */
export function CheckboxGroup(
  p: FieldProps & { options: Record<string, string>; inline?: boolean },
) {
  const id = fieldId(p);
  const error = p.form.errors[p.name];
  const ticked = new Set((p.form.values[p.name] ?? '').split(',').filter(Boolean));
  const element = `fr-fieldset__element${p.inline ? ' fr-fieldset__element--inline' : ''}`;
  return (
    <fieldset
      class={`fr-fieldset${error ? ' fr-fieldset--error' : ''}`}
      id={id}
      aria-labelledby={`${id}-legend`}
      aria-describedby={error ? `${id}-error` : undefined}
    >
      <legend class="fr-fieldset__legend fr-text--regular" id={`${id}-legend`}>
        {p.label}
        {p.required ? <span aria-hidden="true"> *</span> : null}
        {p.hint ? <span class="fr-hint-text">{p.hint}</span> : null}
      </legend>
      {Object.entries(p.options).map(([value, label]) => (
        <div class={element}>
          <div class="fr-checkbox-group">
            <input
              type="checkbox"
              id={`${id}-${value}`}
              name={p.name}
              value={value}
              checked={ticked.has(value)}
            />
            <label class="fr-label" for={`${id}-${value}`}>
              {label}
            </label>
          </div>
        </div>
      ))}
      {error ? (
        <p id={`${id}-error`} class="fr-error-text fr-fieldset__element">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

/** One box to tick (value "1"), ticked again when the form comes back with it ticked. */
export function Checkbox(p: FieldProps) {
  const id = fieldId(p);
  const error = p.form.errors[p.name];
  return (
    <div class={`fr-checkbox-group${error ? ' fr-checkbox-group--error' : ''}`}>
      <input
        type="checkbox"
        id={id}
        name={p.name}
        value="1"
        checked={Boolean(p.form.values[p.name])}
        aria-describedby={error ? `${id}-error` : p.hint ? `${id}-hint` : undefined}
      />
      <label class="fr-label" for={id}>
        {p.label}
        {p.hint ? (
          <span class="fr-hint-text" id={`${id}-hint`}>
            {p.hint}
          </span>
        ) : null}
      </label>
      <ErrorText id={id} message={error} />
    </div>
  );
}

export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/** The name of a creation form's one-time key field (read by `creationContext`). */
export const ONCE_KEY_FIELD = 'idempotencyKey';

/**
 * A creation form's one-time key, drawn anew each time the form is rendered: sent twice (a
 * second tap on a slow connection), the form creates once, and the second answer is the
 * first's (`features/idempotency`). Its form's submit button is also disabled after the first
 * submit (`/static/submit-once.js`), a convenience only.
 */
export function OnceKey() {
  return <input type="hidden" name={ONCE_KEY_FIELD} value={crypto.randomUUID()} />;
}

/**
 * The archive or restore button of a row of an admin list (the rights catalogue, the districts),
 * posting what `archiveForm` (web/forms.ts) reads: the row's version and which way it goes.
 */
export function ArchiveForm(p: {
  action: string;
  csrfToken: string;
  version: number;
  archived: boolean;
  name: string;
  class?: string;
}) {
  return (
    <form method="post" action={p.action}>
      <Csrf token={p.csrfToken} />
      <input type="hidden" name="version" value={String(p.version)} />
      <input type="hidden" name="archived" value={p.archived ? 'false' : 'true'} />
      <button
        type="submit"
        class={`fr-btn fr-btn--sm fr-btn--tertiary${p.class ? ` ${p.class}` : ''}`}
      >
        {p.archived ? 'Restaurer' : 'Archiver'}
        <span class="fr-sr-only"> : {p.name}</span>
      </button>
    </form>
  );
}

/**
 * Lists the form's errors above it, each linking to its field; role="alert" makes screen
 * readers announce it when the page comes back with errors, and autofocus moves the focus to
 * it (no script: the CSP allows none inline, and it works without JavaScript).
 */
export function ErrorSummary({
  form,
  labels,
  idPrefix = '',
}: {
  form: FormState;
  labels: Record<string, string>;
  idPrefix?: string;
}) {
  const entries = Object.entries(form.errors);
  if (entries.length === 0) return null;
  return (
    <div
      class="fr-alert fr-alert--error fr-mb-3w av-error-summary"
      role="alert"
      tabIndex={-1}
      autofocus
    >
      <p class="fr-alert__title">
        {entries.length > 1
          ? `Le formulaire contient ${entries.length} erreurs`
          : 'Le formulaire contient une erreur'}
      </p>
      <ul>
        {entries.map(([name, message]) => (
          <li>
            {labels[name] ? (
              <a href={`#${idPrefix}${name}`}>
                {labels[name]} : {message}
              </a>
            ) : (
              message
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * A change refused because someone saved another one first (a 409): announced and focused as
 * the error summary is, but a warning, since nothing the user typed is wrong. The form below it
 * (or the quote it holds) keeps what was typed; the caller says what is saved now.
 */
export function StaleAlert({
  title,
  heading = false,
  children,
}: {
  title: string;
  /** A heading (h2) when the alert speaks for the whole page, rather than for one of its forms. */
  heading?: boolean;
  children: ComponentChildren;
}) {
  return (
    <div class="fr-alert fr-alert--warning fr-mb-3w" role="alert" tabIndex={-1} autofocus>
      {heading ? <h2 class="fr-alert__title">{title}</h2> : <p class="fr-alert__title">{title}</p>}
      {children}
    </div>
  );
}

/**
 * A whole form sent back with a 409: the fields saved meanwhile with another value than the one
 * typed (`changed`, from changedFields in ../forms), each with its saved value and a link to the
 * field, which still holds the typing.
 */
export function StaleFormAlert({
  title,
  changed,
  labels,
  idPrefix = '',
  then = 'Vérifiez, puis enregistrez à nouveau pour appliquer vos valeurs.',
}: {
  title: string;
  changed: Record<string, string>;
  labels: Record<string, string>;
  idPrefix?: string;
  /** What to do next, when more than saving again is offered. */
  then?: string;
}) {
  const fields = Object.entries(changed);
  return (
    <StaleAlert heading title={title}>
      <p>
        Rien n’a été enregistré ; vos saisies sont conservées ci-dessous.
        {fields.length > 0
          ? ' Ces champs ont maintenant une autre valeur enregistrée que la vôtre :'
          : ' Les valeurs enregistrées entre-temps sont les mêmes que les vôtres.'}
      </p>
      {fields.length > 0 ? (
        <ul>
          {fields.map(([name, saved]) => (
            <li>
              <a href={`#${idPrefix}${name}`}>{labels[name] ?? name}</a> :{' '}
              {saved.trim() ? `« ${saved.trim()} »` : 'non renseigné'}
            </li>
          ))}
        </ul>
      ) : null}
      <p>{then}</p>
    </StaleAlert>
  );
}

export function Section({
  title,
  id,
  children,
}: {
  title: string;
  id: string;
  children: ComponentChildren;
}) {
  return (
    <section class="fr-mb-5w" aria-labelledby={id}>
      <h2 id={id} class="fr-h4">
        {title}
      </h2>
      {children}
    </section>
  );
}

/**
 * Page links for a list longer than one page (DSFR pagination), with where this page stands:
 * "1 / 3". `href` builds the address of a page; `label` names the list for screen readers.
 */
export function Pagination({
  page,
  total,
  pageSize,
  href,
  label,
}: {
  page: number;
  total: number;
  pageSize: number;
  href: (page: number) => string;
  label: string;
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (pages <= 1) return null;
  const side = 'fr-pagination__link fr-pagination__link--lg-label';
  return (
    <nav role="navigation" class="fr-pagination fr-mt-3w" aria-label={label}>
      <ul class="fr-pagination__list">
        <li>
          {page > 1 ? (
            <a class={`${side} fr-pagination__link--prev`} href={href(page - 1)}>
              Page précédente
            </a>
          ) : null}
        </li>
        <li>
          <a
            class="fr-pagination__link"
            aria-current="page"
            href={href(page)}
            title={`Page ${page} sur ${pages}`}
          >
            {page} / {pages}
          </a>
        </li>
        <li>
          {page < pages ? (
            <a class={`${side} fr-pagination__link--next`} href={href(page + 1)}>
              Page suivante
            </a>
          ) : null}
        </li>
      </ul>
    </nav>
  );
}

/** "Éléments 21 à 40 sur 57" when a list does not fit on one page, nothing otherwise. */
export function RangeNote({
  page,
  total,
  pageSize,
  shown,
  noun,
}: {
  page: number;
  total: number;
  pageSize: number;
  shown: number;
  noun: string;
}) {
  if (total <= pageSize || shown === 0) return null;
  const from = (page - 1) * pageSize + 1;
  return (
    <p class="fr-text--sm">
      {noun} {from} à {from + shown - 1} sur {total}
    </p>
  );
}
