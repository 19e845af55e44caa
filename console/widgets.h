/* Modal dialogs over the console's main screen, each an ncurses panel
 * centred on the terminal (re-centred on resize): message boxes, yes/no
 * questions, one-line input, a list to choose from, forms (wizard pages,
 * settings editors), a file browser, and a progress box. Each waits with
 * con_getkey, so the VM list behind stays live, and answers Esc as Cancel.
 * Keys: Tab/Shift-Tab and Up/Down move between fields and buttons, Enter
 * presses the focused button (on a field: the default button), Space
 * toggles a check box, Left/Right change a choice; mouse clicks on fields
 * and buttons where the terminal reports them. */
#ifndef OSIO_CONSOLE_WIDGETS_H
#define OSIO_CONSOLE_WIDGETS_H

#include <stdbool.h>
#include <stddef.h>

struct console;

/* A message (wrapped to the box, which fits the terminal) with an OK
 * button. */
void dlg_message(struct console *con, const char *title, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A question: true when the user chose yes_label (e.g. "Delete"); the
 * default (Enter at once) is No/Cancel. */
bool dlg_confirm(struct console *con, const char *title, const char *yes_label, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));
/* Picks one of items[0..n) (a scrolling list; typing a letter jumps to the
 * next item starting with it). Returns the index or -1 (cancelled). */
int dlg_choose(struct console *con, const char *title, const char *text, const char *const *items,
	       unsigned n, int initial);

/* Checks a value as it is accepted: 0, or non-zero with a sentence in why
 * (shown under the field; the dialog stays open). */
typedef int (*dlg_check_fn)(const char *value, char *why, size_t whylen, void *opaque);

/* One line of text, edited in buf (size bytes, kept NUL-terminated; the
 * old content is the starting value). true on OK (check passed), false on
 * Cancel (buf is then as it was). */
bool dlg_input(struct console *con, const char *title, const char *prompt, char *buf, size_t size,
	       dlg_check_fn check, void *opaque);

/* A file browser: folders first, then files matching patterns (a
 * comma-separated list of fnmatch patterns like "*.iso,*.img"; NULL all),
 * hidden files only when the user presses '.', Backspace to the parent
 * folder, a path typed directly ('/' or '~' starts it). dirs_only picks a
 * folder; allow_new accepts a name that does not exist yet (a new disk's
 * location). start: a folder or a file in it (NULL: the current folder).
 * true with the absolute path in out. */
bool dlg_file(struct console *con, const char *title, const char *start, const char *patterns,
	      bool dirs_only, bool allow_new, char *out, size_t outlen);

enum field_type {
	FIELD_LABEL,  /* text only (label), not focusable */
	FIELD_TEXT,   /* one line edited in buf */
	FIELD_CHOICE, /* one of items[0..nitems), index in *choice */
	FIELD_CHECK,  /* a check box, *check */
	FIELD_FILE,   /* a path edited in buf, with a [Browse] that opens dlg_file */
	FIELD_RADIO,  /* like CHOICE, but every item shown on a line of its own */
};

struct field {
	enum field_type type;
	const char *label; /* shown left of the field ("Memory:"), or the text of a LABEL */
	char *buf;	   /* TEXT, FILE: the value, edited in place */
	size_t size;
	const char *const *items; /* CHOICE, RADIO */
	unsigned nitems;
	int *choice;
	bool *check;		 /* CHECK */
	const char *patterns;	 /* FILE: as dlg_file */
	bool dirs_only, allow_new; /* FILE: as dlg_file */
	dlg_check_fn check_fn;	 /* TEXT, FILE: checked when focus leaves it (may be NULL) */
	void *check_opaque;
	const char *help; /* one line shown at the bottom while focused (may be NULL) */
	bool disabled;	  /* drawn dim, skipped by focus */
	bool hidden;	  /* not drawn at all */
};

struct form {
	const char *title;
	const char *text; /* a paragraph above the fields (may be NULL) */
	struct field *fields;
	unsigned nfields;
	const char *const *buttons; /* e.g. {"< Back", "Next >", "Finish", "Cancel"} */
	unsigned nbuttons;
	int default_button; /* Enter on a field presses it */
	int cancel_button;  /* Esc presses it; -1: Esc returns -1 */
	/* Called when a button other than cancel_button is pressed: 0 closes
	 * the form with that button; non-zero keeps it open with why shown as
	 * an error and focus moved to field *bad (when >= 0). May be NULL. */
	int (*validate)(struct form *f, int button, char *why, size_t whylen, int *bad,
			void *opaque);
	/* Called after a field's value changed (to enable, disable, hide or
	 * fill others). May be NULL. */
	void (*changed)(struct form *f, int field, void *opaque);
	void *opaque;
	int width; /* wanted width of the box, 0 for the default (up to 76 columns) */
};

/* Shows the form until a button closes it: returns the button's index, or
 * -1 on Esc when cancel_button is -1. Field values are edited in place
 * (a form that is cancelled leaves what was typed: callers that care keep
 * a copy). */
int dlg_form(struct console *con, struct form *f);

/* A box with a bar (fraction 0..1) or a spinner (fraction < 0) and a line
 * of text; drawn at once, updated by dlg_progress_set (which also lets the
 * screen redraw). The caller keeps the loop running (con_getkey_timeout).
 */
struct dlg_progress;
struct dlg_progress *dlg_progress_open(struct console *con, const char *title, const char *text);
void dlg_progress_set(struct dlg_progress *p, double fraction, const char *text);
void dlg_progress_close(struct dlg_progress *p);

/* Wraps text to width columns (UTF-8 aware, breaking at spaces, honouring
 * '\n') into at most max lines of lines[i] (each at most 255 bytes).
 * Returns the number of lines. For dialogs and the screen. */
unsigned wrap_text(const char *text, int width, char lines[][256], unsigned max);

#endif
